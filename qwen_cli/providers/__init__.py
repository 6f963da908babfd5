"""How to talk: the requests-based adapter (OpenAI, Anthropic and Gemini protocols) and its SSE parser."""

# Public API, by submodule: openai_compat (stream, list_models), events (ChatRequest, NetworkOptions, the
# event classes), protocols (the wire formats the adapter speaks).
__all__ = ["events", "openai_compat", "protocols"]
