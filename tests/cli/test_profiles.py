"""Profiles: more than one login for the same method and provider, chosen by --profile, QWEN_PROFILE, a
trusted folder's auth.profile or `qwen auth switch`. Every test runs `qwen` as a subprocess against loopback
stubs that record which key arrived."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from qwen_cli.settings import read_toml
from tests.auth.helpers import read_creds, seed_oauth
from tests.helpers import run_qwen
from tests.servers.openai_stub import OpenAIStub

HOME_KEY = "sk-HOMEKEY-CANARY-5b7d9f1a3c"
WORK_KEY = "sk-WORKKEY-CANARY-2e4a6c8e0b"


@pytest.fixture
def keys_server(openai_server):
    openai_server.accept_tokens = {HOME_KEY, WORK_KEY}
    return openai_server


def _login(server, key: str, *extra: str) -> None:
    args = ["auth", "login", "--provider", "custom", "--base-url", server.url, "--model", "test-model", "--key-stdin"]
    result = run_qwen([*args, *extra], input=key)
    assert result.exit_code == 0, result.stderr
    _no_key(result)


def _no_key(result) -> None:
    for key in (HOME_KEY, WORK_KEY):
        assert key not in result.output and key[-10:] not in result.output
    assert "Traceback" not in result.output


def _sent(server, args: list[str], env: dict | None = None, cwd: Path | None = None) -> str:
    """The key the stub received for `qwen ask ARGS hi`."""
    before = len(server.chat_requests)
    result = run_qwen(["ask", *args, "hi"], env=env, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    _no_key(result)
    assert len(server.chat_requests) == before + 1
    return server.chat_requests[-1].bearer


def _two_profiles(server) -> None:
    _login(server, HOME_KEY)
    _login(server, WORK_KEY, "--profile", "work")


def _status(*args: str, env: dict | None = None, cwd: Path | None = None) -> dict:
    result = run_qwen(["auth", "status", "--json", *args], env=env, cwd=cwd)
    assert result.exit_code == 0, result.stderr
    _no_key(result)
    return json.loads(result.stdout)


def test_two_keys_for_one_provider_each_sent_by_its_profile(isolated, keys_server):
    _two_profiles(keys_server)
    stored = (isolated.qwen_home / "credentials.toml").read_text()
    assert "[api-key.custom]" in stored and '[api-key."custom@work"]' in stored  # the default: as before

    assert _sent(keys_server, []) == HOME_KEY  # a login under a profile does not change the active one
    assert _sent(keys_server, ["--profile", "work"]) == WORK_KEY
    assert _sent(keys_server, [], env={"QWEN_PROFILE": "work"}) == WORK_KEY
    assert _sent(keys_server, ["--profile", "default"], env={"QWEN_PROFILE": "work"}) == HOME_KEY  # flag > env

    token = run_qwen(["auth", "token", "--profile", "work"])
    assert token.exit_code == 0 and token.stdout == WORK_KEY + "\n"
    assert json.loads(run_qwen(["auth", "token", "--json"]).stdout)["profile"] == "default"


def test_switch_makes_a_profile_the_default_and_back(isolated, keys_server):
    _two_profiles(keys_server)
    switched = run_qwen(["auth", "switch", "work"])
    assert switched.exit_code == 0, switched.stderr
    assert "Switched to the profile work" in switched.stderr
    assert _sent(keys_server, []) == WORK_KEY
    assert _sent(keys_server, [], env={"QWEN_PROFILE": "default"}) == HOME_KEY  # env > the switched default
    assert run_qwen(["auth", "switch", "default"]).exit_code == 0
    assert _sent(keys_server, []) == HOME_KEY
    assert "profile" not in (isolated.qwen_home / "config.toml").read_text()


def test_a_trusted_folder_is_bound_to_its_profile_an_untrusted_one_is_not(isolated, keys_server):
    _two_profiles(keys_server)
    project = isolated.work / "client"
    (project / ".qwen").mkdir(parents=True)
    (project / ".qwen" / "config.toml").write_text('[auth]\nprofile = "work"\n')

    untrusted = run_qwen(["ask", "hi"], cwd=project)
    assert untrusted.exit_code == 0, untrusted.stderr
    assert keys_server.chat_requests[-1].bearer == HOME_KEY  # routing from an untrusted folder is ignored
    warning = [line for line in untrusted.stderr.splitlines() if "auth.profile" in line]
    assert len(warning) == 1 and "not trusted" in warning[0] and f"qwen trust {project}" in warning[0]

    assert run_qwen(["trust", str(project)]).exit_code == 0
    trusted = run_qwen(["ask", "hi"], cwd=project)
    assert trusted.exit_code == 0 and "auth.profile" not in trusted.stderr
    assert keys_server.chat_requests[-1].bearer == WORK_KEY
    assert _sent(keys_server, [], env={"QWEN_PROFILE": "default"}, cwd=project) == HOME_KEY  # env > binding
    assert _sent(keys_server, []) == HOME_KEY  # outside the folder: the default
    status = _status(cwd=project)
    assert status["profile"]["name"] == "work" and status["profile"]["reason"].startswith("project:")


def test_status_lists_every_profile_and_why_one_is_active(isolated, keys_server):
    _two_profiles(keys_server)
    verified = run_qwen(["auth", "status", "--verify", "--profile", "work"])
    assert verified.exit_code == 0, verified.stderr

    status = _status()
    assert status["profiles"] == ["default", "work"]
    assert status["profile"] == {"name": "default", "reason": "default", "why": "no other was chosen"}
    rows = {row["profile"]: row for row in status["methods"]}
    assert rows["default"]["active"] and not rows["work"]["active"]
    assert rows["default"]["key"] == "sk-…" + HOME_KEY[-4:] and rows["work"]["key"] == "sk-…" + WORK_KEY[-4:]
    assert rows["work"]["verified"]["ok"] and rows["default"]["verified"] is None  # --verify: per profile

    for args, env, reason in (
        (["--profile", "work"], None, "flag"),
        ([], {"QWEN_PROFILE": "work"}, "env:QWEN_PROFILE"),
    ):
        status = _status(*args, env=env)
        assert status["profile"]["name"] == "work" and status["profile"]["reason"] == reason
        assert [r["profile"] for r in status["methods"] if r["active"]] == ["work"]
    run_qwen(["auth", "switch", "work"])
    assert _status()["profile"]["reason"].startswith("user:")

    text = run_qwen(["auth", "status"], env={"QWEN_PROFILE": "work"})
    assert text.exit_code == 0, text.stderr
    _no_key(text)
    assert "Profile: work (active: QWEN_PROFILE is set)" in text.stdout
    assert "* API Key (custom) [profile work]  (active)" in text.stdout
    assert "  API Key (custom)\n" in text.stdout


def test_status_without_profiles_looks_as_it_did(isolated, keys_server):
    _login(keys_server, HOME_KEY)
    text = run_qwen(["auth", "status"])
    assert text.exit_code == 0 and "Profile" not in text.stdout and "[profile" not in text.stdout


def test_logout_of_one_profile_leaves_the_other(isolated, keys_server):
    _two_profiles(keys_server)
    run_qwen(["auth", "switch", "work"])
    result = run_qwen(["auth", "logout", "--profile", "work"])
    assert result.exit_code == 0, result.stderr
    assert "Logged out of api-key (custom) in the profile work" in result.stderr
    stored = (isolated.qwen_home / "credentials.toml").read_text()
    assert WORK_KEY not in stored and HOME_KEY in stored
    assert "profile" not in (isolated.qwen_home / "config.toml").read_text()  # the switched-to profile is gone
    assert _sent(keys_server, []) == HOME_KEY
    gone = run_qwen(["ask", "--profile", "work", "hi"])
    assert gone.exit_code == 3 and "there is no profile 'work'" in gone.stderr


def test_logout_all_from_the_default_profile_forgets_every_profile(isolated, keys_server):
    _two_profiles(keys_server)
    assert run_qwen(["auth", "logout", "--all"]).exit_code == 0
    assert "CANARY" not in (isolated.qwen_home / "credentials.toml").read_text()


def test_a_named_profile_never_takes_a_key_from_the_environment(isolated, keys_server):
    """A profile is a name on stored logins: OPENAI_API_KEY in the shell is the default profile's."""
    _two_profiles(keys_server)
    env = {"OPENAI_API_KEY": HOME_KEY}
    assert _sent(keys_server, ["--profile", "work"], env=env) == WORK_KEY
    login = run_qwen(["auth", "login", "--provider", "openai", "--profile", "other"], env=env)
    assert login.exit_code == 2 and "--key-stdin" in login.stderr  # not silently "from the environment"


