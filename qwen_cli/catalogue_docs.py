"""The catalogue as the README and docs/auth.md show it: generated here, and a test keeps both current."""

from __future__ import annotations

from qwen_cli import catalogue

START, END = "<!-- providers:start -->", "<!-- providers:end -->"


def provider_ids() -> str:
    """The README's one-line list: `openai`, `token-plan` (regions ...), ..."""
    parts = []
    for p in catalogue.providers().values():
        regions = f" ({'/'.join(p.regions)})" if p.regions else ""
        parts.append(f"`{p.id}`{regions}")
    return ", ".join(parts)


def provider_table() -> str:
    """docs/auth.md's table: id, name, protocol, key variable, regions with their aliases, default model."""
    rows = [
        "| `--provider` | provider | protocol | key variable | `--region` (aliases) | default model |",
        "|---|---|---|---|---|---|",
    ]
    for p in catalogue.providers().values():
        regions = (
            "<br>".join(
                f"`{r.id}`"
                + (f" ({', '.join(r.aliases)})" if r.aliases else "")
                + (" default" if r.id == p.default_region else "")
                for r in p.regions.values()
            )
            or "-"
        )
        key = f"`{p.key_env}`" if p.key_env else "none (local server)"
        model = f"`{p.default_model}`" if p.default_model else "asked (the server's list)"
        rows.append(f"| `{p.id}` | {p.name} | {p.protocol} | {key} | {regions} | {model} |")
    return "\n".join(rows)


def between_markers(text: str) -> str:
    """What a file holds between the providers markers (stripped)."""
    return text.split(START, 1)[1].split(END, 1)[0].strip()
