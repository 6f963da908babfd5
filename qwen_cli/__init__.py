"""qwen: a fast, privacy-honest CLI for Qwen models and any OpenAI-compatible provider."""

__version__ = "0.1.0"

# The library API is in the subpackages (docs/python-api.md): `settings` (Settings.load), `auth` (resolve),
# `providers` (stream, list_models and the event classes), `errors` (QwenError). Importing this package
# imports none of them: `qwen --version` stays fast.
__all__ = ["__version__", "auth", "chat", "errors", "output", "providers", "settings", "telemetry", "termsafe"]
