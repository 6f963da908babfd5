import subprocess
import sys
from pathlib import Path

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


def _imported_modules(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from qwen_cli.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\nMODULES:' + ','.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
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
