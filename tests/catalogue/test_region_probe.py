"""A key that finds its region: two loopback "regions" of one provider that accept different keys."""

from __future__ import annotations

import pytest

from tests.helpers import invoke
from tests.servers.openai_stub import OpenAIStub

INTL_KEY, CHINA_KEY = "sk-intl-key", "sk-china-key"


@pytest.fixture
def regions(isolated):
    intl, china = OpenAIStub(accept_tokens={INTL_KEY}).start(), OpenAIStub(accept_tokens={CHINA_KEY}).start()
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(
        f'[providers.minimax.regions.international]\nbase_url = "{intl.url}"\n'
        f'[providers.minimax.regions.china]\nbase_url = "{china.url}"\n'
    )
    yield intl, china
    intl.stop()
    china.stop()


def _login(region, key, tty=False):
    return invoke(
        ["auth", "login", "--provider", "minimax", "--region", region, "--key-stdin", "--verify"], input=key, tty=tty
    )


def test_a_key_from_the_other_region_is_named_with_the_command_that_fixes_it(isolated, regions):
    intl, china = regions
    result = _login("intl", CHINA_KEY)
    assert result.exit_code == 3
    assert "MiniMax rejected the key in the international region, but the china region accepted it" in result.stderr
    command = "qwen auth login --method api-key --provider minimax --region china --verify"
    assert f"Hint: Log in for that region: {command}" in result.stderr
    assert CHINA_KEY not in result.output
    assert not (isolated.qwen_home / "credentials.toml").exists()  # nothing saved
    assert [r.bearer for r in intl.requests] == [CHINA_KEY]
    assert [(r.path, r.bearer) for r in china.requests] == [("/v1/models", CHINA_KEY)]
    fixed = invoke(command.split()[1:] + ["--key-stdin"], input=CHINA_KEY)
    assert fixed.exit_code == 0, fixed.stderr
    assert invoke(["ask", "hi"]).exit_code == 0
    assert china.chat_requests[-1].bearer == CHINA_KEY


def test_a_key_no_region_accepts_is_the_plain_rejection(regions):
    intl, china = regions
    result = _login("intl", "sk-nobodys-key")
    assert result.exit_code == 3 and "the new key was not saved" in result.stderr
    assert "accepted it" not in result.stderr
    assert [r.path for r in china.requests] == ["/v1/models"]  # the sibling was asked, and said no


def test_the_right_region_is_not_probed_further(regions):
    intl, china = regions
    assert _login("intl", INTL_KEY).exit_code == 0
    assert china.requests == []


def test_a_401_at_ask_names_the_region_that_accepts_the_key(isolated, regions):
    intl, china = regions
    result = invoke(["ask", "hi"], env={"MINIMAX_API_KEY": CHINA_KEY, "QWEN_AUTH_PROVIDER": "minimax"})
    assert result.exit_code == 3
    assert "the china region accepted it" in result.stderr
    assert "qwen auth login --method api-key --provider minimax --region china" in result.stderr
    assert china.chat_requests == [] and [r.path for r in china.requests] == ["/v1/models"]


def test_a_401_no_region_explains_is_the_providers_own_answer(isolated, regions):
    intl, china = regions
    result = invoke(["ask", "hi"], env={"MINIMAX_API_KEY": "sk-nobodys-key", "QWEN_AUTH_PROVIDER": "minimax"})
    assert result.exit_code == 3 and "rejected the credentials with HTTP 401" in result.stderr


def test_on_a_terminal_the_login_offers_to_switch_to_the_region_that_accepts_the_key(isolated, regions):
    import io
    import os

    import pexpect

    from qwen_cli.settings import read_toml
    from tests.helpers import qwen_command

    intl, china = regions
    command = qwen_command()
    child = pexpect.spawn(
        command[0],
        command[1:]
        + ["auth", "login", "--provider", "minimax", "--region", "intl", "--model", "MiniMax-M3", "--verify"],
        env=dict(os.environ, TERM="xterm"),
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
    )
    child.logfile_read = io.StringIO()
    child.expect("input hidden")
    child.sendline(CHINA_KEY)
    child.expect_exact("MiniMax's china region accepts this key. Log in there instead?")
    child.sendline("y")
    child.expect_exact("Logged in: API Key (minimax), china region")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.logfile_read.getvalue()
    assert read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["minimax"]["region"] == "china"


# -- the Coding Plan: its two sites are regions too ----------------------------------------------------------

PLAN_GLOBAL_KEY, PLAN_CHINA_KEY = "sk-sp-global-key", "sk-sp-china-key"


@pytest.fixture
def plan_sites(isolated):
    global_site = OpenAIStub(accept_tokens={PLAN_GLOBAL_KEY}).start()
    china_site = OpenAIStub(accept_tokens={PLAN_CHINA_KEY}).start()
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(
        f'[providers.coding-plan.regions.global]\nbase_url = "{global_site.url}"\n'
        f'[providers.coding-plan.regions.china]\nbase_url = "{china_site.url}"\n'
    )
    yield global_site, china_site
    global_site.stop()
    china_site.stop()


def test_a_coding_plan_key_from_the_other_site_is_named_at_login(isolated, plan_sites):
    global_site, china_site = plan_sites
    result = invoke(
        ["auth", "login", "--method", "coding-plan", "--region", "global", "--key-stdin", "--verify"],
        input=PLAN_CHINA_KEY,
    )
    assert result.exit_code == 3, result.stderr
    assert "The Coding Plan rejected the key in the global region, but the china region accepted it" in result.stderr
    command = "qwen auth login --method coding-plan --region china --verify"
    assert f"Hint: Log in for that region: {command}" in result.stderr
    assert PLAN_CHINA_KEY not in result.output
    assert not (isolated.qwen_home / "credentials.toml").exists()
    assert [(r.path, r.bearer) for r in china_site.requests] == [("/v1/models", PLAN_CHINA_KEY)]
    fixed = invoke(command.split()[1:] + ["--key-stdin"], input=PLAN_CHINA_KEY)
    assert fixed.exit_code == 0, fixed.stderr
    assert invoke(["ask", "hi"]).exit_code == 0
    assert china_site.chat_requests[-1].bearer == PLAN_CHINA_KEY


def test_a_coding_plan_401_at_ask_names_the_site_that_accepts_the_key(isolated, plan_sites):
    global_site, china_site = plan_sites
    env = {
        "BAILIAN_CODING_PLAN_API_KEY": PLAN_CHINA_KEY,
        "QWEN_AUTH_METHOD": "coding-plan",
        "QWEN_AUTH_REGION": "global",
    }
    result = invoke(["ask", "hi"], env=env)
    assert result.exit_code == 3, result.stderr
    assert "the china region accepted it" in result.stderr
    assert "qwen auth login --method coding-plan --region china" in result.stderr
    assert PLAN_CHINA_KEY not in result.output
    assert china_site.chat_requests == [] and [r.path for r in china_site.requests] == ["/v1/models"]


def test_a_coding_plan_key_its_own_site_accepts_is_not_probed_further(plan_sites):
    global_site, china_site = plan_sites
    result = invoke(
        ["auth", "login", "--method", "coding-plan", "--region", "global", "--key-stdin", "--verify"],
        input=PLAN_GLOBAL_KEY,
    )
    assert result.exit_code == 0, result.stderr
    assert china_site.requests == []
