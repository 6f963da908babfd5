import os
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_cli import __version__
from tests.helpers import qwen_command, run_qwen


def test_version_prints_version_and_exits_zero():
    result = run_qwen(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"qwen {__version__}"


def test_module_entry_point_and_alias_work():
    result = subprocess.run([sys.executable, "-m", "qwen_cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and __version__ in result.stdout
    script = Path(qwen_command()[0])
    assert script.name == "qwen", f"the qwen console script is not installed (got {script}): run `make install`"
    alias = script.with_name("qwen-cli")  # only the file name: the checkout may sit in a folder named qwen
    out = subprocess.run([str(alias), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout


def _imported_modules(args: list[str], env: dict | None = None) -> set[str]:
    """The modules loaded by the time `qwen ARGS` (main(), the entry point's function) has finished."""
    code = (
        "import sys\n"
        "from qwen_cli.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exc:\n"
        "    sys.stderr.write(f'\\nEXIT:{exc.code}')\n"
        "sys.stderr.write('\\nMODULES:' + ','.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    assert "\nEXIT:0" in proc.stderr, proc.stderr
    return set(proc.stderr.rsplit("MODULES:", 1)[1].split(","))


def test_version_and_help_do_not_import_heavy_modules():
    for args in (["--version"], ["--debug", "--version"], ["--help"]):
        modules = _imported_modules(args)
        assert "requests" not in modules, args
        assert "rich.markdown" not in modules, args
        assert "requests_oauthlib" not in modules, args


def test_help_lists_every_planned_group():
    result = run_qwen(["--help"])
    assert result.exit_code == 0
    for name in ("auth", "ask", "chat", "telemetry", "terms", "config", "completion"):
        assert name in result.stdout


def test_bare_qwen_off_a_terminal_prints_help_and_exits_2():
    result = run_qwen([])
    assert result.exit_code == 2
    assert "Usage" in result.stdout


def test_unknown_command_is_a_usage_error():
    result = run_qwen(["frobnicate"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_malformed_config_exits_8_without_traceback_and_is_untouched(isolated):
    isolated.qwen_home.mkdir(parents=True)
    cfg = isolated.qwen_home / "config.toml"
    cfg.write_text("[network]\nmax_retries = \n")
    before = cfg.read_bytes()
    result = run_qwen(["config", "show"])
    assert result.exit_code == 8
    assert f"{cfg}:2:" in result.stderr
    assert "Traceback" not in result.output
    assert cfg.read_bytes() == before


def test_mistyped_command_suggests_the_real_one():
    result = run_qwen(["aks", "hi"])
    assert result.exit_code == 2
    assert "No such command 'aks'" in result.stderr and "Did you mean 'ask'?" in result.stderr


# What `qwen ask` imports (issue 13 §6), not timed: with a key from the environment it is the one-shot path
# pipelines pay for on every call. rich-click and rich are for help pages; the telemetry package is not
# imported when the method used is one that statistics never apply to (api-key).
FORBIDDEN_ON_ASK = ("rich", "rich_click", "qwen_cli.telemetry")


def offenders(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.fixture
def env_key(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


def test_ask_with_an_env_key_imports_neither_rich_nor_telemetry(env_key):
    modules = _imported_modules(["ask", "what is 2+2?"], env_key)
    assert "qwen_cli.providers.openai_compat" in modules  # the command really ran
    assert offenders(modules, FORBIDDEN_ON_ASK) == []


def test_ask_in_json_mode_imports_neither_either(env_key):
    modules = _imported_modules(["ask", "-o", "json", "hi"], env_key)
    assert offenders(modules, FORBIDDEN_ON_ASK) == []


def test_a_method_that_may_collect_still_reaches_the_statistics_hook(isolated, openai_server):
    # The gate skips only the methods statistics never apply to: a Coding Plan key still reaches the policy.
    openai_server.accept_tokens.add("sk-sp-startup-test")
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "credentials.toml").write_text(f'[coding-plan]\nbase_url = "{openai_server.url}"\n')
    (isolated.qwen_home / "credentials.toml").chmod(0o600)
    env = {"QWEN_AUTH_METHOD": "coding-plan", "BAILIAN_CODING_PLAN_API_KEY": "sk-sp-startup-test"}
    modules = _imported_modules(["ask", "hi"], env)
    assert "qwen_cli.providers.openai_compat" in modules
    assert "qwen_cli.telemetry.hook" in modules


def test_version_imports_no_cli_framework():
    modules = _imported_modules(["--version"])
    assert offenders(modules, ("click", "rich", "rich_click", "requests", "qwen_cli.telemetry")) == []


def test_help_is_still_rendered_by_rich_click():
    modules = _imported_modules(["ask", "--help"])
    assert "rich_click" in modules
