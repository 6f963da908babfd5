"""`--store keyring` against a real keyring backend, through real `qwen` processes.

The backend is keyrings.alt's PlaintextKeyring (installed by the test extra): the `keyring` package's own
backend machinery, selected by PYTHON_KEYRING_BACKEND, writing a real file under the isolated HOME. Nothing is
faked on our side: the processes import the real `keyring`, which loads the backend by its name.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

import pytest

from qwen_cli.settings import read_toml
from tests.auth.helpers import CANARY_KEY
from tests.helpers import run_qwen

pytest.importorskip("keyrings.alt", reason="the test extra installs keyrings.alt")

BACKEND = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}


def _vault(home: Path) -> Path:
    data_home = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return data_home / "python_keyring" / "keyring_pass.cfg"


def _stored_names(home: Path) -> list[str]:
    vault = _vault(home)
    if not vault.exists():
        return []
    parser = configparser.RawConfigParser()
    parser.read(vault)
    return [name for section in parser.sections() for name in parser.options(section)]


def _login(server_url: str) -> object:
    return run_qwen(
        [
            "auth",
            "login",
            "--method",
            "api-key",
            "--base-url",
            server_url,
            "--model",
            "test-model",
            "--key-stdin",
            "--store",
            "keyring",
        ],
        input=CANARY_KEY,
        env=BACKEND,
    )


def test_a_key_stored_in_a_real_keyring_is_used_and_never_written_to_disk_by_qwen(isolated, openai_server):
    openai_server.accept_tokens.add(CANARY_KEY)
    home = Path(os.environ["HOME"])
    login = _login(openai_server.url)
    assert login.exit_code == 0, login.output
    assert CANARY_KEY not in login.output

    creds = read_toml(isolated.qwen_home / "credentials.toml")
    assert creds["api-key"]["custom"]["store"] == "keyring"
    assert "key" not in creds["api-key"]["custom"]
    assert CANARY_KEY not in (isolated.qwen_home / "credentials.toml").read_text()
    assert _stored_names(home), "the backend's vault holds no entry"

    answer = run_qwen(["ask", "hi"], env=BACKEND)
    assert answer.exit_code == 0, answer.output
    assert answer.stdout.strip() == "Hello from stub"
    assert openai_server.requests[-1].bearer == CANARY_KEY

    status = run_qwen(["auth", "status", "--json"], env=BACKEND)
    assert status.exit_code == 0, status.output
    assert CANARY_KEY not in status.output
    assert '"keyring"' in status.stdout


def test_logout_removes_the_key_from_the_real_keyring(isolated, openai_server):
    home = Path(os.environ["HOME"])
    assert _login(openai_server.url).exit_code == 0
    assert _stored_names(home)

    logout = run_qwen(["auth", "logout"], env=BACKEND)
    assert logout.exit_code == 0, logout.output
    assert _stored_names(home) == []

    after = run_qwen(["ask", "hi"], env=BACKEND)
    assert after.exit_code == 3, after.output


def test_a_keyring_that_cannot_store_is_a_one_line_error_and_nothing_is_saved(isolated):
    failing = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = run_qwen(
        ["auth", "login", "--method", "api-key", "--provider", "groq", "--key-stdin", "--store", "keyring"],
        input=CANARY_KEY,
        env=failing,
    )
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr
    assert CANARY_KEY not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "keyring" in errors[0]
    assert not (isolated.qwen_home / "credentials.toml").exists()
