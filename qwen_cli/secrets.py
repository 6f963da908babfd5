"""Masking of secrets for display: the only form in which a key may appear in output."""

from __future__ import annotations

import re


def mask(secret: str | None) -> str:
    """`sk-abcdef123456` -> `sk-…3456`. Short secrets are hidden entirely."""
    if not secret:
        return ""
    if len(secret) < 12:
        return "…" + "*" * 4
    prefix = secret[:3] if secret[:3].isascii() else ""
    return f"{prefix}…{secret[-4:]}"


_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)([^@\s/]+)(@)")
_BEARER = re.compile(r"(?i)(bearer\s+)([^\s'\"]+)")
_KEYISH = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6,})")


_MIN_SECRET = 6
_registered: set[str] = set()


def register(*values: str | None) -> None:
    """Make secrets that library code learns (OAuth tokens, device codes) redacted wherever `redact` runs:
    error lines, --debug output, tracebacks. The process-wide counterpart of `app.secrets`."""
    for value in values:
        if isinstance(value, str) and len(value) >= _MIN_SECRET:
            _registered.add(value)


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Remove known secrets (these and the registered ones) and anything that looks like a bearer token or
    an sk- key from text."""
    known = {s for s in secrets if s and len(s) >= _MIN_SECRET} | _registered
    for s in sorted(known, key=len, reverse=True):  # longest first: a secret containing another is hidden whole
        text = text.replace(s, mask(s))
    text = hide_url_password(text)
    text = _BEARER.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    return _KEYISH.sub(lambda m: mask(m.group(1)), text)


def hide_url_password(text: str) -> str:
    """`http://alice:s3cret@proxy:8080` -> `http://alice:…@proxy:8080`, anywhere in the text."""
    return _URL_PASSWORD.sub(lambda m: m.group(1) + "…" + m.group(3), text)
