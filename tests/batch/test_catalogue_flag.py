"""The catalogue's `batch` flag: only where the provider's own docs describe the OpenAI-compatible Batch API
(providers.toml cites them), by region for Model Studio; unknown elsewhere, so `submit` refuses."""

from __future__ import annotations

from qwen_cli import catalogue
from qwen_cli.auth.credentials import Credentials
from qwen_cli.batch import support


def test_openai_and_model_studio_beijing_and_singapore_only():
    flagged = {
        (p.id, r.id if r else None)
        for p in catalogue.providers().values()
        for r in [*p.regions.values()] or [None]
        if p.has_batch(r.base_url if r else p.base_url)
    }
    assert flagged == {
        ("openai", None),
        ("dashscope", "cn-beijing"),
        ("dashscope", "sg-singapore"),
        ("dashscope-intl", "cn-beijing"),
        ("dashscope-intl", "sg-singapore"),
    }


def test_a_model_studio_key_at_another_url_is_not_known_to_have_it():
    def creds(provider: str, url: str, method: str = "api-key") -> Credentials:
        return Credentials(method=method, provider=provider, base_url=url, model="m")

    assert support.documented(creds("dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/"))
    assert not support.documented(creds("dashscope", "https://dashscope-us.aliyuncs.com/compatible-mode/v1"))
    assert not support.documented(creds("dashscope", "https://proxy.example.invalid/v1"))
    assert not support.documented(creds("qwen", "https://dashscope.aliyuncs.com/compatible-mode/v1", "coding-plan"))
