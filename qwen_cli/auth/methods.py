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
        Method("api-key", "API Key", "your own key for OpenAI, OpenRouter, DashScope and others, or a local server"),
    )
}
METHOD_IDS = tuple(METHODS)


def statistics_may_apply(method: str | None) -> bool:
    """Whether usage statistics may ever apply to a method (telemetry policy rule 2: never for api-key)."""
    # Interim, same answer as telemetry.policy.COLLECTING_METHODS: the method registry (issue 13) replaces
    # this module with one of the same name and signature.
    return method in ("qwen-oauth", "coding-plan")


def check_method(method: str) -> str:
    """`method` if it is one of the three ids; else the one usage error every caller shows."""
    if method not in METHODS:
        from qwen_cli.errors import UsageError

        raise UsageError(f"unknown auth method {method!r}", hint="Use one of: " + ", ".join(METHOD_IDS) + ".")
    return method

THREE_WAYS = "no credentials configured: log in with Qwen OAuth, an Alibaba Cloud Coding Plan key, or an API key"
THREE_WAYS_HINT = (
    "Run `qwen auth login` (on a terminal it lets you choose; off one add --method qwen-oauth|coding-plan|api-key), "
    "or set OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL."
)


def login_command(method: str, provider: str | None = None) -> str:
    """The exact command that creates credentials for a method."""
    if method == "coding-plan":
        return "qwen auth login --method coding-plan --region china|global"
    if method == "api-key":
        return "qwen auth login --method api-key" + (f" --provider {provider}" if provider else "")
    return "qwen auth login --method qwen-oauth"


def dashscope_headers(method: str) -> dict[str, str]:
    """Headers Alibaba's endpoints expect from Qwen OAuth and Coding Plan requests (none for other methods)."""
    from qwen_cli.providers.http import user_agent

    if method not in ("qwen-oauth", "coding-plan"):
        return {}
    headers = {"X-DashScope-CacheControl": "enable", "X-DashScope-UserAgent": user_agent()}
    if method == "qwen-oauth":
        headers["X-DashScope-AuthType"] = "qwen-oauth"
    return headers
