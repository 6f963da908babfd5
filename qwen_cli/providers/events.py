"""The small contract between the adapter and everything that renders or records answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_cli.settings import Settings

# Read from the environment or .env when network.ca_bundle is not set, in this order.
CA_ENV_VARS = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")


@dataclass
class ChatRequest:
    """One chat completion to send: the messages and the options that shape the answer."""

    messages: list[dict[str, Any]]
    model: str | None = None  # None: use credentials.model
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: list[str] | None = None  # stop sequences
    stream: bool = True
    model_choice: str = "-m MODEL"  # how the person picks another model where they are, for the not-found hint
    # Body fields a feature adds as they are (e.g. --schema's response_format); the named fields above win.
    extra_body: dict[str, Any] = field(default_factory=dict)
    json_answer: bool = False  # ask for JSON in the protocol's own words (Gemini's responseMimeType)


@dataclass
class NetworkOptions:
    """Timeouts, retries, size caps, proxy, CA bundle and extra headers for one invocation's requests."""

    max_retries: int = 3
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    headers_timeout: float = 180.0  # 0 turns each of these four limits off
    idle_timeout: float = 300.0
    max_response_bytes: int = 32 * 1024 * 1024
    max_event_bytes: int = 8 * 1024 * 1024
    proxy: str | None = None
    ca_bundle: str | None = None
    allow_insecure_http: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, provider: str | None = None) -> NetworkOptions:
        headers = {}
        if provider:
            table = settings.table("providers").get(provider, {})
            headers = {str(k): str(v) for k, v in (table.get("headers") or {}).items()}
        ca_bundle = settings.get("network.ca_bundle")
        for name in CA_ENV_VARS:
            ca_bundle = ca_bundle or settings.getenv(name)
        return cls(
            max_retries=settings.get("network.max_retries"),
            connect_timeout=settings.get("network.connect_timeout"),
            read_timeout=settings.get("network.read_timeout"),
            headers_timeout=settings.get("network.headers_timeout"),
            idle_timeout=settings.get("network.idle_timeout"),
            max_response_bytes=settings.get("network.max_response_bytes"),
            max_event_bytes=settings.get("network.max_event_bytes"),
            proxy=settings.get("network.proxy"),
            ca_bundle=ca_bundle,
            allow_insecure_http=settings.get("network.allow_insecure_http"),
            extra_headers=headers,
        )


@dataclass
class TextDelta:
    """A piece of answer text, as it arrives."""

    text: str


@dataclass
class ReasoningDelta:
    """A piece of the model's reasoning text, as it arrives (kept apart from the answer)."""

    text: str


@dataclass
class Usage:
    """Token counts the provider reported for one answer (None where it reported none)."""

    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None

    def as_dict(self) -> dict[str, int | None]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass
class Finish:
    """The end of an answer: the provider's finish reason and the model it names."""

    reason: str | None
    model: str | None


Event = TextDelta | ReasoningDelta | Usage | Finish
