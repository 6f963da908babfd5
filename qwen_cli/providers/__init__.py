"""How to talk: the requests-based OpenAI-compatible adapter, its SSE parser and the provider catalogue."""
