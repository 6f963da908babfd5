"""`qwen terms show` and `qwen_cli.terms`: which terms apply, for every method and kind of provider."""

from __future__ import annotations

import json
import os
import re
import stat
import time

import pytest

from qwen_cli import catalogue, terms
from qwen_cli.errors import UsageError
from tests.helpers import invoke, run_qwen

QWEN_TERMS = "https://qwen.ai/termsservice"
QWEN_PRIVACY = "https://qwen.ai/privacypolicy"
ALIYUN_TERMS = (
    "https://terms.aliyun.com/legal-agreement/terms/suit_bu1_ali_cloud/suit_bu1_ali_cloud201712130944_39600.html"
)
INTL_TERMS = "https://www.alibabacloud.com/help/en/legal/latest/alibaba-cloud-international-website-terms-of-use"
FAQ = ("used to train models?", "What do usage statistics cover?", "How do I switch methods?")


def show(*args, env=None):
    result = invoke(["terms", "show", *args], env=env)
    assert result.exit_code == 0, result.output
    return result


def show_json(*args, env=None) -> dict:
    return json.loads(show(*args, "--json", env=env).stdout)


def test_qwen_oauth_page_answers_the_faq_then_the_overview():
    out = show("--method", "qwen-oauth").stdout
    assert out.startswith("Qwen OAuth: you log in with your qwen.ai account.")
    assert QWEN_TERMS in out and QWEN_PRIVACY in out
    for question in FAQ:
        assert question in out
    assert "decided by Qwen's Privacy Policy" in " ".join(out.split())  # under whose policy
    assert out.index("How do I switch methods?") < out.index("Overview of the three methods")
    overview = out[out.index("Overview") :]
    for title in ("Qwen OAuth", "Alibaba Cloud Coding Plan", "API Key"):
        assert title in overview
    assert "Depends on your chosen API provider" in overview


def test_active_method_is_shown_by_default_with_its_source():
    out = show(env={"QWEN_AUTH_METHOD": "qwen-oauth"}).stdout
    assert out.startswith("Qwen OAuth (your active method, from env:QWEN_AUTH_METHOD)")


def test_no_method_configured_shows_the_overview_and_a_hint():
    out = show().stdout
    assert "No authentication method is configured yet" in out and "qwen terms show --all" in out
    assert "Overview of the three methods" in out


def test_coding_plan_shows_both_regions_or_the_configured_one():
    both = show("--method", "coding-plan").stdout
    assert ALIYUN_TERMS in both and INTL_TERMS in both and "both are listed" in both
    assert "Alibaba Cloud's privacy policy" in both
    configured = show(env={"QWEN_AUTH_METHOD": "coding-plan", "QWEN_AUTH_REGION": "intl"}).stdout
    assert INTL_TERMS in configured and ALIYUN_TERMS not in configured
    china = show_json("--method", "coding-plan", "--region", "cn")
    assert [d["id"] for d in china["pages"][0]["documents"]] == ["alibaba-cloud-china"]
    assert china["pages"][0]["region"] == "china"


def test_unknown_region_is_a_usage_error():
    result = invoke(["terms", "show", "--method", "coding-plan", "--region", "mars"])
    assert result.exit_code == 2 and "unknown Coding Plan region" in result.stderr


def test_api_key_page_with_a_catalogue_provider():
    page = show_json("--provider", "openai")["pages"][0]
    assert (page["method"], page["provider_id"], page["local"]) == ("api-key", "openai", False)
    (doc,) = page["documents"]
    assert doc["terms_url"] == catalogue.provider("openai").terms_url
    assert doc["privacy_url"] == catalogue.provider("openai").privacy_url
    assert "not Qwen's" in page["applies"]
    assert "collects nothing" in page["statistics"]


def test_api_key_provider_sharing_alibaba_terms():
    page = show_json("--provider", "dashscope-intl")["pages"][0]
    assert [d["id"] for d in page["documents"]] == ["alibaba-cloud-international"]


def test_catalogue_provider_without_urls_says_see_your_providers_terms():
    page = show_json("--provider", "deepseek")["pages"][0]
    assert page["documents"] == [] and "see your provider's terms" in page["note"]


def test_custom_provider_depends_on_the_provider():
    result = show("--provider", "custom")
    assert "depends on your provider: see its terms" in result.stdout.lower()
    page = show_json("--provider", "custom")["pages"][0]
    assert page["documents"] == [] and page["provider_id"] == "custom"


@pytest.mark.parametrize("provider, guess", [("openrouer", "; did you mean 'openrouter'?"), ("my-gateway", "")])
def test_a_provider_not_in_the_catalogue_is_a_usage_error_as_at_login(provider, guess):
    for command in (["terms", "show"], ["auth", "login", "--key-stdin"]):
        result = run_qwen([*command, "--provider", provider], input="sk-unused-0000")
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines[0] == f"Error: unknown provider {provider!r}{guess}"
        assert lines[1].startswith("Hint: Known providers: openai, ")


@pytest.mark.parametrize("provider", ["ollama", "lmstudio", "vllm"])
def test_local_provider_says_nothing_leaves_this_machine(provider):
    out = show("--provider", provider).stdout
    assert "Nothing leaves this machine" in out
    page = show_json("--provider", provider)["pages"][0]
    assert page["local"] is True and page["documents"] == []


def test_configured_api_key_provider_is_used():
    page = show_json(env={"QWEN_AUTH_METHOD": "api-key", "QWEN_AUTH_PROVIDER": "ollama"})["pages"][0]
    assert page["provider_id"] == "ollama" and page["local"] is True


