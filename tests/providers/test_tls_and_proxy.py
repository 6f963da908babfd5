"""TLS verification, CA bundles and proxies, through `qwen ask` against loopback servers."""

from __future__ import annotations

import pytest

from tests.helpers import invoke


def env_for(server, **extra):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": server.url, "OPENAI_MODEL": "test-model", **extra}


def test_untrusted_certificate_is_exit_6_naming_the_ca_settings(tls_server):
    result = invoke(["ask", "hi"], env=env_for(tls_server))
    assert result.exit_code == 6
    assert "TLS verification failed for 127.0.0.1" in result.stderr
    assert result.stderr.startswith("Error: TLS verification failed for 127.0.0.1:")
    assert result.stderr.splitlines()[0].endswith(": self-signed certificate")  # what is wrong with it
    for name in ("network.ca_bundle", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        assert name in result.stderr
    assert "Traceback" not in result.output
    assert tls_server.chat_requests == []


def test_https_to_a_plain_http_port_is_exit_6_not_an_internal_error(openai_server):
    env = env_for(openai_server, OPENAI_BASE_URL=f"https://127.0.0.1:{openai_server.port}/v1")
    result = invoke(["ask", "hi"], env=env)
    assert result.exit_code == 6, result.stderr
    assert f"the TLS handshake with 127.0.0.1:{openai_server.port} failed" in result.stderr
    assert "http://" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("variable", ["QWEN_NETWORK_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_ca_bundle_from_setting_or_environment(tls_server, variable):
    result = invoke(["ask", "hi"], env=env_for(tls_server, **{variable: str(tls_server.cert)}))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Hello from stub\n"


def test_ca_bundle_from_config_file(tls_server, isolated):
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(f'[network]\nca_bundle = "{tls_server.cert}"\n')
    assert invoke(["ask", "hi"], env=env_for(tls_server)).exit_code == 0


def test_missing_ca_bundle_file_is_a_config_error(tls_server):
    result = invoke(["ask", "hi"], env=env_for(tls_server, QWEN_NETWORK_CA_BUNDLE="/nonexistent/ca.pem"))
    assert result.exit_code == 8 and "/nonexistent/ca.pem does not exist" in result.stderr


def test_proxy_flag_routes_the_request_through_the_proxy(openai_server, proxy_server):
    result = invoke(["ask", "--proxy", proxy_server.base, "hi"], env=env_for(openai_server))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "via proxy\n"
    assert proxy_server.requests[0].path == f"{openai_server.url}/chat/completions"
    assert openai_server.requests == []


def test_proxy_setting(openai_server, proxy_server):
    result = invoke(["ask", "hi"], env=env_for(openai_server, QWEN_NETWORK_PROXY=proxy_server.base))
    assert result.stdout == "via proxy\n"


def test_no_proxy_bypasses_an_explicit_proxy(openai_server, proxy_server, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    result = invoke(["ask", "--proxy", proxy_server.base, "hi"], env=env_for(openai_server))
    assert result.stdout == "Hello from stub\n" and proxy_server.requests == []


def test_http_proxy_environment_is_honoured(openai_server, proxy_server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy_server.base)
    result = invoke(["ask", "hi"], env=env_for(openai_server))
    assert result.stdout == "via proxy\n"


def test_unreachable_proxy_is_exit_6_naming_the_proxy_settings(openai_server, monkeypatch):
    from qwen_cli.providers import http

    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)
    result = invoke(["ask", "--proxy", "http://127.0.0.1:9", "hi"], env=env_for(openai_server))
    assert result.exit_code == 6
    assert "proxy" in result.stderr and "HTTPS_PROXY" in result.stderr


def test_a_proxy_password_is_not_repeated_in_the_error(openai_server, monkeypatch):
    from qwen_cli.providers import http

    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)
    proxy = "http://alice:PROXY-PASS-CANARY@127.0.0.1:9"
    result = invoke(["--debug", "ask", "--proxy", proxy, "hi"], env=env_for(openai_server))
    assert result.exit_code == 6
    assert "PROXY-PASS-CANARY" not in result.output
    assert "cannot connect through the proxy (http://127.0.0.1:9)" in result.stderr
