"""`--schema`: the shape an answer must have, how to ask for it, and whether an answer has it.

Kept apart from `ask` so fan-out (`--each`) and batch requests can reuse each step: `load()` reads a schema
(a file, inline JSON or the short form), `request_fields()` says what to add to the request body,
`instruction()` is the prompt text for providers without `json_schema`, and `check()` parses and validates.
`jsonschema` is imported only by `check()` and `load()`: plain `qwen ask` never pays for it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from qwen_cli.errors import SchemaMismatch, UsageError

SHORT_FORM_HELP = (
    "FIELD [TYPE], comma-separated; TYPE is str (the default), int, float, bool, list (of strings) or "
    "list[int|float|bool|str]; a name ending in ? is optional. Example: 'name, age int, tags list, nick?'"
)

_TYPES = {"str": "string", "string": "string", "int": "integer", "float": "number", "num": "number", "bool": "boolean"}
_FIELD = re.compile(r"^(?P<name>[A-Za-z_][\w-]*)(?P<optional>\?)?(?:\s+(?P<type>\S+))?$")
_LIST = re.compile(r"^list(?:\[(?P<item>\w+)\])?$")

# What providers without json_schema are told; the schema follows it.
_INSTRUCTION = "Reply with JSON only, no prose and no code fences. The JSON must match this JSON Schema:"


def load(value: str, base: Path) -> dict[str, Any]:
    """The JSON Schema that `--schema VALUE` names: inline JSON (starts with `{`), a file (relative to
    `base`), else the short form. A schema that is not itself valid is a usage error."""
    text = value.strip()
    if text.startswith("{"):
        schema = _json(text, "the inline --schema")
    elif text.endswith(".json") or (base / text).is_file():
        path = base / text
        try:
            data = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"can't read the schema file {text}: {getattr(exc, 'strerror', None) or exc}",
                hint="Give a readable JSON Schema file, inline JSON, or the short form: " + SHORT_FORM_HELP,
            ) from None
        schema = _json(data, text)
    else:
        schema = short_form(text)
    _check_schema(schema)
    return schema


def short_form(text: str) -> dict[str, Any]:
    """`'name, age int, tags list'` as an object schema: every field required unless its name ends in `?`."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        match = _FIELD.match(part)
        if not match:
            raise UsageError(f"can't read {part!r} in the --schema short form", hint=SHORT_FORM_HELP)
        name, kind = match["name"], (match["type"] or "str").lower()
        properties[name] = _field_type(kind, part)
        if not match["optional"]:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _field_type(kind: str, part: str) -> dict[str, Any]:
    if kind in _TYPES:
        return {"type": _TYPES[kind]}
    listed = _LIST.match(kind)
    if listed and (listed["item"] or "str") in _TYPES:
        return {"type": "array", "items": {"type": _TYPES[listed["item"] or "str"]}}
    raise UsageError(f"unknown type {kind!r} in the --schema short form ({part!r})", hint=SHORT_FORM_HELP)


def wanted(schema: dict[str, Any], multi: bool) -> dict[str, Any]:
    """The schema of the whole answer. A list goes in an object, `{"items": [...]}`: providers' json_schema
    modes want an object at the top."""
    if not multi:
        return schema
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": schema}},
        "required": ["items"],
        "additionalProperties": False,
    }


def request_fields(schema: dict[str, Any], multi: bool, json_schema: bool) -> dict[str, Any]:
    """What the request body gets: `response_format` json_schema where the provider supports it, else JSON
    mode (the shape then goes in the prompt, see instruction())."""
    if json_schema:
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": wanted(schema, multi)},
            }
        }
    return {"response_format": {"type": "json_object"}}


def instruction(schema: dict[str, Any], multi: bool) -> str:
    return f"{_INSTRUCTION}\n{json.dumps(wanted(schema, multi), separators=(',', ':'))}"


def with_instruction(messages: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The messages with `text` added to the system prompt (or as one, first): some providers refuse a second
    system message."""
    if messages and messages[0].get("role") == "system" and isinstance(messages[0].get("content"), str):
        first = {**messages[0], "content": messages[0]["content"] + "\n\n" + text}
        return [first, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]


def check(text: str, schema: dict[str, Any], multi: bool) -> Any:
    """The answer as a JSON value of the wanted shape (the list itself with `multi`). Raises SchemaMismatch
    with a one-line reason and the raw text."""
    import jsonschema

    value = _answer_json(text)
    try:
        jsonschema.validate(value, wanted(schema, multi))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise SchemaMismatch(
            f"the answer did not match the schema{' at ' + where if where else ''}: {_clip(exc.message)}",
            hint="Try again, make the prompt say more about the fields, or use a model with json_schema support.",
            raw=text,
        ) from None
    return value["items"] if multi else value


def compact(value: Any) -> str:
    """One line, for `jq` and `--each`."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _answer_json(text: str) -> Any:
    body = text.strip()
    fenced = re.match(r"^```(?:json)?\s*\n(.*)\n```$", body, re.DOTALL)  # models in JSON mode still fence it
    if fenced:
        body = fenced.group(1).strip()
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise SchemaMismatch(
            f"the answer is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            if body
            else "the answer was empty, not JSON",
            hint="Try again; with -o json the raw answer is in the error object.",
            raw=text,
        ) from None


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            hint="Give a JSON Schema file, inline JSON, or the short form: " + SHORT_FORM_HELP,
        ) from None


def _check_schema(schema: Any) -> None:
    import jsonschema

    if not isinstance(schema, dict):
        raise UsageError("a --schema must be a JSON object", hint=SHORT_FORM_HELP)
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise UsageError(
            f"the --schema is not a valid JSON Schema: {_clip(exc.message)}", hint=SHORT_FORM_HELP
        ) from None


def _clip(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
