"""`--resume out.jsonl`: which inputs an earlier run already answered (its lines with "ok": true)."""

from __future__ import annotations

import json
from typing import Any

from qwen_cli.errors import UsageError
from qwen_cli.fanout.lines import is_answered


def answered_ids(path: str) -> set[str]:
    """The ids answered ok in `path`, as JSON text (so 3 and "3" stay different). A missing file is none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise UsageError(
            f"can't read --resume {path}: {exc.strerror or exc}", hint="Give the earlier output file."
        ) from None
    done: set[str] = set()
    for line in text.splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue  # a line cut by an earlier interruption: that input is asked again
        if is_answered(data):
            done.add(key(data["id"]))
    return done


def key(item_id: Any) -> str:
    return json.dumps(item_id, ensure_ascii=False)
