"""`qwen terms show` lists each data-use fact with its source under the terms and privacy links."""

from __future__ import annotations

import json

from tests.helpers import run_qwen


def test_terms_show_lists_the_facts_with_their_sources_under_the_links():
    result = run_qwen(["terms", "show", "--provider", "openai"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.index("Privacy Notice:   https://openai.com/policies/privacy-policy") < out.index("Data use: OpenAI")
    assert "    Trains on API inputs by default: no\n" in out
    assert "      source: https://developers.openai.com/docs/guides/your-data (checked " in out
    assert "    Retention of prompts and answers: up to 30 days\n" in out
    for heading in ("How to opt out:", "Zero-retention option: on-request", "Processing region(s):"):
        assert heading in out


def test_a_region_picks_its_entry_and_no_region_lists_every_one():
    def data_use(*args):
        result = run_qwen(["terms", "show", *args, "--json"])
        assert result.exit_code == 0, result.stderr
        (page,) = json.loads(result.stdout)["pages"]
        return {e["entry"]: e["facts"]["trains"]["value"] for e in page["data_use"]}

    assert data_use("--method", "coding-plan") == {"coding-plan/china": "unknown", "coding-plan/global": "no"}
    assert data_use("--method", "coding-plan", "--region", "global") == {"coding-plan/global": "no"}
    assert data_use("--provider", "dashscope", "--region", "us") == {"dashscope/us-virginia": "no"}
    assert data_use("--provider", "ollama") == {"ollama": "no"}


def test_a_local_server_says_nothing_leaves_the_machine():
    out = run_qwen(["terms", "show", "--provider", "lmstudio"]).stdout
    assert "Processing region(s): this machine" in out
    assert "Retention of prompts and answers: not sent" in out


def test_login_prints_the_training_answer_for_the_chosen_provider_and_region():
    result = run_qwen(
        ["auth", "login", "--method", "coding-plan", "--region", "global", "--key-stdin"], input="sk-sp-1"
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "Training: Alibaba Cloud Coding Plan (global) does not use API inputs for training by default "
        "(https://www.alibabacloud.com/help/en/model-studio/qwen-and-wan-training-data-disclosure, checked "
    ) in result.stderr
    china = run_qwen(["auth", "login", "--method", "coding-plan", "--region", "china", "--key-stdin"], input="sk-sp-2")
    assert "Training: whether Alibaba Cloud Coding Plan (china) uses API inputs for training is not on record" in (
        china.stderr
    )
    local = run_qwen(["auth", "login", "--provider", "ollama", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"])
    assert "Training: Ollama (local): nothing leaves this machine" in local.stderr
