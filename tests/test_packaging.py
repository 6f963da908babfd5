"""Packaging facts the wheel smoke test (.ci/smoke-wheel.sh, run by .ci/run) relies on, checked quickly here."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.10
        import tomli as tomllib
    return tomllib.loads(path.read_text())


def test_both_console_scripts_call_the_same_main():
    scripts = _toml(ROOT / "pyproject.toml")["project"]["scripts"]
    assert scripts == {"qwen": "qwen_cli.cli.main:main", "qwen-cli": "qwen_cli.cli.main:main"}


def test_runtime_dependencies_are_the_agreed_ones():
    # jsonschema: issue 19, validating --schema answers (imported only when --schema is used).
    deps = _toml(ROOT / "pyproject.toml")["project"]["dependencies"]
    names = {d.split(">")[0].split(";")[0].split("=")[0].strip() for d in deps}
    assert names == {
        "click",
        "rich-click",
        "requests",
        "requests-oauthlib",
        "tomli-w",
        "python-dotenv",
        "tomli",
        "jsonschema",
    }
    assert [d for d in deps if d.startswith("tomli>")] == ["tomli>=2.0; python_version < '3.11'"]


def test_catalogues_ship_as_package_data():
    package_data = _toml(ROOT / "pyproject.toml")["tool"]["setuptools"]["package-data"]["qwen_cli"]
    assert "data/*.toml" in package_data
    assert {p.name for p in (ROOT / "qwen_cli" / "data").glob("*.toml")} >= {"providers.toml", "terms.toml"}


def test_setup_cfg_installs_every_completion_script_into_share():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    data_files = {target: value.split() for target, value in cfg["options.data_files"].items()}
    assert data_files == {
        "share/bash-completion/completions": ["completions/qwen.bash"],
        "share/zsh/site-functions": ["completions/_qwen"],
        "share/fish/vendor_completions.d": ["completions/qwen.fish"],
    }
    for files in data_files.values():
        for name in files:
            assert (ROOT / name).is_file(), name


def test_ci_runs_the_wheel_smoke_test_after_the_suite():
    run = (ROOT / ".ci" / "run").read_text()
    assert ".ci/smoke-wheel.sh" in run
    assert run.index("make test") < run.index(".ci/smoke-wheel.sh")
    assert os.access(ROOT / ".ci" / "smoke-wheel.sh", os.X_OK)


@pytest.mark.skipif(not shutil.which("bash"), reason="bash is not installed")
def test_smoke_script_is_valid_bash_and_covers_the_issue():
    script = ROOT / ".ci" / "smoke-wheel.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    for needle in (
        "-m build",
        "-m venv",
        "--version",
        "qwen-cli",
        "-m qwen_cli",
        "terms show --json",
        " ask",
        "share/",
        "pipx",
        "HOME=",
        "QWEN_HOME=",
    ):
        assert needle in text, needle


def test_stub_server_script_serves_on_loopback_and_stops_on_sigterm(tmp_path):
    url_file = tmp_path / "url"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / ".ci" / "stub_server.py"), str(url_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while not (url_file.exists() and url_file.read_text().strip()):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "stub did not start"
            time.sleep(0.05)
        url = url_file.read_text().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        request = urllib.request.Request(url + "/models", headers={"Authorization": "Bearer sk-anything"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["object"] == "list"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
