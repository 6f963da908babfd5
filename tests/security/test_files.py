"""§8 Files: writes through a symlinked config.toml or credentials.toml land in the target (the link stays a
link), logout removes the key where it really lives, a credentials.toml others can read is made private, and a
$QWEN_HOME others can change is refused like ssh's StrictModes refuses a ~/.ssh."""

from __future__ import annotations

import os
import stat

import pytest

from tests.helpers import run_qwen
from tests.security.localenv import CANARY, api_env, assert_no_canary, assert_one_line_error

FOREIGN_ID = 4_242_424  # no user or group has this id


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def dotfiles(isolated):
    """A dotfile manager's layout: the real files in ~/dotfiles/qwen, symlinks to them in $QWEN_HOME."""
    repo = isolated.home / "dotfiles" / "qwen"
    repo.mkdir(parents=True)
    isolated.qwen_home.mkdir(mode=0o700)
    for name in ("config.toml", "credentials.toml"):
        (repo / name).write_text("")
        (repo / name).chmod(0o600)
    (isolated.qwen_home / "config.toml").symlink_to(repo / "config.toml")  # absolute
    (isolated.qwen_home / "credentials.toml").symlink_to(
        os.path.relpath(repo / "credentials.toml", isolated.qwen_home)
    )  # relative
    return repo


def assert_still_links(isolated, repo) -> None:
    for name in ("config.toml", "credentials.toml"):
        link = isolated.qwen_home / name
        assert link.is_symlink(), name
        assert link.resolve() == (repo / name).resolve()
    leftovers = [p.name for p in [*repo.iterdir(), *isolated.qwen_home.iterdir()] if p.name.endswith(".tmp")]
    assert leftovers == []
    assert not [p for p in repo.iterdir() if p.name.endswith(".lock")]  # locks stay in $QWEN_HOME, by the link


def test_config_set_through_a_symlink_writes_the_target(isolated, dotfiles):
    result = run_qwen(["config", "set", "general.model", "linked-model"])
    assert result.exit_code == 0, result.stderr
    assert 'model = "linked-model"' in (dotfiles / "config.toml").read_text()
    assert mode(dotfiles / "config.toml") == 0o600
    assert run_qwen(["config", "get", "general.model"]).stdout.strip() == "linked-model"
    assert_still_links(isolated, dotfiles)


def test_a_chain_of_symlinks_is_followed_to_the_end(isolated, dotfiles):
    middle = isolated.home / "middle.toml"
    middle.symlink_to(dotfiles / "config.toml")
    (isolated.qwen_home / "config.toml").unlink()
    (isolated.qwen_home / "config.toml").symlink_to(middle)
    assert run_qwen(["config", "set", "network.max_retries", "7"]).exit_code == 0
    assert middle.is_symlink()
    assert "max_retries = 7" in (dotfiles / "config.toml").read_text()


def test_login_and_logout_through_a_symlinked_credentials_file(isolated, dotfiles, openai_server):
    first = run_qwen(["auth", "login", "--method", "api-key", "--provider", "openai", "--key-stdin"], input=CANARY)
    other = run_qwen(
        ["auth", "login", "--method", "api-key", "--provider", "groq", "--key-stdin"], input=CANARY + "-groq"
    )
    assert first.exit_code == 0 and other.exit_code == 0, first.stderr + other.stderr
    stored = (dotfiles / "credentials.toml").read_text()
    assert CANARY in stored and CANARY + "-groq" in stored
    assert mode(dotfiles / "credentials.toml") == 0o600
    assert_still_links(isolated, dotfiles)

    out = run_qwen(["auth", "logout", "api-key", "--provider", "openai"])
    assert out.exit_code == 0, out.stderr
    stored = (dotfiles / "credentials.toml").read_text()
    assert "[api-key.openai]" not in stored and f'"{CANARY}"' not in stored  # gone where it really lived
    assert CANARY + "-groq" in stored  # and nothing else went with it
    assert_still_links(isolated, dotfiles)
    for result in (first, other, out):
        assert_no_canary(result)


def test_a_credentials_file_others_can_read_is_made_private_with_one_warning(isolated, openai_server):
    isolated.qwen_home.mkdir(mode=0o700)
    creds = isolated.qwen_home / "credentials.toml"
    creds.write_text(f'[api-key.openai]\nkey = "{CANARY}"\nbase_url = "{openai_server.url}"\nmodel = "test-model"\n')
    creds.chmod(0o644)
    openai_server.accept_tokens.add(CANARY)
    env = {"QWEN_AUTH_METHOD": "api-key", "QWEN_AUTH_PROVIDER": "openai"}
    result = run_qwen(["ask", "hi"], env=env)
    assert result.exit_code == 0 and result.stdout == "Hello from stub\n", result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert warnings == [f"Warning: {creds} was open to group or others (mode 0644); qwen set it to 0600"]
    assert result.stderr.strip() == warnings[0]
    assert mode(creds) == 0o600
    again = run_qwen(["ask", "hi"], env=env)
    assert again.exit_code == 0 and again.stderr == ""  # once tightened, nothing more to say
    assert_no_canary(result)


