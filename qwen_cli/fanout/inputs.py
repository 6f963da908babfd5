"""The inputs of `--each`: a file or stdin, one item per line, and the prompt filled for each of them.

A line is plain text (it fills `$input`) or, when it starts with `{`, a JSON object whose fields fill the
template's `$name` parameters (its `input` field fills `$input`, its `id` names the output line). Blank
lines are skipped. Every line is read and filled before anything is sent, so a missing field stops the run
with one usage error naming the line and the field, and no request has cost anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO, Any

from qwen_cli.errors import UsageError
from qwen_cli.templates import INPUT, Template

STDIN = "-"


@dataclass
class Item:
    """One input line and the prompt filled from it."""

    index: int  # 0-based, among the non-blank lines
    line: int  # 1-based line number in the input, for messages
    id: Any  # the object's `id`, else the index
    fields: dict[str, str] = field(default_factory=dict)
    system: str | None = None
    prompt: str = ""


def where(source: str, command: str = "--each") -> str:
    """How errors name the input: the command that reads it, then the file (or stdin)."""
    return f"{command} {'stdin' if source == STDIN else source}"


def read(source: str, stdin: IO[str], max_bytes: int, command: str = "--each") -> list[Item]:
    """Items from the file `source` (or stdin for `-`), at most max_bytes of input."""
    if source == STDIN:
        text = stdin.read(max_bytes + 1)
    else:
        try:
            with open(source, encoding="utf-8", errors="replace") as handle:
                text = handle.read(max_bytes + 1)
        except OSError as exc:
            raise UsageError(
                f"can't read {where(source, command)}: {exc.strerror or exc}",
                hint="Give a file of lines, or - for stdin.",
            ) from None
    if len(text) > max_bytes:
        raise UsageError(
            f"{where(source, command)} is larger than input.max_bytes ({max_bytes} bytes)",
            hint="Split it, or raise the cap: qwen config set input.max_bytes BYTES",
        )
    return parse(text, where(source, command))


def parse(text: str, named: str = "--each stdin") -> list[Item]:
    """`named` is how errors name the input (see where())."""
    items: list[Item] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        index = len(items)
        if line.startswith("{"):
            fields, item_id = _object(line, number, named)
            items.append(Item(index, number, index if item_id is None else item_id, fields))
        else:
            items.append(Item(index, number, index, {INPUT: line}))
    if not items:
        raise UsageError(f"{named} has no lines", hint="Give one prompt input per line.")
    return items


def _object(line: str, number: int, named: str) -> tuple[dict[str, str], Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{named} line {number} starts with '{{' but is not JSON: {exc.msg}",
            hint="A line is plain text, or one JSON object whose fields fill the prompt's $names.",
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{named} line {number} is not a JSON object", hint="Use one object per line.")
    item_id = data.get("id")
    if item_id is not None and not isinstance(item_id, (str, int)):
        item_id = json.dumps(item_id, ensure_ascii=False)
    fields = {str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in data.items()}
    return fields, item_id


def fill(items: list[Item], template: Template, params: dict[str, str], named: str) -> None:
    """Fill every item's system prompt and prompt (template.fill, the one substitution), or raise the usage
    error for the first line that lacks a field the template names. `named`: see where()."""
    names = template.params()
    for item in items:
        values = {**template.defaults, **params, **item.fields}
        missing = [name for name in names if name not in values]
        if missing:
            have = ", ".join(sorted(item.fields)) or "none"
            raise UsageError(
                f"{named} line {item.line} has no field {missing[0]!r} (the prompt uses ${missing[0]})",
                hint=f"Its fields: {have}. A plain-text line fills $input; a JSON line fills $name from its fields.",
            )
        chosen = {name: values[name] for name in names if name != INPUT}
        item.system, item.prompt = template.fill(values.get(INPUT, ""), chosen)