def test_a_profile_key_goes_only_where_it_was_stored_for(isolated, keys_server):
    """The binding rule holds per profile: work's key is bound to work's base URL."""
    other = OpenAIStub(accept_tokens={"*"}).start()
    try:
        _login(keys_server, HOME_KEY, "--profile", "work")
        result = run_qwen(["ask", "--profile", "work", "hi"], env={"OPENAI_BASE_URL": other.url})
        assert result.exit_code == 8, result.stderr
        assert "refusing to send the custom key stored in credentials.toml" in result.stderr
        assert other.requests == []
        _no_key(result)
    finally:
        other.stop()


@pytest.mark.parametrize(
    ("args", "env", "code", "words"),
    [
        (["ask", "--profile", "nope", "hi"], None, 3, "there is no profile 'nope'"),
        (["auth", "token", "--profile", "nope"], None, 3, "there is no profile 'nope'"),
        (["ask", "hi"], {"QWEN_PROFILE": "nope"}, 3, "there is no profile 'nope'"),
        (["ask", "--profile", "a/b", "hi"], None, 2, "'a/b' is not a profile name"),
        (["ask", "hi"], {"QWEN_PROFILE": "../x"}, 2, "'../x' is not a profile name"),
        (["auth", "login", "--provider", "custom", "--profile", "api-key"], None, 2, "is a method, not a profile"),
        (["auth", "switch", "nope"], None, 3, "there is no method or profile 'nope'"),
    ],
)
def test_unknown_and_invalid_profiles_are_one_line_errors(isolated, keys_server, args, env, code, words):
    _login(keys_server, HOME_KEY)
    result = run_qwen(args, env=env)
    assert result.exit_code == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith("Error: ") and words in lines[-2], result.stderr
    assert lines[-1].startswith("Hint: ")
    if code == 3:
        assert "qwen auth login --profile nope" in lines[-1]
    _no_key(result)


