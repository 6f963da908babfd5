"""qwen: a fast, privacy-honest CLI for Qwen models and any OpenAI-compatible provider."""

__version__ = "0.1.0"
