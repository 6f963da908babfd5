"""The settings layer: precedence, sources, validation and atomic writes."""

from __future__ import annotations

import json
import os
import stat

import pytest

from qwen_cli.errors import ConfigError
from qwen_cli.settings import Settings, write_value
from tests.helpers import invoke, run_qwen


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_defaults_have_default_source(isolated):
    s = Settings.load(env=os.environ, cwd=isolated.work)
    assert s.get("network.max_retries") == 3
    assert s.source("network.max_retries") == "default"


def test_each_layer_overrides_the_one_below_and_reports_its_source(isolated):
    user = isolated.qwen_home / "config.toml"
    project = isolated.work / ".qwen" / "config.toml"
    dotenv = isolated.work / ".env"
    _write(user, "[network]\nmax_retries = 1\nconnect_timeout = 1\nread_timeout = 1\nproxy = 'http://user'\n")
    _write(project, "[network]\nconnect_timeout = 2\nread_timeout = 2\nproxy = 'http://project'\n")
    _write(dotenv, "QWEN_NETWORK_READ_TIMEOUT=3\nQWEN_NETWORK_PROXY=http://dotenv\n")
    env = dict(os.environ, QWEN_NETWORK_PROXY="http://env")

    result = invoke(["config", "show", "--json"], env=env)
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)["settings"]
    assert settings["network.max_retries"] == {
        "value": 1,
        "source": f"user:{user}",
        "env": "QWEN_NETWORK_MAX_RETRIES",
        "trusted": True,
    }
    assert settings["network.connect_timeout"]["value"] == 2.0
    assert settings["network.connect_timeout"]["source"] == f"project:{project}"
    assert settings["network.read_timeout"]["value"] == 3.0
    assert settings["network.read_timeout"]["source"] == f".env:{dotenv}"
    proxy = settings["network.proxy"]
    assert proxy == {
        "value": "http://env",
        "source": "env:QWEN_NETWORK_PROXY",
        "env": "QWEN_NETWORK_PROXY",
        "trusted": True,
    }
    assert settings["chat.history_size"]["source"] == "default"


def test_flags_beat_everything(isolated):
    env = dict(os.environ, QWEN_NETWORK_MAX_RETRIES="9")
    s = Settings.load(env=env, cwd=isolated.work, flags={"network.max_retries": 0})
    assert s.get("network.max_retries") == 0
    assert s.source("network.max_retries") == "flag"


def test_dotenv_never_overrides_the_real_environment(isolated):
    _write(isolated.work / ".env", "OPENAI_MODEL=from-dotenv\nQWEN_MODEL=dotenv-model\n")
    env = dict(os.environ, OPENAI_MODEL="from-shell")
    s = Settings.load(env=env, cwd=isolated.work)
    assert s.getenv("OPENAI_MODEL") == "from-shell"
    assert s.env_source("OPENAI_MODEL") == "env:OPENAI_MODEL"
    assert s.get("general.model") == "dotenv-model"


def test_dotenv_discovery_order_and_first_file_only(isolated):
    nested = isolated.work / "a" / "b"
    nested.mkdir(parents=True)
    _write(isolated.work / ".env", "QWEN_MODEL=root-env\n")
    _write(isolated.work / "a" / ".env", "QWEN_MODEL=a-env\n")
    _write(isolated.work / "a" / ".qwen" / ".env", "QWEN_MODEL=a-qwen-env\nQWEN_NETWORK_MAX_RETRIES=7\n")
    s = Settings.load(env=os.environ, cwd=nested)
    assert s.get("general.model") == "a-qwen-env"
    assert s.dotenv_file == isolated.work / "a" / ".qwen" / ".env"
    (isolated.work / "a" / ".qwen" / ".env").unlink()
    s = Settings.load(env=os.environ, cwd=nested)
    assert s.get("general.model") == "a-env"
    # only the first file: root-env's keys are not merged in
    assert s.get("network.max_retries") == 3


