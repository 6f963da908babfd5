"""`qwen trust`: let a project folder's files route your keys, proxy and statistics."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import rich_click as click

from qwen_cli.cli.common import pass_app

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.trust import Folder


def _project_dirs(app: AppContext) -> list[Path]:
    """The folders that hold the project files in play from the cwd (the project config, a project .env, Qwen
    Code's workspace settings.json, project templates)."""
    from qwen_cli.trust import owner_dir, real

    settings = app.settings
    found: list[Path] = []
    candidates = [settings.project_file] + [f.path for f in settings.dotenv_files if not f.trusted]
    candidates += [f.path for f in settings.qwen_code.files if f.role == "project"]
    for file in candidates:
        if file is not None and owner_dir(real(file)) not in found:
            found.append(owner_dir(real(file)))
    from qwen_cli.templates import project_dir

    templates = project_dir(app.cwd, settings.home)  # DIR/.qwen/templates, for `qwen ask -t`
    if templates is not None and real(templates).parent.parent not in found:
        found.append(real(templates).parent.parent)
    return found


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--list", "list_", is_flag=True, help="List trusted folders and whether their files changed since.")
@click.option("--revoke", is_flag=True, help="Stop trusting DIRECTORY (default: the project in play here).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def trust(app: AppContext, directory: Path | None, list_: bool, revoke: bool, as_json: bool) -> None:
    """Trust a project folder's .qwen/config.toml, .env and .qwen/settings.json files.

    A folder you have not trusted can still choose a model, a temperature or a system prompt, and can
    bring its own key together with its own base URL. It can never send one of your keys elsewhere, set a
    proxy, a CA bundle, the OAuth host or the statistics endpoint. Trust is pinned to the files' content:
    edit one and the folder is untrusted again until you re-run `qwen trust`.

    \b
    Examples:
      qwen trust                 # the project folder in play here
      qwen trust ~/src/gateway
      qwen trust --list
      qwen trust --revoke ~/src/gateway
    """
    from qwen_cli import trust as store
    from qwen_cli.errors import UsageError

    home = app.settings.home
    if list_:
        if directory is not None or revoke:
            raise UsageError("--list takes no folder and no --revoke", hint="Run `qwen trust --list` alone.")
        _list(app, store.load(home), as_json)
        return
    targets = [directory] if directory is not None else _project_dirs(app)
    if not targets:
        raise UsageError(
            f"no project files in play in {app.cwd}",
            hint="Run `qwen trust DIR` for the folder holding .qwen/config.toml, .env or .qwen/settings.json.",
        )
    done = []
    for target in targets:
        if revoke:
            removed = store.revoke(home, target)
            done.append({"path": store.canonical(target), "revoked": removed})
            word = "No longer trusted" if removed else "Was not trusted"
            app.out.info(f"{word}: {store.canonical(target)}")
        else:
            folder = store.trust(home, target)
            done.append({"path": folder.path, "files": sorted(folder.files)})
            app.out.info(f"Trusted {folder.path} ({', '.join(sorted(folder.files))}) until they change.")
    if as_json:
        app.out.json({"folders": done})


def _list(app: AppContext, folders: dict[str, Folder], as_json: bool) -> None:
    rows: list[dict[str, Any]] = [
        {"path": f.path, "trusted_at": f.trusted_at, "files": f.state()} for f in folders.values()
    ]
    if as_json:
        app.out.json({"folders": rows})
        return
    if not rows:
        app.out.info("No trusted folders. Trust one with: qwen trust DIR")
        return
    for row in rows:
        files = ", ".join(f"{rel} ({state})" for rel, state in row["files"].items())
        app.out.answer(f"{row['path']}  {files}  since {row['trusted_at']}")
