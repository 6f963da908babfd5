"""The three authentication methods: ids, one-line descriptions, and the terms line shown at login."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    id: str
    title: str
    blurb: str


METHODS: dict[str, Method] = {
    m.id: m
    for m in (
        Method("qwen-oauth", "Qwen OAuth",
               "log in with your qwen.ai account in a browser (the free tier ended on 2026-04-15)"),
        Method("coding-plan", "Alibaba Cloud Coding Plan", "a Coding Plan key (sk-sp-...) from Alibaba Cloud Bailian"),
        Method("api-key", "API Key", "your own key for OpenAI, OpenRouter, DashScope, a local server, ..."),
    )
}
METHOD_IDS = tuple(METHODS)

THREE_WAYS = (
    "no credentials configured: run `qwen auth login --method qwen-oauth`, "
    "`qwen auth login --method coding-plan --region global --key-stdin`, "
    "or set OPENAI_API_KEY + OPENAI_BASE_URL + OPENAI_MODEL (or `qwen auth login --method api-key`)"
)


def login_command(method: str, provider: str | None = None) -> str:
    """The exact command that creates credentials for a method."""
    if method == "coding-plan":
        return "qwen auth login --method coding-plan --region china|global"
    if method == "api-key":
        return "qwen auth login --method api-key" + (f" --provider {provider}" if provider else "")
    return "qwen auth login --method qwen-oauth"


def terms_line(method: str, provider: str | None = None, region: str | None = None) -> str:
    """One line naming the terms that apply. Uses qwen_cli.terms when present, else the catalogue."""
    try:
        from qwen_cli.terms import summary_line
    except ImportError:
        summary_line = None
    if summary_line is not None:
        try:
            line = summary_line(method, provider=provider, region=region)
            if line:
                return line
        except Exception:  # noqa: BLE001 - a terms lookup problem must never block a login
            pass
    return _fallback_terms_line(method, provider, region)


def _fallback_terms_line(method: str, provider: str | None, region: str | None) -> str:
    from qwen_cli import catalogue

    if method == "qwen-oauth":
        return "Terms: Qwen's Terms of Service and Privacy Policy apply (qwen terms show --method qwen-oauth)."
    if method == "coding-plan":
        site = "Alibaba Cloud"
        if region:
            try:
                site = catalogue.region(region).site
            except Exception:  # noqa: BLE001
                pass
        return f"Terms: Alibaba Cloud's terms and privacy policy for {site} apply (qwen terms show)."
    if provider:
        try:
            prov = catalogue.provider(provider)
        except Exception:  # noqa: BLE001
            prov = None
        if prov is not None and prov.local:
            return f"Terms: {prov.name} runs on your machine; nothing is sent to a third party."
        if prov is not None and prov.terms_url:
            privacy = f", privacy {prov.privacy_url}" if prov.privacy_url else ""
            return f"Terms: {prov.name}'s terms apply: {prov.terms_url}{privacy}."
        if prov is not None:
            return f"Terms: {prov.name}'s terms and privacy policy apply; see your provider's terms."
    return "Terms: your provider's terms and privacy policy apply, not Qwen's; see your provider's terms."


def dashscope_headers(method: str) -> dict[str, str]:
    """Headers Alibaba's endpoints expect from Qwen OAuth and Coding Plan requests (none for other methods)."""
    from qwen_cli.providers.http import user_agent

    if method not in ("qwen-oauth", "coding-plan"):
        return {}
    headers = {"X-DashScope-CacheControl": "enable", "X-DashScope-UserAgent": user_agent()}
    if method == "qwen-oauth":
        headers["X-DashScope-AuthType"] = "qwen-oauth"
    return headers
