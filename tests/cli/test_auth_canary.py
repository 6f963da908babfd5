"""Secret canary: planted keys and OAuth tokens must never show up in output (even with --debug), in
config.toml, in the project config, or in any other file qwen writes besides the two secret stores."""

from __future__ import annotations

from pathlib import Path

from tests.auth.helpers import CANARY_ACCESS, CANARY_KEY, CANARY_PLAN_KEY, CANARY_REFRESH, seed_oauth
from tests.helpers import run_qwen
from tests.servers.openai_stub import error

CANARIES = (CANARY_KEY, CANARY_PLAN_KEY, CANARY_ACCESS, CANARY_REFRESH)
SECRET_STORES = {"credentials.toml", "oauth_creds.json"}


def _assert_clean(text: str, where: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{canary} leaked into {where}"
        assert canary[-12:] not in text, f"a tail of {canary} leaked into {where}"


def test_canaries_never_leak(isolated, oauth_server):
    openai = oauth_server.openai
    env = {"QWEN_OAUTH_BASE_URL": oauth_server.base_url}
    project = isolated.work / ".qwen" / "config.toml"
    project.parent.mkdir(parents=True)
    project.write_text('[general]\nmodel = "coder-model"\n')
    runs = []

    def run(args, input=None, extra=None):
        result = run_qwen(args, input=input, env=dict(env, **(extra or {})), timeout=60)
        runs.append((args, result))
        return result

    # key-based logins, verified against a server that rejects them (error paths print the most)
    run(
        [
            "--debug",
            "auth",
            "login",
            "--method",
            "api-key",
            "--base-url",
            openai.url,
            "--model",
            "m",
            "--key-stdin",
            "--verify",
        ],
        input=CANARY_KEY,
    )
    run(
        [
            "--debug",
            "auth",
            "login",
            "--method",
            "coding-plan",
            "--region",
            "global",
            "--base-url",
            openai.url,
            "--key-stdin",
            "--verify",
        ],
        input=CANARY_PLAN_KEY,
    )
    run(["--debug", "auth", "status", "--verify"])
    run(["auth", "status", "--json", "--verify"])
    run(["--debug", "ask", "hi"])
    run(["--debug", "ask", "hi", "-o", "json"])
    run(["--debug", "ask", "hi"], extra={"QWEN_AUTH_METHOD": "coding-plan"})
    run(["config", "show"])
    run(["--debug", "auth", "switch", "coding-plan"])

    # Qwen OAuth: an expired canary token refreshed, then a revoked one (invalid_grant), then a 401 retry
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-10, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    run(["--debug", "ask", "hi"], extra={"QWEN_AUTH_METHOD": "qwen-oauth"})
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=3600, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    openai.accept_tokens.discard(CANARY_ACCESS)
    run(["--debug", "ask", "hi"], extra={"QWEN_AUTH_METHOD": "qwen-oauth"})
    oauth_server.revoke_refresh_tokens()
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-10, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    oauth_server.revoke_refresh_tokens()
    run(["--debug", "ask", "hi"], extra={"QWEN_AUTH_METHOD": "qwen-oauth"})
    run(["--debug", "auth", "status"], extra={"QWEN_AUTH_METHOD": "qwen-oauth"})
    run(["auth", "status", "--json"], extra={"QWEN_AUTH_METHOD": "qwen-oauth"})
    # env keys with --debug
    run(
        ["--debug", "auth", "status"],
        extra={"OPENAI_API_KEY": CANARY_KEY, "QWEN_AUTH_METHOD": "api-key", "QWEN_AUTH_PROVIDER": "openai"},
    )
    run(
        ["--debug", "ask", "hi"],
        extra={
            "OPENAI_API_KEY": CANARY_KEY,
            "OPENAI_BASE_URL": openai.url,
            "OPENAI_MODEL": "m",
            "QWEN_AUTH_METHOD": "api-key",
            "QWEN_AUTH_PROVIDER": "custom",
        },
    )
    # servers that push the secrets back at us: an error echoing the key, in text and JSON output, with
    # --debug (its traceback and HTTP trace), and a token endpoint echoing the refresh token
    echo_env = {
        "OPENAI_API_KEY": CANARY_KEY,
        "OPENAI_BASE_URL": openai.url,
        "OPENAI_MODEL": "m",
        "QWEN_AUTH_METHOD": "api-key",
        "QWEN_AUTH_PROVIDER": "custom",
    }
    openai.accept_tokens.add(CANARY_KEY)
    for output in ("text", "json"):
        openai.script(error(401, {"error": {"message": f"Incorrect API key provided: {CANARY_KEY}."}}, times=2))
        echoed = run(["--debug", "ask", "hi", "-o", output], extra=echo_env)
        assert echoed.exit_code == 3 and "Incorrect API key provided: sk-" in echoed.output
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-10, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    oauth_server.echo_refresh_token = True
    echoed = run(["--debug", "ask", "hi"], extra={"QWEN_AUTH_METHOD": "qwen-oauth"})
    assert echoed.exit_code != 0
    run(["--debug", "auth", "logout", "--all"])

    assert any(r.exit_code == 3 for _, r in runs)  # the rejections really happened
    assert any("debug:" in r.stderr or "Traceback" in r.stderr for _, r in runs)
    for args, result in runs:
        _assert_clean(result.stdout, f"stdout of {args}")
        _assert_clean(result.stderr, f"stderr of {args}")
    for path in Path(isolated.tmp).rglob("*"):
        if path.is_file() and path.name not in SECRET_STORES and path.name != "netguard.log":
            _assert_clean(path.read_text(errors="replace"), str(path))