def test_a_qwen_oauth_profile_has_its_own_token_file_and_lock(isolated, oauth_server):
    seeded = seed_oauth(oauth_server, isolated.qwen_home)
    default_file = isolated.qwen_home / "oauth_creds.json"
    before = default_file.read_bytes()
    env = {"QWEN_OAUTH_BASE_URL": oauth_server.base_url}
    oauth_server.auto_approve_after = 0

    login = run_qwen(["auth", "login", "--method", "qwen-oauth", "--no-browser", "--profile", "work"], env=env)
    assert login.exit_code == 0, login.stderr
    work_file = isolated.qwen_home / "oauth_creds.work.json"
    work = json.loads(work_file.read_text())
    assert default_file.read_bytes() == before and work["access_token"] != seeded["access_token"]
    assert oct(work_file.stat().st_mode & 0o777) == "0o600"
    config = isolated.qwen_home / "config.toml"  # the login records the terms version it showed, nothing else
    assert not config.exists() or "auth" not in read_toml(config)  # nothing activated

    run_qwen(["ask", "hi"], env=env)
    assert oauth_server.openai.requests[-1].bearer == seeded["access_token"]
    result = run_qwen(["ask", "--profile", "work", "hi"], env=env)
    assert result.exit_code == 0, result.stderr
    assert oauth_server.openai.requests[-1].bearer == work["access_token"]

    # A refresh of the work token takes the work profile's lock, not Qwen Code's (held here by "Qwen Code").
    data = dict(work, expiry_date=int((time.time() + 5) * 1000))
    work_file.write_text(json.dumps(data))
    (isolated.qwen_home / "oauth_creds.lock").write_text("held-by-qwen-code")
    started = time.monotonic()
    result = run_qwen(["ask", "--profile", "work", "hi"], env=env)
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 8  # waiting on the shared lock would take ~10 s (until it is stale)
    assert oauth_server.refresh_requests == 1
    assert (isolated.qwen_home / "oauth_creds.lock").read_text() == "held-by-qwen-code"
    assert not (isolated.qwen_home / "oauth_creds.work.lock").exists()  # taken and released
    assert read_creds(isolated.qwen_home) == json.loads(before) and default_file.read_bytes() == before

    status = _status(env=env)
    sources = {row["profile"]: row["source"] for row in status["methods"] if row["method"] == "qwen-oauth"}
    assert sources == {"default": "oauth_creds.json", "work": "oauth_creds.work.json"}
    for secret in (seeded["access_token"], work["access_token"], work["refresh_token"]):
        assert secret not in login.output and secret not in result.output

    out = run_qwen(["auth", "logout", "--profile", "work"], env=env)
    assert out.exit_code == 0 and not work_file.exists() and default_file.read_bytes() == before


def test_keyring_entries_are_kept_per_profile(isolated, keys_server):
    """A real keyring backend (keyrings.alt's PlaintextKeyring, as tests/cli/test_keyring_backend.py uses):
    each profile's key is its own entry, `api-key:custom@work` beside `api-key:custom`."""
    pytest.importorskip("keyrings.alt", reason="the test extra installs keyrings.alt")
    from tests.cli.test_keyring_backend import BACKEND, _stored_names

    args = ["auth", "login", "--provider", "custom", "--base-url", keys_server.url, "--model", "m", "--key-stdin"]
    for key, extra in ((HOME_KEY, []), (WORK_KEY, ["--profile", "work"])):
        result = run_qwen([*args, "--store", "keyring", *extra], input=key, env=BACKEND)
        assert result.exit_code == 0, result.stderr
    names = _stored_names(isolated.home)
    assert len(names) == 2 and sum("work" in name for name in names) == 1, names
    assert "CANARY" not in (isolated.qwen_home / "credentials.toml").read_text()
    assert _sent(keys_server, ["--profile", "work"], env=BACKEND) == WORK_KEY
    assert _sent(keys_server, [], env=BACKEND) == HOME_KEY
    assert run_qwen(["auth", "logout", "--profile", "work"], env=BACKEND).exit_code == 0
    assert [name for name in _stored_names(isolated.home) if "work" in name] == []
    assert _sent(keys_server, [], env=BACKEND) == HOME_KEY


