"""The resolver's order where the other tests leave it open (written from the survivors of a mutation run of
qwen_cli/auth/resolve.py): which of several candidates `qwen` picks. Each test runs the real `qwen` as a
subprocess; none of them needs a network."""

from __future__ import annotations

import json

import pytest

from tests.cli.qwen_code_files import write
from tests.helpers import run_qwen

DASHSCOPE_KEY = "sk-ds-RESOLVE-CANARY-1111"
PLAN_KEY = "sk-sp-RESOLVE-CANARY-2222"


def test_settings_json_keys_without_a_selection_go_in_the_environments_order(isolated):
    """settings.json's `env` holds two methods' keys and selects neither: the first in the environment's own
    order (DASHSCOPE_API_KEY before BAILIAN_CODING_PLAN_API_KEY) is used, as it would be from the shell."""
    env = {"DASHSCOPE_API_KEY": DASHSCOPE_KEY, "BAILIAN_CODING_PLAN_API_KEY": PLAN_KEY}
    path = write(isolated.qwen_home / "settings.json", json.dumps({"env": env}))

    token = run_qwen(["auth", "token"])
    assert token.exit_code == 0, token.stderr
    assert token.stdout == DASHSCOPE_KEY + "\n"

    status = run_qwen(["auth", "status", "--json"])
    assert status.exit_code == 0, status.stderr
    data = json.loads(status.stdout)
    assert (data["active"], data["active_provider"]) == ("api-key", "dashscope")
    (active,) = [m for m in data["methods"] if m["active"]]
    assert active["source"] == f"settings.json:{path}"
    assert DASHSCOPE_KEY not in status.output and PLAN_KEY not in status.output


HOME_PLAN = "sk-sp-HOMEPLAN-RESOLVE-33"
WORK_KEY = "sk-WORKKEY-RESOLVE-CANARY-44"


@pytest.mark.parametrize("where", ["config.toml", "QWEN_AUTH_METHOD"])
def test_a_named_profile_without_the_configured_method_uses_its_own_login(isolated, openai_server, where):
    """The default profile logs in with the Coding Plan (which writes auth.method = coding-plan to
    config.toml), the profile `work` holds only a custom key. `auth.method` from config.toml or from
    QWEN_AUTH_METHOD is no flag: in `work` it names a login that is not there, so work's own login is used;
    only `--method` insists (and fails)."""
    plan = ["auth", "login", "--method", "coding-plan", "--region", "global", "--key-stdin"]
    assert run_qwen(plan, input=HOME_PLAN).exit_code == 0
    custom = ["auth", "login", "--provider", "custom", "--base-url", openai_server.url, "--model", "m"]
    login = run_qwen([*custom, "--key-stdin", "--profile", "work"], input=WORK_KEY)
    assert login.exit_code == 0, login.stderr
    config = (isolated.qwen_home / "config.toml").read_text()
    assert 'method = "coding-plan"' in config
    env = {"QWEN_AUTH_METHOD": "coding-plan"} if where == "QWEN_AUTH_METHOD" else {}
    if env:
        (isolated.qwen_home / "config.toml").write_text(config.replace('method = "coding-plan"', ""))

    token = run_qwen(["auth", "token", "--profile", "work"], env=env)
    assert token.exit_code == 0, token.stderr
    assert token.stdout == WORK_KEY + "\n"
    assert run_qwen(["auth", "token"], env=env).stdout == HOME_PLAN + "\n"

    insisted = run_qwen(["auth", "token", "--profile", "work", "--method", "coding-plan"], env=env)
    assert insisted.exit_code == 3 and insisted.stdout == "", insisted.stderr
    for result in (token, insisted):
        assert HOME_PLAN not in result.stderr and WORK_KEY not in result.stderr