def test_all_lists_every_method_and_provider():
    data = show_json("--all")
    assert [p["method"] for p in data["pages"]] == ["qwen-oauth", "coding-plan", "api-key"]
    assert {row["id"] for row in data["providers"]} == set(catalogue.providers())
    text = show("--all").stdout
    assert "API key providers in the catalogue" in text and "local: nothing leaves this machine" in text


def test_json_shape():
    data = show_json("--method", "qwen-oauth")
    assert set(data) == {"active", "pages", "overview", "summary"}
    assert set(data["active"]) == {"method", "method_source", "provider", "region"}
    (page,) = data["pages"]
    for key in (
        "method",
        "title",
        "provider",
        "provider_id",
        "region",
        "local",
        "applies",
        "documents",
        "note",
        "training",
        "statistics",
        "ours",
        "switch",
        "checked",
    ):
        assert key in page
    doc = page["documents"][0]
    assert set(doc) == {"id", "who", "terms_name", "terms_url", "privacy_name", "privacy_url", "checked"}
    assert [row["method"] for row in data["overview"]] == ["qwen-oauth", "coding-plan", "api-key"]
    assert data["summary"] == [terms.summary_line("qwen-oauth")]


def test_summary_line_for_every_method_and_kind_of_provider():
    lines = {
        "oauth": terms.summary_line("qwen-oauth"),
        "plan": terms.summary_line("coding-plan"),
        "plan-global": terms.summary_line("coding-plan", region="global"),
        "openai": terms.summary_line("api-key", "openai"),
        "custom": terms.summary_line("api-key", "custom"),
        "unknown": terms.summary_line("api-key", "nope"),
        "local": terms.summary_line("api-key", "ollama"),
        "none": terms.summary_line(None),
    }
    assert all("\n" not in line and line for line in lines.values())
    assert QWEN_TERMS in lines["oauth"]
    assert "Alibaba Cloud" in lines["plan"] and INTL_TERMS in lines["plan-global"]
    assert "openai.com" in lines["openai"] and "not Qwen's" in lines["openai"]
    assert lines["custom"] == "Terms: API Key with a custom provider: its own terms apply, not Qwen's."
    assert lines["unknown"] == "Terms: API Key with nope (not in the catalogue): its own terms apply, not Qwen's."
    assert terms.summary_line("api-key") == "Terms: API Key: the terms of the provider you choose apply, not Qwen's."
    assert terms.summary_line("api-key", "deepseek") == (
        "Terms: API Key with DeepSeek: the terms of DeepSeek apply, not Qwen's; see its website."
    )
    assert "nothing leaves this machine" in lines["local"]
    assert terms.summary_line("coding-plan", region="mars") == lines["plan"]  # never raises on settings values
    with pytest.raises(UsageError):
        terms.summary_line("password")


def test_terms_data_is_dated_and_matches_the_facts():
    data = catalogue.load("terms")
    for section in ("documents", "methods"):
        for entry in data[section].values():
            assert re.match(r"^\d{4}-\d{2}-\d{2}$", entry["checked"])
    docs = terms.documents()
    assert (docs["qwen"].terms_url, docs["qwen"].privacy_url) == (QWEN_TERMS, QWEN_PRIVACY)
    assert docs["alibaba-cloud-china"].terms_url == ALIYUN_TERMS
    assert docs["alibaba-cloud-international"].terms_url == INTL_TERMS
    # Every `terms = "<id>"` in providers.toml names a document here; provider URLs are not duplicated.
    for region in catalogue.regions().values():
        assert region.terms in docs
    for provider in catalogue.providers().values():
        assert provider.terms is None or provider.terms in docs
    urls = {u for d in docs.values() for u in (d.terms_url, d.privacy_url)}
    assert not urls & {u for p in catalogue.providers().values() for u in (p.terms_url, p.privacy_url) if u}


def _fake_opener(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "opened.txt"
    script = bin_dir / "xdg-open"
    script.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir, log


def test_open_uses_a_graphical_opener_when_there_is_a_display(tmp_path):
    bin_dir, log = _fake_opener(tmp_path)
    env = {"DISPLAY": ":0", "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = invoke(["terms", "show", "--method", "qwen-oauth", "--open"], env=env)
    assert result.exit_code == 0 and f"Opened {QWEN_TERMS}" in result.stderr
    deadline = time.monotonic() + 5
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert log.read_text().strip() == QWEN_TERMS


def test_open_without_a_usable_browser_prints_the_url_and_does_not_hang(tmp_path):
    bin_dir, log = _fake_opener(tmp_path)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "SSH_CONNECTION": "1 2 3 4"}
    started = time.monotonic()
    result = run_qwen(["terms", "show", "--method", "qwen-oauth", "--open"], env=env, timeout=20)
    assert time.monotonic() - started < 10
    assert result.exit_code == 0 and "open this URL yourself" in result.stderr and QWEN_TERMS in result.stderr
    assert not log.exists()
    data = show_json("--provider", "custom", "--open", env=env)
    assert data["opened"] == {"url": None, "opened": False}
    assert terms.browser_command({"PATH": str(bin_dir)}, "linux") is None
    assert terms.browser_command({"PATH": str(bin_dir), "WAYLAND_DISPLAY": "w"}, "linux") == [str(bin_dir / "xdg-open")]


def test_active_method_follows_the_resolver_without_auth_method(isolated):
    env = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    data = show_json(env=env)
    assert data["active"]["method"] == "api-key" and data["active"]["method_source"].startswith("env:")
    assert data["pages"][0]["method"] == "api-key"
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "credentials.toml").write_text('[coding-plan]\nregion = "global"\nkey = "sk-sp-x"\n')
    data = show_json(env={"QWEN_AUTH_METHOD": "coding-plan"})
    assert data["active"]["region"] == "global"
    assert [d["id"] for d in data["pages"][0]["documents"]] == ["alibaba-cloud-international"]