def test_chat_takes_the_profile_too(isolated, keys_server):
    _two_profiles(keys_server)
    result = run_qwen(["chat", "--profile", "work"], input="hi\n")
    assert result.exit_code == 0, result.stderr
    _no_key(result)
    assert keys_server.chat_requests[-1].bearer == WORK_KEY


def test_a_coding_plan_profile_beside_the_default_one(isolated):
    home_plan, work_plan = "sk-sp-HOMEPLAN-CANARY-11", "sk-sp-WORKPLAN-CANARY-22"
    args = ["auth", "login", "--method", "coding-plan", "--region", "global", "--key-stdin"]
    assert run_qwen(args, input=home_plan).exit_code == 0
    assert run_qwen([*args, "--profile", "work"], input=work_plan).exit_code == 0
    assert '["coding-plan@work"]' in (isolated.qwen_home / "credentials.toml").read_text()
    assert run_qwen(["auth", "token"]).stdout == home_plan + "\n"
    assert run_qwen(["auth", "token", "--profile", "work"]).stdout == work_plan + "\n"
    env = {"BAILIAN_CODING_PLAN_API_KEY": home_plan}  # the default profile's, never work's
    assert run_qwen(["auth", "token", "--profile", "work"], env=env).stdout == work_plan + "\n"
    status = run_qwen(["auth", "status", "--json"])
    rows = [(r["method"], r["profile"]) for r in json.loads(status.stdout)["methods"]]
    assert rows == [("coding-plan", "default"), ("coding-plan", "work")]
    assert home_plan not in status.output and work_plan not in status.output
    assert run_qwen(["auth", "logout", "--profile", "work"]).exit_code == 0
    assert run_qwen(["auth", "token"]).stdout == home_plan + "\n"


def test_switching_a_method_stays_within_the_active_profile(isolated, keys_server):
    _two_profiles(keys_server)
    result = run_qwen(["auth", "switch", "api-key", "custom"])  # two logins of custom, one per profile
    assert result.exit_code == 0, result.stderr
    assert "Switched to API Key (custom);" in result.stderr
    result = run_qwen(["auth", "switch", "api-key", "custom"], env={"QWEN_PROFILE": "work"})
    assert result.exit_code == 0, result.stderr
    assert "Switched to API Key (custom) [profile work];" in result.stderr


def test_login_verify_is_recorded_for_the_profile_it_logged_in(isolated, keys_server):
    _login(keys_server, HOME_KEY)
    _login(keys_server, WORK_KEY, "--profile", "work", "--verify")
    rows = {row["profile"]: row for row in _status()["methods"]}
    assert rows["work"]["verified"]["ok"] and rows["default"]["verified"] is None
    recorded = json.loads((isolated.qwen_home / "auth_verified.json").read_text())
    assert "api-key:custom@work" in json.dumps(recorded) and WORK_KEY not in json.dumps(recorded)


def test_a_profile_token_file_open_to_others_is_tightened_like_qwen_codes(isolated, oauth_server):
    seed_oauth(oauth_server, isolated.qwen_home)
    work_file = isolated.qwen_home / "oauth_creds.work.json"
    work_file.write_text((isolated.qwen_home / "oauth_creds.json").read_text())
    work_file.chmod(0o644)
    result = run_qwen(["auth", "status", "--profile", "work"], env={"QWEN_OAUTH_BASE_URL": oauth_server.base_url})
    assert result.exit_code == 0, result.stderr
    assert oct(work_file.stat().st_mode & 0o777) == "0o600"
    assert f"{work_file} was open to group or others (mode 0644); qwen set it to 0600" in result.stderr


def test_a_provider_flag_in_a_named_profile_never_gets_another_providers_key(isolated, keys_server):
    """`--provider deepseek` with the profile `work` holding only a custom login: DeepSeek has no key there,
    so it is an error, never the custom login's key (a script would send it to DeepSeek)."""
    _two_profiles(keys_server)  # `auth login` also wrote auth.method = api-key to config.toml
    for args in (["--profile", "work"], []):
        result = run_qwen(["auth", "token", *args, "--provider", "deepseek"])
        _no_key(result)
        assert result.exit_code == 3 and result.stdout == "", result.stderr
        assert result.stderr.startswith("Error: no ") and "DeepSeek" in result.stderr.splitlines()[0]
    assert run_qwen(["auth", "token", "--profile", "work", "--provider", "custom"]).stdout == WORK_KEY + "\n"
