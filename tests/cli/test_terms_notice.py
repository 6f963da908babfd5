"""Terms changes are noticed: `auth login` records the terms entry version the user saw; a newer shipped entry is
announced once, on an interactive run only (a pty), never in a pipe or in JSON output."""

from __future__ import annotations

import io
import os

import pexpect

from qwen_cli import data_use
from qwen_cli.settings import read_toml
from tests.helpers import qwen_command, run_qwen

OPENAI = next(e for e in data_use.entries() if e.id == "openai")
LINE = f"The terms entry for OpenAI changed (2020-01-01 → {OPENAI.version}): qwen terms show --provider openai"


def _pty(args: list[str]) -> str:
    command = qwen_command()
    env = dict(os.environ, TERM="xterm")
    child = pexpect.spawn(command[0], command[1:] + args, env=env, encoding="utf-8", timeout=30, dimensions=(40, 200))
    child.logfile_read = io.StringIO()
    child.expect(pexpect.EOF)
    child.close()
    return child.logfile_read.getvalue()


def _seen(isolated) -> dict:
    return read_toml(isolated.qwen_home / "config.toml").get("terms_seen", {})


def _login_openai(openai_server) -> None:
    result = run_qwen(
        ["auth", "login", "--provider", "openai", "--base-url", openai_server.url, "--model", "m", "--key-stdin"],
        input="sk-test-key",
    )
    assert result.exit_code == 0, result.output
    assert "Training: OpenAI does not use API inputs for training by default" in result.stderr
    assert "https://developers.openai.com/docs/guides/your-data" in result.stderr


def test_login_records_the_version_it_showed_and_nothing_secret(isolated, openai_server):
    _login_openai(openai_server)
    assert _seen(isolated) == {"openai": OPENAI.version}
    assert "sk-test-key" not in (isolated.qwen_home / "config.toml").read_text()


def test_a_newer_entry_is_announced_once_on_a_terminal(isolated, openai_server):
    _login_openai(openai_server)
    config = isolated.qwen_home / "config.toml"
    config.write_text(config.read_text().replace(f'openai = "{OPENAI.version}"', 'openai = "2020-01-01"'))
    first = _pty(["auth", "status"])
    assert first.count(LINE) == 1, first
    assert _seen(isolated)["openai"] == OPENAI.version
    again = _pty(["auth", "status"])
    assert "terms entry for" not in again


def test_never_in_a_pipe_nor_in_json(isolated, openai_server):
    _login_openai(openai_server)
    config = isolated.qwen_home / "config.toml"
    config.write_text(config.read_text().replace(f'openai = "{OPENAI.version}"', 'openai = "2020-01-01"'))
    piped = run_qwen(["auth", "status"])
    assert "terms entry for" not in piped.output
    as_json = _pty(["auth", "status", "--json"])
    assert "terms entry for" not in as_json
    assert _seen(isolated)["openai"] == "2020-01-01"  # not shown yet, so still to be shown
    assert _pty(["auth", "status"]).count(LINE) == 1


def test_logging_out_forgets_the_recorded_version(isolated, openai_server):
    _login_openai(openai_server)
    assert run_qwen(["auth", "logout", "api-key", "openai"]).exit_code == 0
    assert _seen(isolated) == {}
