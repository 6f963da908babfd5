"""How to talk: the requests-based OpenAI-compatible adapter, its SSE parser and the provider catalogue."""

# Public API, by submodule: openai_compat (stream, list_models), events (ChatRequest, NetworkOptions, the
# event classes).
__all__ = ["events", "openai_compat"]
