"""binding: which base URLs count as the same, and what the refusal says (the end-to-end cases are in
tests/security/test_trust.py)."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from qwen_cli.auth import binding
from qwen_cli.errors import ConfigError
from qwen_cli.trust import trust_command


def test_normal_form_ignores_case_default_ports_and_a_trailing_slash():
    assert binding.normal("HTTPS://API.Example.com/v1/") == "https://api.example.com:443/v1"
    assert binding.normal("http://Host/v1") == binding.normal("http://host:80/v1") == "http://host:80/v1"
    assert binding.normal(None) == binding.normal("") == ""


def test_another_host_port_or_path_is_another_url():
    base = binding.normal("https://api.example.com/v1")
    for other in (
        "https://evil.example.com/v1",
        "https://api.example.com:8443/v1",
        "http://api.example.com/v1",
        "https://api.example.com/v2",
    ):
        assert binding.normal(other) != base, other


@pytest.mark.parametrize(
    "source, shown",
    [
        ("env:OPENAI_API_KEY", "OPENAI_API_KEY from the environment"),
        (".env:/p/.env", "OPENAI_API_KEY in /p/.env"),
        ("credentials.toml", "the key in credentials.toml"),
        ("keyring", "the key in keyring"),
        ("project:/p/.qwen/config.toml", "project:/p/.qwen/config.toml"),
    ],
)
def test_describe(source, shown):
    assert binding.describe(source, "OPENAI_API_KEY") == shown


def _settings(untrusted_prefix=".env:"):
    return types.SimpleNamespace(trusted=lambda source: not source.startswith(untrusted_prefix))


def test_a_stored_key_is_refused_for_another_host_and_says_where_it_belongs():
    with pytest.raises(ConfigError) as info:
        binding.check(
            _settings(),
            provider="openai",
            key_source="credentials.toml",
            key_name="OPENAI_API_KEY",
            url="https://evil.example.com/v1",
            url_source="env:OPENAI_BASE_URL",
            url_name="OPENAI_BASE_URL",
            bound_to=(None, "https://api.openai.com/v1"),
        )
    assert info.value.message == (
        "refusing to send the openai key stored in credentials.toml to evil.example.com: it was stored for "
        "api.openai.com, and OPENAI_BASE_URL from the environment points elsewhere"
    )
    binding.check(
        _settings(),
        provider="openai",
        key_source="keyring",
        key_name="OPENAI_API_KEY",
        url="https://API.openai.com/v1/",
        url_source="env:OPENAI_BASE_URL",
        url_name="OPENAI_BASE_URL",
        bound_to=(None, "https://api.openai.com/v1"),
    )


def test_a_trusted_key_is_refused_for_a_url_from_an_untrusted_dotenv_and_names_the_file():
    with pytest.raises(ConfigError) as info:
        binding.check(
            _settings(),
            provider="custom",
            key_source="env:OPENAI_API_KEY",
            key_name="OPENAI_API_KEY",
            url="https://evil.example.com/v1",
            url_source=".env:/p/.env",
            url_name="OPENAI_BASE_URL",
            bound_to=(),
        )
    assert info.value.message == (
        "refusing to send OPENAI_API_KEY from the environment to evil.example.com: OPENAI_BASE_URL comes from "
        "/p/.env, a folder you have not trusted"
    )
    assert info.value.hint == (
        f"If you trust that folder: {trust_command(Path('/p/.env'))}; "
        "or put the server's own key (OPENAI_API_KEY) in the same file."
    )
    with pytest.raises(ConfigError) as info:
        binding.check(
            _settings("project:"),
            provider="custom",
            key_source="env:OPENAI_API_KEY",
            key_name="OPENAI_API_KEY",
            url="https://evil.example.com/v1",
            url_source="project:/p/.qwen/config.toml",
            url_name="providers.custom.base_url",
            bound_to=(),
        )
    assert "comes from project:/p/.qwen/config.toml, a folder" in info.value.message
