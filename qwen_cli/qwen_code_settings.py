"""Qwen Code's `settings.json`, read-only: the keys qwen can use from it (Qwen Code 0.24.4,
`cli/src/config/settings.ts`, `core/src/providers/install.ts`; facts §1 and §3).

The file is JSONC (comments and trailing commas) and `$VAR` / `${VAR}` in its strings are expanded from the
environment, unknown names left as written. Only the `openai` protocol's `modelProviders` entries are taken.
Nothing here writes the file; qwen_cli/qwen_code_source.py maps what is read into qwen's sources.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_cli import paths

FILE_NAME = paths.QWEN_CODE_SETTINGS
PROTOCOLS = ("openai",)  # the modelProviders keys qwen reads for now


class JsoncError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def strip_jsonc(text: str) -> str:
    """`text` as plain JSON: comments become spaces (so line and column numbers stay) and a comma before a
    closing `}` or `]` is dropped. Strings are copied untouched, escapes included."""
    out: list[str] = []
    i, n = 0, len(text)
    pending_comma: int | None = None  # index in `out` of a comma that may turn out to be trailing
    while i < n:
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            pending_comma = None
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                line, column = _position(text, i)
                raise JsoncError("unterminated /* comment", line, column)
            out.append(re.sub(r"[^\n]", " ", text[i : end + 2]))
            i = end + 2
        else:
            if ch in "}]" and pending_comma is not None:
                out[pending_comma] = " "
            if ch == ",":
                pending_comma = len(out)
            elif not ch.isspace():
                pending_comma = None
            out.append(ch)
            i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        elif text[i] == "\n":
            break
        else:
            i += 1
    line, column = _position(text, start)
    raise JsoncError("unterminated string", line, column)


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_jsonc(text: str) -> Any:
    """Parse JSONC; a syntax error is a JsoncError with its line and column."""
    plain = strip_jsonc(text)
    try:
        return json.loads(plain)
    except json.JSONDecodeError as exc:
        raise JsoncError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsoncError("nested too deeply", 1, 1) from None


_VAR = re.compile(r"\$(?:(\w+)|\{([^}]+)\})")


def expand(value: Any, env: Mapping[str, str]) -> Any:
    """`$VAR` and `${VAR}` replaced in every string of `value` (keys too), unknown names kept as written."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), value)
    if isinstance(value, list):
        return [expand(item, env) for item in value]
    if isinstance(value, dict):
        return {expand(k, env): expand(v, env) for k, v in value.items()}
    return value


def _env_name_part(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def custom_env_key(protocol: str, base_url: str) -> str:
    """The variable Qwen Code's /auth stores a custom provider's key under (facts §1):
    `QWEN_CUSTOM_API_KEY_<N(protocol)>_<N(baseUrl)>_<HEX12>`, HEX12 from sha256(`protocol\\0baseUrl`)."""
    from qwen_cli.qwen_code_source import CUSTOM_KEY_PREFIX

    url = base_url.rstrip("/")
    digest = hashlib.sha256(f"{protocol}\0{url}".encode()).hexdigest()[:12].upper()
    return f"{CUSTOM_KEY_PREFIX}{_env_name_part(protocol)}_{_env_name_part(url)}_{digest}"


@dataclass(frozen=True)
class ModelProvider:
    """One `modelProviders.<protocol>[]` entry: `id` is the model id, `base_url` where it is served."""

    protocol: str
    id: str
    name: str | None
    base_url: str | None
    env_key: str | None

    def key_variable(self) -> str | None:
        """The variable holding its key: `envKey`, else the generated custom-provider name."""
        if self.env_key:
            return self.env_key
        return custom_env_key(self.protocol, self.base_url) if self.base_url else None


@dataclass
class QwenCodeSettings:
    path: Path
    providers: list[ModelProvider] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # settings.env, plain-text keys included
    selected_type: str | None = None  # security.auth.selectedType
    model: str | None = None  # model.name
    usage_statistics: bool | None = None  # privacy.usageStatisticsEnabled
    warnings: list[str] = field(default_factory=list)

    def selected_provider(self) -> ModelProvider | None:
        """The entry Qwen Code would use: with selectedType `openai`, the openai entry whose id is model.name."""
        if self.selected_type != "openai":
            return None
        return next((p for p in self.providers if p.protocol == "openai" and p.id == self.model), None)


def user_file(home: Path) -> Path:
    return paths.qwen_code_settings_file(home)


def load(path: Path, env: Mapping[str, str]) -> QwenCodeSettings | None:
    """The usable parts of one settings.json, None when there is none. A file that can't be read or parsed
    gives a warning and nothing else: it is Qwen Code's, and qwen works without it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return QwenCodeSettings(path, warnings=[f"ignoring {path}: {exc.strerror or exc}"])
    return parse(path, raw, env)


def parse(path: Path, raw: bytes, env: Mapping[str, str]) -> QwenCodeSettings:
    """`load` for bytes already read (a project file's trust is judged on the same bytes)."""
    try:
        data = parse_jsonc(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return QwenCodeSettings(path, warnings=[f"ignoring {path}: not valid UTF-8"])
    except JsoncError as exc:
        return QwenCodeSettings(path, warnings=[f"ignoring {path}:{exc.line}:{exc.column}: {exc}"])
    if not isinstance(data, dict):
        return QwenCodeSettings(path, warnings=[f"ignoring {path}: not a JSON object"])
    data = expand(data, env)
    return QwenCodeSettings(
        path,
        providers=_providers(data.get("modelProviders")),
        env={k: v for k, v in _table(data.get("env")).items() if isinstance(v, str)},
        selected_type=_text(_table(_table(data.get("security")).get("auth")).get("selectedType")),
        model=_text(_table(data.get("model")).get("name")),
        usage_statistics=_flag(_table(data.get("privacy")).get("usageStatisticsEnabled")),
    )


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _providers(value: Any) -> list[ModelProvider]:
    found = []
    for protocol in PROTOCOLS:
        entries = _table(value).get(protocol)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not _text(entry.get("id")):
                continue
            found.append(
                ModelProvider(
                    protocol,
                    entry["id"],
                    _text(entry.get("name")),
                    _text(entry.get("baseUrl")),
                    _text(entry.get("envKey")),
                )
            )
    return found
