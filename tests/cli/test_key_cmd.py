"""`providers.<id>.key_cmd`: a real script prints the key at each invocation; failures are one-line auth
errors that never show what it printed; only the user config may name one."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

from tests.auth.helpers import CANARY_KEY
from tests.helpers import run_qwen

PROVIDER = "openrouter"


def _script(isolated, body: str) -> Path:
    script = isolated.tmp / "bin" / "fetch-key"
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!{sys.executable}\nimport sys, time, pathlib\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _user_config(isolated, command: str, extra: str = "") -> None:
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(
        f'[auth]\nmethod = "api-key"\nprovider = "{PROVIDER}"\n{extra}\n'
        f"[providers.{PROVIDER}]\nkey_cmd = {json.dumps(command)}\n"
    )


def _counting(isolated, out: str) -> str:
    """A script that prints `out` and counts its runs in a file beside it."""
    body = (
        "counter = pathlib.Path(sys.argv[0]).with_suffix('.runs')\n"
        "counter.write_text(counter.read_text() + 'x' if counter.exists() else 'x')\n"
        f"sys.stdout.write({out!r})"
    )
    return str(_script(isolated, body))


def _runs(isolated) -> int:
    counter = isolated.tmp / "bin" / "fetch-key.runs"
    return len(counter.read_text()) if counter.exists() else 0


def test_key_cmd_supplies_the_key_at_each_invocation_and_is_never_stored(isolated, openai_server):
    openai_server.accept_tokens = {CANARY_KEY}
    script = _counting(isolated, CANARY_KEY + "\nlogin: me@example.com\n")
    _user_config(isolated, f"{script} --name 'openrouter key'")
    token = run_qwen(["auth", "token"])
    assert token.exit_code == 0, token.stderr
    assert token.stdout == CANARY_KEY + "\n"  # the first line only, as `pass show` prints it
    status = run_qwen(["auth", "status", "--json"])
    assert status.exit_code == 0, status.stderr
    row = next(r for r in json.loads(status.stdout)["methods"] if r["provider"] == PROVIDER)
    assert row["source"] == "key_cmd" and row["key"] == "sk-…8d60" and row["active"]
    text = run_qwen(["auth", "status"])
    assert "key_cmd (providers.openrouter.key_cmd in" in text.stdout
    assert _runs(isolated) == 3  # once per invocation
    assert not (isolated.qwen_home / "credentials.toml").exists()
    for written in isolated.tmp.rglob("*"):
        if written.is_file() and written.name != "fetch-key":
            assert CANARY_KEY not in written.read_text(errors="replace"), written
    assert CANARY_KEY not in text.output and CANARY_KEY not in status.stderr


def test_the_environment_variable_wins_over_key_cmd_which_wins_over_the_stored_key(isolated):
    login = run_qwen(
        ["auth", "login", "--method", "api-key", "--provider", PROVIDER, "--key-stdin"], input="sk-stored-key-000000"
    )
    assert login.exit_code == 0, login.output
    _user_config(isolated, _counting(isolated, "sk-from-command-1111\n"))
    assert run_qwen(["auth", "token"]).stdout == "sk-from-command-1111\n"
    env = run_qwen(["auth", "token"], env={"OPENROUTER_API_KEY": "sk-from-env-2222222"})
    assert env.stdout == "sk-from-env-2222222\n"
    assert _runs(isolated) == 1  # not run at all when the variable is set


def test_failures_are_one_line_auth_errors_that_never_show_the_output(isolated):
    secretish = "PRINTED-BEFORE-FAILING-7f3a9c"  # not sk-shaped, so generic redaction would not hide it
    cases = {
        "exit": (f"sys.stdout.write({secretish!r}); sys.exit(4)", "exited with status 4", ""),
        "empty": ("sys.stdout.write('\\n  \\n')", "printed nothing", ""),
        "timeout": (
            f"sys.stdout.write({secretish!r}); sys.stdout.flush(); time.sleep(30)",
            "did not finish within",
            "key_cmd_timeout = 0.5",
        ),
    }
    for name, (body, said, extra) in cases.items():
        _user_config(isolated, str(_script(isolated, body)), extra)
        result = run_qwen(["ask", "hi"], timeout=20)
        assert result.exit_code == 3, (name, result.output)
        assert result.stdout == "" and len(result.stderr.splitlines()) == 2, (name, result.stderr)
        error, hint = result.stderr.splitlines()
        assert error.startswith("Error: ") and said in error and "providers.openrouter.key_cmd" in error, name
        assert hint.startswith("Hint: ")
        debug = run_qwen(["--debug", "ask", "hi"], timeout=20)
        assert debug.exit_code == 3
        for shown in (result.output, debug.output):
            assert secretish not in shown and secretish[-12:] not in shown, name
    _user_config(isolated, str(isolated.tmp / "no-such-program"))
    missing = run_qwen(["auth", "token"])
    assert missing.exit_code == 3 and "could not be started" in missing.stderr


def test_a_project_config_may_not_name_a_key_cmd(isolated):
    script = _counting(isolated, CANARY_KEY + "\n")
    project = isolated.work / ".qwen" / "config.toml"
    project.parent.mkdir(parents=True)
    project.write_text(
        f'[auth]\nmethod = "api-key"\nprovider = "{PROVIDER}"\n[providers.{PROVIDER}]\nkey_cmd = {json.dumps(script)}\n'
    )
    run_qwen(["trust", "add", str(isolated.work)])  # even a trusted folder
    result = run_qwen(["auth", "token"])
    assert result.exit_code == 3
    assert f"ignoring providers.{PROVIDER}.key_cmd from {project}" in result.stderr
    assert _runs(isolated) == 0 and CANARY_KEY not in result.output
