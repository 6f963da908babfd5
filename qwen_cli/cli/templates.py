"""`qwen templates list|show|edit|path|rm`, and the template steps of `qwen ask -t NAME` and `--save NAME`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from qwen_cli.cli.common import pass_app
from qwen_cli.cli.completers import template_names
from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.templates import Found, Template

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _found(app: AppContext, quiet_about: str | None = None) -> Found:
    """The templates in play; a one-line notice when a project's were skipped as untrusted (for `-t NAME`,
    only when one of them has that name)."""
    from qwen_cli import templates

    found = templates.available(app.settings.home, app.cwd)
    skipped = [p for p in found.untrusted if quiet_about is None or p.stem == quiet_about]
    if skipped:
        app.out.notice(templates.skipped_note(skipped))
    return found


def use(app: AppContext, name: str) -> Template:
    """The template `qwen ask -t NAME` fills."""
    from qwen_cli import templates

    found = _found(app, quiet_about=name)
    template = templates.find(name, found)
    return template


def save_from_ask(app: AppContext, name: str, words: tuple[str, ...], fields: dict[str, Any]) -> None:
    """`qwen ask ... --save NAME`: the command line as a user template; nothing is sent."""
    from qwen_cli import templates

    templates.check_name(name)
    prompt = " ".join(words).strip()
    if not prompt:
        raise UsageError(
            f"--save {name} needs a prompt to save",
            hint=f"Example: qwen ask --save {name} -s 'You are terse.' 'Summarise: $input'",
        )
    options = {k: v for k, v in fields.pop("options").items() if v is not None}
    template = templates.Template(name=name, path=templates.user_dir(app.settings.home), origin="user", prompt=prompt)
    template.system, template.model = fields.get("system"), fields.get("model")
    template.schema, template.schema_multi = fields.get("schema"), bool(fields.get("schema_multi"))
    template.options, template.defaults = options, dict(fields.get("defaults") or {})
    path = templates.save(app.settings.home, template)
    app.out.info(f"Saved template {name}: {path}")
    if app.output_format != "text":
        app.out.json(template.as_dict() | {"path": str(path)}, pretty=False)


@click.group(name="templates")
def templates_group() -> None:
    """Saved prompts for `qwen ask -t NAME`: $QWEN_HOME/templates/NAME.toml.

    A template is TOML: `prompt` (with $input, the arguments and stdin, and $name parameters filled by
    `-p name value`), and optionally `system`, `model`, `schema` (a --schema value), `schema_multi`,
    `[options]` (temperature, top_p, max_tokens, seed) and `[defaults]` for parameters. A trusted project's
    `.qwen/templates/` adds its own (`qwen trust DIR`); yours win on a name clash.

    \b
    Examples:
      qwen ask --save summary -s "Be brief." 'Summarise in $n bullets: $input'
      git log -5 | qwen ask -t summary -p n 3
      qwen templates list
      qwen templates show summary --json
    """


@templates_group.command(name="list")
@_JSON
@pass_app
def list_(app: AppContext, as_json: bool) -> None:
    """List the templates in play here, yours and a trusted project's.

    \b
    Examples:
      qwen templates list
      qwen templates list --json | jq -r '.templates[].name'
    """
    found = _found(app)
    rows = [t.as_dict() for t in found.templates.values()]
    if as_json:
        app.out.json(
            {
                "templates": rows,
                "skipped_untrusted": [str(p) for p in found.untrusted],
                "shadowed": [str(t.path) for t in found.shadowed],
            }
        )
        return
    if not rows:
        app.out.info("No templates yet. Save one with: qwen ask --save NAME 'PROMPT with $input'")
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        params = ", ".join(f"${p}" for p in row["params"]) or "no parameters"
        app.out.answer(f"{row['name']:<{width}}  {row['origin']:<7}  {params}")


@templates_group.command()
@click.argument("name", shell_complete=template_names)
@_JSON
@pass_app
def show(app: AppContext, name: str, as_json: bool) -> None:
    """Show a template's file and parameters.

    \b
    Examples:
      qwen templates show summary
      qwen templates show summary --json | jq .params
    """
    template = use(app, name)
    if as_json:
        app.out.json(template.as_dict())
        return
    app.out.info(f"# {template.path} ({template.origin}; parameters: {', '.join(template.params()) or 'none'})")
    app.out.answer(template.path.read_text("utf-8").rstrip("\n"))


@templates_group.command()
@click.argument("name", required=False, shell_complete=template_names)
@_JSON
@pass_app
def path(app: AppContext, name: str | None, as_json: bool) -> None:
    """Print the templates folder, or the file NAME is read from.

    \b
    Examples:
      qwen templates path
      qwen templates path summary
    """
    from qwen_cli import templates

    where = use(app, name).path if name else templates.user_dir(app.settings.home)
    if as_json:
        app.out.json({"path": str(where)})
    else:
        app.out.answer(str(where))


@templates_group.command()
@click.argument("name", shell_complete=template_names)
@pass_app
def edit(app: AppContext, name: str) -> None:
    """Open your template NAME in $VISUAL or $EDITOR (a new one starts as `prompt = "$input"`).

    \b
    Examples:
      qwen templates edit summary
      EDITOR=nano qwen templates edit review
    """
    import shlex
    import subprocess

    from qwen_cli import templates

    file = templates.user_dir(app.settings.home) / f"{templates.check_name(name)}.toml"
    if not file.exists():
        templates.save(app.settings.home, templates.Template(name, file, "user", prompt="$input"))
    editor = app.env.get("VISUAL") or app.env.get("EDITOR")
    if not editor:
        raise UsageError("no editor: set $VISUAL or $EDITOR", hint=f"Or edit the file yourself: {file}")
    try:
        subprocess.run([*shlex.split(editor), str(file)], check=False)
    except OSError as exc:
        raise UsageError(
            f"can't start the editor {editor!r}: {exc.strerror or exc}", hint=f"Edit {file} yourself."
        ) from None
    templates.find(name, templates.available(app.settings.home, app.cwd))  # a broken edit says so now
    app.out.info(f"Saved: {file}")


@templates_group.command()
@click.argument("name", shell_complete=template_names)
@_JSON
@pass_app
def rm(app: AppContext, name: str, as_json: bool) -> None:
    """Delete your template NAME (a project's templates are the project's).

    \b
    Examples:
      qwen templates rm summary
    """
    from qwen_cli import templates

    removed = templates.remove(app.settings.home, name)
    if as_json:
        app.out.json({"removed": str(removed)})
    else:
        app.out.info(f"Removed {removed}")