def test_dotenv_falls_back_to_qwen_home_then_home(isolated, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    _write(isolated.home / ".env", "QWEN_MODEL=home-env\n")
    assert Settings.load(env=os.environ, cwd=outside).get("general.model") == "home-env"
    _write(isolated.qwen_home / ".env", "QWEN_MODEL=qwen-home-env\n")
    assert Settings.load(env=os.environ, cwd=outside).get("general.model") == "qwen-home-env"


def test_wrong_type_names_key_and_type(isolated):
    _write(isolated.qwen_home / "config.toml", "[network]\nmax_retries = 'many'\n")
    with pytest.raises(ConfigError) as info:
        Settings.load(env=os.environ, cwd=isolated.work)
    assert "network.max_retries" in info.value.message and "int" in info.value.message


def test_wrong_type_in_environment_is_exit_8(isolated):
    result = run_qwen(["config", "show"], env={"QWEN_NETWORK_CONNECT_TIMEOUT": "soon"})
    assert result.exit_code == 8
    assert "network.connect_timeout" in result.stderr and "QWEN_NETWORK_CONNECT_TIMEOUT" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_key_warns_with_suggestion(isolated):
    _write(isolated.qwen_home / "config.toml", "[network]\nmax_retry = 4\n")
    result = invoke(["config", "get", "network.max_retries"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "3"
    assert "did you mean 'network.max_retries'" in result.stderr


def test_project_file_may_not_hold_secrets(isolated):
    _write(isolated.work / ".qwen" / "config.toml", "[auth]\napi_key = 'sk-CANARY-project-0001'\n")
    result = run_qwen(["config", "show"])
    assert result.exit_code == 8
    assert "may not hold secrets" in result.stderr
    assert "sk-CANARY-project-0001" not in result.output


def test_set_get_unset_roundtrip_and_file_mode(isolated):
    assert invoke(["config", "set", "network.max_retries", "5"]).exit_code == 0
    cfg = isolated.qwen_home / "config.toml"
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert stat.S_IMODE(isolated.qwen_home.stat().st_mode) == 0o700
    assert invoke(["config", "get", "network.max_retries"]).stdout.strip() == "5"
    got = json.loads(invoke(["config", "get", "network.max_retries", "--json"]).stdout)
    assert got == {"key": "network.max_retries", "value": 5, "source": f"user:{cfg}"}
    assert invoke(["config", "unset", "network.max_retries"]).exit_code == 0
    assert invoke(["config", "get", "network.max_retries"]).stdout.strip() == "3"
    assert "network" not in cfg.read_text()


def test_set_validates_and_keeps_the_file(isolated):
    invoke(["config", "set", "network.max_retries", "5"])
    cfg = isolated.qwen_home / "config.toml"
    before = cfg.read_bytes()
    for args in (["network.max_retries", "lots"], ["privacy.usage_statistics", "maybe"], ["auth.method", "magic"]):
        result = invoke(["config", "set", *args])
        assert result.exit_code == 2, args  # a bad argument is a usage error (a bad file or env value is 8)
        assert result.stderr.startswith("Error: ")
    assert cfg.read_bytes() == before


def test_set_unknown_key_is_usage_error_with_suggestion(isolated):
    result = invoke(["config", "set", "netwrk.max_retries", "2"])
    assert result.exit_code == 2
    assert "did you mean 'network.max_retries'" in result.stderr


def test_set_project_writes_project_file(isolated):
    result = invoke(["config", "set", "--project", "general.model", "qwen3-coder-plus"])
    assert result.exit_code == 0
    project = isolated.work / ".qwen" / "config.toml"
    assert "qwen3-coder-plus" in project.read_text()
    shown = json.loads(invoke(["config", "show", "--json"]).stdout)["settings"]["general.model"]
    assert shown["source"] == f"project:{project}"


def test_repeated_writes_leave_no_temp_files(isolated):
    # That a write is atomic (a failure halfway leaves the old file whole) is tests/test_atomic_writes.py's:
    # a write in place passes this test and fails those.
    path = isolated.qwen_home / "config.toml"
    for i in range(20):
        write_value(path, "network.max_retries", i)
    assert sorted(p.name for p in isolated.qwen_home.iterdir()) == ["config.toml", "config.toml.lock"]  # the flock
    assert "max_retries = 19" in path.read_text()


def test_config_path(isolated):
    result = invoke(["config", "path"])
    first, *rest = result.stdout.splitlines()
    assert first.split()[0] == str(isolated.qwen_home / "config.toml")
    assert first.endswith("user (missing)")
    assert any(line.split()[0] == str(isolated.qwen_home / "credentials.toml") for line in rest)


def test_readme_configuration_reference_is_current():
    from pathlib import Path

    from qwen_cli.settings import reference_markdown

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("<!-- config-reference:start -->\n", 1)[1].split("<!-- config-reference:end -->", 1)[0]
    assert section == reference_markdown(), "README config table is stale: paste `qwen config reference` into it"


def test_config_show_and_get_never_print_a_proxy_password(isolated):
    env = dict(os.environ, QWEN_NETWORK_PROXY="http://alice:PROXY-PW-CANARY@proxy.example:8080")
    for args in (["config", "show"], ["config", "show", "--json"], ["config", "get", "network.proxy", "--json"]):
        result = invoke(args, env=env)
        assert result.exit_code == 0
        assert "PROXY-PW-CANARY" not in result.output
        assert "alice:…@proxy.example:8080" in result.stdout


def test_home_dotenv_files_fill_what_the_project_dotenv_leaves_unset(isolated):
    """Qwen Code 0.24: the project file first, then $QWEN_HOME/.env, then ~/.env, each filling only gaps."""
    _write(isolated.work / ".env", "QWEN_MODEL=project-model\n")
    _write(isolated.qwen_home / ".env", "QWEN_MODEL=qwen-home-model\nQWEN_NETWORK_MAX_RETRIES=6\n")
    _write(isolated.home / ".env", "QWEN_NETWORK_MAX_RETRIES=9\nQWEN_CHAT_HISTORY_SIZE=7\n")
    s = Settings.load(env=os.environ, cwd=isolated.work)
    assert (s.get("general.model"), s.source("general.model")) == ("project-model", f".env:{isolated.work / '.env'}")
    assert (s.get("network.max_retries"), s.source("network.max_retries")) == (6, f".env:{isolated.qwen_home / '.env'}")
    assert (s.get("chat.history_size"), s.source("chat.history_size")) == (7, f".env:{isolated.home / '.env'}")
    assert [f.trusted for f in s.dotenv_files] == [False, True, True]
