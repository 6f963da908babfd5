"""Survival-suite fixtures: one telemetry collector for the whole session, statistics switched on in every
test (so failures and successes alike go through the exporter), and every file a test leaves behind
captured for the final secret scan in test_zz_secrets.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.servers.collector import Collector
from tests.survival.registry import REGISTRY


@pytest.fixture(scope="session")
def survival_collector():
    server = Collector().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def registry(survival_collector):
    yield REGISTRY
    REGISTRY.write_report()


@pytest.fixture(autouse=True)
def statistics_on(isolated, registry, survival_collector, monkeypatch, request):
    """Usage statistics on and pointed at the session collector; afterwards flush the spool and capture files."""
    registry.ran.add(request.node.nodeid)
    telemetry = isolated.qwen_home / "telemetry"
    telemetry.mkdir(parents=True, exist_ok=True)
    (telemetry / "notice-shown").write_text("shown\n")
    monkeypatch.setenv("QWEN_TELEMETRY_ENDPOINT", survival_collector.url)
    yield
    _flush(isolated)
    registry.add("files_scanned", registry.capture_tree(Path(isolated.tmp)))


def _flush(isolated) -> None:
    """Send what the test's runs queued, in-process, so the collector sees every event. Anything but a clean
    configuration error is a failure, so the final secret scan can't silently see less."""
    from qwen_cli.errors import QwenError

    try:
        from qwen_cli.settings import Settings
        from qwen_cli.telemetry import exporter

        exporter.send(Settings.load(env=dict(os.environ), cwd=Path(isolated.work)))
    except QwenError:  # a home a test broke on purpose (unreadable, not a directory) has nothing to send
        REGISTRY.add("flushes_skipped_broken_home")


SURVIVAL_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Under pytest-xdist (`-n` in pyproject's addopts) the survival tests all run in one worker, in file
    order, with `--dist loadgroup`: test_zz_secrets.py scans what the tests before it captured in that process.
    (With pytest 9.2 and xdist 3.8 the mark alone no longer does it: tests/conftest.py's scheduler does.)"""
    for item in items:
        if SURVIVAL_DIR in Path(item.fspath).parents:
            item.add_marker(pytest.mark.xdist_group("survival"))


def pytest_sessionfinish(session):
    """A worker hands its figures to the controller, which prints them (tests/conftest.py)."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None and REGISTRY.figures:
        workeroutput["survival_figures"] = json.loads(json.dumps(REGISTRY.figures, default=str))