def test_a_symlinked_credentials_file_is_tightened_at_its_target(isolated, dotfiles):
    (dotfiles / "credentials.toml").chmod(0o640)
    result = run_qwen(["auth", "status"])
    assert "was open to group or others (mode 0640)" in result.stderr
    assert mode(dotfiles / "credentials.toml") == 0o600
    assert (isolated.qwen_home / "credentials.toml").is_symlink()


@pytest.mark.parametrize("home_mode", [0o777, 0o757, 0o1777], ids=["0777", "0757", "sticky 1777"])
def test_a_world_writable_home_is_refused(isolated, openai_server, home_mode):
    isolated.qwen_home.mkdir()
    isolated.qwen_home.chmod(home_mode)
    plan = {"QWEN_AUTH_METHOD": "coding-plan"}  # a method with statistics: the hook must not write there either
    for args, env in (
        (["ask", "hi"], api_env(openai_server)),
        (["config", "set", "general.model", "x"], plan),
        (["auth", "status"], plan),
    ):
        result = run_qwen(args, env=env)
        shown = assert_one_line_error(
            result,
            8,
            f"refusing to use {isolated.qwen_home}",
            "writable by every user",
            f"chmod 700 {isolated.qwen_home}",
        )
        assert "Hint: " in shown
    assert openai_server.chat_requests == []
    assert list(isolated.qwen_home.iterdir()) == []  # nothing written into it, not even statistics
    assert mode(isolated.qwen_home) == home_mode  # and not silently "fixed" either


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the home to another group or user")
def test_a_home_writable_by_a_shared_group_is_refused(isolated):
    isolated.qwen_home.mkdir()
    os.chown(isolated.qwen_home, -1, FOREIGN_ID)
    isolated.qwen_home.chmod(0o770)
    result = run_qwen(["config", "show"])
    assert_one_line_error(result, 8, "writable by the group", "(mode 0770)", f"chmod 700 {isolated.qwen_home}")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the home to another user")
def test_a_home_owned_by_another_user_is_refused(isolated):
    isolated.qwen_home.mkdir(mode=0o700)
    os.chown(isolated.qwen_home, FOREIGN_ID, -1)
    result = run_qwen(["config", "show"])
    assert_one_line_error(
        result, 8, "owned by another user", f"chown root {isolated.qwen_home}", f"chmod 700 {isolated.qwen_home}"
    )


@pytest.mark.parametrize("home_mode", [0o700, 0o750, 0o755], ids=["0700", "0750", "0755"])
def test_a_home_others_can_only_read_is_used(isolated, home_mode):
    isolated.qwen_home.mkdir()
    isolated.qwen_home.chmod(home_mode)
    assert run_qwen(["config", "show"]).exit_code == 0


def test_a_home_that_does_not_exist_yet_is_created_private(isolated, tmp_path):
    home = tmp_path / "new" / "qwen-home"
    result = run_qwen(["config", "set", "general.model", "m"], env={"QWEN_HOME": str(home)})
    assert result.exit_code == 0, result.stderr
    assert mode(home) == 0o700 and mode(home / "config.toml") == 0o600


def test_a_group_writable_home_is_fine_when_the_group_is_yours_alone(monkeypatch):
    """Debian's ssh rule for umask 002 (user-private groups): the group's only member is the owner."""
    import grp
    import pwd
    from types import SimpleNamespace

    from qwen_cli import homecheck

    users = [
        SimpleNamespace(pw_name="me", pw_uid=1000, pw_gid=1000),
        SimpleNamespace(pw_name="you", pw_uid=1001, pw_gid=1001),
    ]
    groups = {
        1000: SimpleNamespace(gr_name="me", gr_mem=[]),
        1001: SimpleNamespace(gr_name="you", gr_mem=[]),
        100: SimpleNamespace(gr_name="users", gr_mem=["me", "you"]),
        50: SimpleNamespace(gr_name="staff", gr_mem=["me"]),
    }
    monkeypatch.setattr(pwd, "getpwall", lambda: users)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: next(u for u in users if u.pw_uid == uid))
    monkeypatch.setattr(grp, "getgrgid", lambda gid: groups[gid])
    assert homecheck._group_is_only(1000, 1000)  # my private group
    assert homecheck._group_is_only(50, 1000)  # a supplementary group with me alone in it
    assert not homecheck._group_is_only(100, 1000)  # shared
    assert not homecheck._group_is_only(1001, 1000)  # someone else's
