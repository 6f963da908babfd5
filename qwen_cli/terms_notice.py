"""Terms changes are noticed: `auth login` records the version (the checked date) of the terms entries the user
saw, in `[terms_seen]` of the user's config.toml (no secret), and the next interactive command after a newer qwen
ships a changed entry prints one line, once, naming the change and the command that shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.data_use import Entry
    from qwen_cli.settings import Settings

TABLE = "terms_seen"


def record(settings: Settings, method: str, provider: str | None, region: str | None) -> None:
    """Remember the shipped version of every entry this login may reach."""
    from qwen_cli import data_use
    from qwen_cli.settings import write_values

    found = data_use.for_login(method, provider, region)
    if found:
        write_values(settings.user_file, {f"{TABLE}.{e.id}": e.version for e in found})


def forget(settings: Settings, method: str, provider: str | None) -> None:
    """A login removed: its recorded versions go too, so no notice names a provider you no longer use."""
    from qwen_cli import data_use
    from qwen_cli.settings import write_values

    seen = settings.table(TABLE)
    gone = [e.id for e in data_use.for_login(method, provider) if e.id in seen]
    if gone and settings.user_file.exists():
        write_values(settings.user_file, {f"{TABLE}.{eid}": None for eid in gone})


def changed(settings: Settings) -> list[tuple[Entry, str]]:
    """(entry, the version seen) for each entry whose shipped version is newer than the one recorded. Reads the
    terms data only when something was recorded."""
    seen = {k: v for k, v in settings.table(TABLE).items() if isinstance(v, str)}
    if not seen:
        return []
    from qwen_cli import data_use

    out = []
    for entry in data_use.entries():
        before = seen.get(entry.id)
        if before is not None and entry.facts and entry.version > before:
            out.append((entry, before))
    return out


def show(app: AppContext, args: list[str]) -> None:
    """Print each changed entry's line once, on an interactive run only: stdout and stderr are terminals and
    no JSON was asked for."""
    if not (app.stderr_isatty and app.stdout_isatty) or app.output_format != "text":
        return
    if "--json" in args or any(a in ("json", "stream-json") for a in args):
        return
    from qwen_cli.settings import write_values

    settings = app.settings
    found = changed(settings)
    for entry, before in found:
        app.out.info(f"The terms entry for {entry.label} changed ({before} → {entry.version}): {entry.show_command()}")
    if found:
        write_values(settings.user_file, {f"{TABLE}.{entry.id}": entry.version for entry, _before in found})
