"""Every test gets its own QWEN_HOME, HOME and working directory, a clean environment, and no network."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
NETGUARD_DIR = TESTS_DIR / "netguard"
sys.path.insert(0, str(NETGUARD_DIR))
import sitecustomize as netguard  # noqa: E402

netguard.install()

pytest_plugins = ["tests.servers.fixtures", "tests.servers.collector"]


def pytest_configure(config):
    """Most tests start `qwen` as a subprocess. Where PYTHONDONTWRITEBYTECODE is set (this machine, some CI
    images) a fresh checkout has no .pyc for qwen_cli, so every one of those processes compiled the package
    again (~35 ms of CPU each). Compile it once per session instead. The .pyc files are hash-checked, so a
    source edited since (by you, or by a mutation tool) is recompiled in memory, never served stale.
    Under pytest-xdist only the controller compiles (before it starts the workers): compile_dir recompiles
    every hash-checked file whatever is on disk, so each worker doing it again cost ~0.3 s of CPU for nothing."""
    import compileall
    import py_compile

    _fuzz_profiles(config)
    _children_start_with_default_signals()
    # pytest caches the assertion-rewritten test modules only when bytecode may be written; with
    # PYTHONDONTWRITEBYTECODE every worker rewrote all of them on each run (~4 s of CPU per process).
    sys.dont_write_bytecode = False
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for directory in (TESTS_DIR.parent / "qwen_cli", NETGUARD_DIR):
        compileall.compile_dir(
            directory, quiet=2, workers=1, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
        )


def _children_start_with_default_signals() -> None:
    """An ignored or blocked signal is inherited through exec: a suite started under `nohup`, in the
    background of a non-interactive shell (which ignores SIGINT there), or by a runner that blocks SIGHUP
    hands it to every qwen it starts, and qwen rightly keeps a signal it was told to ignore. The signal tests
    (Ctrl-C, lock removal, terminal restore, exit 129) then wait for a death that never comes; CI once saw
    exactly that, on one Python of three. A Python-level handler is reset by exec, so the runner itself still
    ignores the signal while its children start with the default."""
    import signal

    signals = {signal.SIGINT, signal.SIGHUP, signal.SIGTERM}
    for sig in signals:
        if signal.getsignal(sig) is signal.SIG_IGN:
            signal.signal(sig, lambda _signum, _frame: None)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)


FUZZ_PROFILE = "qwen-fuzz"


def _fuzz_profiles(config) -> None:
    """The examples per hypothesis test in tests/survival/test_fuzz.py (settings.get_profile(FUZZ_PROFILE)):
    300 in the full suite (`make test`, CI's main run), 100 in the fast one (`-m "not slow"`), which
    is meant to finish in minutes on 2 cores."""
    from hypothesis import settings

    fast = "not slow" in (config.getoption("markexpr", "") or "")
    settings.register_profile(FUZZ_PROFILE, max_examples=100 if fast else 300)


_CLEARED_PREFIXES = ("OPENAI_", "DASHSCOPE_", "BAILIAN_", "QWEN_", "ANTHROPIC_", "GEMINI_", "OPENROUTER_", "DEEPSEEK_")
_CLEARED_NAMES = (
    "PYTHONUNBUFFERED",  # would hide a missing flush: stdout to a pipe must be flushed by qwen itself
    "DO_NOT_TRACK",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "CURL_CA_BUNDLE",
    "NO_COLOR",
    "FORCE_COLOR",
    "CI",
    "SSH_CONNECTION",
    "SSH_TTY",
    "BROWSER",
    "DISPLAY",
)


def _catalogue_key_names() -> tuple[str, ...]:
    """Every key variable the catalogue names (XAI_API_KEY, MINIMAX_API_KEY, ...): a developer's own never
    reaches a test."""
    from qwen_cli import catalogue

    return tuple(p.key_env for p in catalogue.providers().values() if p.key_env)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A private world: QWEN_HOME, HOME and cwd under tmp_path; provider variables cleared."""
    key_names = set(_catalogue_key_names())  # once, not once per variable (~5 ms a test)
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES or name in key_names:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    qwen_home = home / ".qwen"
    work = tmp_path / "work"
    work.mkdir(parents=True)
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("QWEN_HOME", str(qwen_home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    # Never the user's own keyring (the test extra installs keyring): a test that wants one names its backend.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    guard_log = tmp_path / "netguard.log"
    monkeypatch.setenv("QWEN_NETGUARD_LOG", str(guard_log))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(NETGUARD_DIR), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.chdir(work)
    yield type("Isolated", (), {"home": home, "qwen_home": qwen_home, "work": work, "tmp": tmp_path})
    if guard_log.exists() and guard_log.read_text().strip():
        pytest.fail("a test tried to reach a non-loopback address:\n" + guard_log.read_text())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: a worker's survival figures (tests/survival/conftest.py) join the controller's."""
    from tests.survival.registry import REGISTRY

    REGISTRY.figures.update(getattr(node, "workeroutput", {}).get("survival_figures", {}))


def pytest_terminal_summary(terminalreporter):
    from tests.survival.registry import REGISTRY

    if not REGISTRY.figures:
        return
    terminalreporter.section("survival figures")
    for name, value in sorted(REGISTRY.figures.items()):
        if name != "matrix_rows":  # the table is in the JSON report
            terminalreporter.write_line(f"{name}: {value}")
    path = REGISTRY.write_report()
    if path is not None:
        terminalreporter.write_line(f"report: {path}")


SURVIVAL_PREFIX = "tests/survival/"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup` that keeps tests/survival in one worker, in file order. xdist groups by an `@group`
    suffix it appends to the node id, but since pytest 9.2 a node id is no longer the attribute xdist sets
    (xdist 3.8), so every xdist_group mark was silently ignored and the survival tests ran in all workers.
    The scope of a test is chosen here from its path instead. xdist sends the largest scope first, so the
    survival group (the longest chain of work in one worker) starts at once."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SurvivalInOneWorker(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "survival" if nodeid.startswith(SURVIVAL_PREFIX) else super()._split_scope(nodeid)

    return SurvivalInOneWorker(config, log)
