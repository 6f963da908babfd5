"""The single value the rest of the program uses to talk to a provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Credentials:
    method: str  # "qwen-oauth" | "coding-plan" | "api-key"
    provider: str  # catalogue id ("qwen", "openai", "ollama", "custom", ...)
    base_url: str  # OpenAI-compatible base, e.g. https://portal.qwen.ai/v1 (no trailing slash)
    model: str
    token: str | None = field(default=None, repr=False)  # never printed: repr hides it
    headers: dict[str, str] = field(default_factory=dict)
    source: str = ""  # where the secret came from: "env:OPENAI_API_KEY", ".env:/path", "credentials.toml", ...
    expires_at: float | None = None  # epoch seconds, for OAuth tokens
    # Called by the adapter after a 401/403: returns fresh credentials (forced refresh) or None.
    refresh: Callable[[], Credentials | None] | None = field(default=None, repr=False, compare=False)
