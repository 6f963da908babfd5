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
