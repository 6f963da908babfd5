"""`qwen config`: show, get, set, unset and locate settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import rich_click as click

from qwen_cli.cli import completers
from qwen_cli.cli.common import pass_app
from qwen_cli.errors import ConfigError, UsageError
from qwen_cli.output.json import write_json
from qwen_cli.secrets import hide_url_password

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.settings import Settings


def _display(value) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return hide_url_password(str(value))


def _shown(value):
    """A value as JSON shows it: a proxy URL's password is never printed."""
    return hide_url_password(value) if isinstance(value, str) else value


def _key_or_fail(name: str):
    from qwen_cli.settings import KEY_INDEX, suggest

    key = KEY_INDEX.get(name)
    if key is None:
        guess = suggest(name)
        raise UsageError(
            f"unknown setting {name!r}" + (f"; did you mean {guess!r}?" if guess else ""),
            hint="List every setting with: qwen config show",
        )
    return key


MODEL = "general.model"


def _effective(app: AppContext, name: str):
    """(value, source) of a setting as this invocation uses it. For general.model that is the model the
    resolver picks (OPENAI_MODEL, the login's, the catalogue's default...), the one `ask` would use."""
    settings = app.settings
    if name == MODEL:
        from qwen_cli.auth.resolve import resolve
        from qwen_cli.errors import QwenError

        try:
            creds = resolve(settings, refresh=False)
        except QwenError:
            pass  # nothing configured (or broken): the setting itself is all there is to show
        else:
            return creds.model, creds.model_source or settings.source(name)
    from qwen_cli import qwen_code_source

    return qwen_code_source.effective(settings, name) or (settings.get(name), settings.source(name))


@click.group()
def config() -> None:
    """Show, get, set and unset settings.

    Settings come from, lowest to highest: defaults, $QWEN_HOME/config.toml, the project's
    .qwen/config.toml, a .env file, environment variables (QWEN_SECTION_NAME) and flags. Qwen Code's
    settings.json ($QWEN_HOME's, and a trusted project's) is read below all of them.

    \b
    Examples:
      qwen config show
      qwen config set network.max_retries 5
      qwen config get network.read_timeout
    """


@config.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, as_json: bool) -> None:
    """Effective settings, each with the layer it came from.

    \b
    Examples:
      qwen config show
      qwen config show --json | jq '.settings["network.max_retries"]'
    """
    from qwen_cli import qwen_code_source
    from qwen_cli.settings import KEYS

    settings = app.settings
    rows = [(k.name, *_effective(app, k.name), k.env_var) for k in KEYS]
    if as_json:
        write_json(
            app.stdout,
            {
                "files": {
                    "user": str(settings.user_file),
                    "project": str(settings.project_file) if settings.project_file else None,
                    "dotenv": str(settings.dotenv_file) if settings.dotenv_file else None,
                },
                "files_in_play": _files_json(settings),
                "qwen_code": qwen_code_source.summary(settings),
                "settings": {
                    name: {"value": _shown(value), "source": source, "env": env, "trusted": settings.trusted(source)}
                    for name, value, source, env in rows
                },
            },
        )
        return
    width = max(len(r[0]) for r in rows)
    for name, value, source, _ in rows:
        trust = "trusted" if settings.trusted(source) else "untrusted"
        app.out.answer(f"{name.ljust(width)}  {_display(value):<28}  {trust:<9}  {source}")
    untrusted = [f for f in settings.files() if not f.trusted]
    for file in untrusted:
        from qwen_cli.trust import trust_command

        app.out.info(
            f"{file.path} is not trusted: it cannot route your keys, proxy or statistics "
            f"(to allow it: {trust_command(file.path)})"
        )
    qwen_code = qwen_code_source.summary(settings)
    if qwen_code["selection"]:
        picked = qwen_code["selection"]
        what = " ".join(str(picked[k]) for k in ("method", "provider", "region", "base_url", "model") if picked[k])
        app.out.info(f"Qwen Code's settings.json selects: {what} ({picked['source'].split(':', 1)[1]})")
    for name, source in qwen_code["env"].items():
        app.out.info(f"{name} is filled from {source.split(':', 1)[1]} (Qwen Code's settings.json env)")
    for name, source in qwen_code["ignored_env"].items():
        app.out.info(
            f"{name} in {source.split(':', 1)[1]} (Qwen Code's settings.json env) is not used: qwen reads its "
            "settings from flags, the environment, .env and config.toml"
        )


def _files_json(settings: Settings) -> list[dict]:
    return [{"role": f.role, "path": str(f.path), "exists": f.exists, "trusted": f.trusted} for f in settings.files()]


@config.command()
@click.argument("key", shell_complete=completers.config_keys)
@click.option("--json", "as_json", is_flag=True, help="Print JSON with the value and its source.")
@pass_app
def get(app: AppContext, key: str, as_json: bool) -> None:
    """Print one setting's effective value (general.model: the model a request would use, wherever it
    comes from, e.g. OPENAI_MODEL or the login's).

    \b
    Examples:
      qwen config get network.max_retries
      qwen config get general.model --json
    """
    _key_or_fail(key)
    value, source = _effective(app, key)
    if as_json:
        write_json(app.stdout, {"key": key, "value": _shown(value), "source": source})
    else:
        app.out.answer(_display(value))


def _target_file(app: AppContext, project: bool):
    from qwen_cli import paths

    if not project:
        return app.settings.user_file
    return app.settings.project_file or (app.cwd / paths.PROJECT_DIR_NAME / "config.toml")


@config.command(name="set")
@click.argument("key", shell_complete=completers.config_keys)
@click.argument("value")
@click.option("--project", is_flag=True, help="Write to the project's .qwen/config.toml instead of the user file.")
@pass_app
def set_(app: AppContext, key: str, value: str, project: bool) -> None:
    """Validate and store one setting.

    \b
    Examples:
      qwen config set network.max_retries 5
      qwen config set privacy.usage_statistics false
      qwen config set --project general.model qwen3-coder-plus
    """
    from qwen_cli.settings import coerce, looks_secret, write_value

    definition = _key_or_fail(key)
    if project and (definition.secret or looks_secret(key)):
        raise ConfigError(f"{key} is a secret and may not go in the project file", hint="Use `qwen auth login`.")
    typed = coerce(definition, value, "argument", error=UsageError)  # a bad argument: exit 2
    target = _target_file(app, project)
    write_value(target, key, typed)
    app.out.info(f"Set {key} = {_display(typed)} in {target}")


@config.command()
@click.argument("key", shell_complete=completers.config_keys)
@click.option("--project", is_flag=True, help="Remove from the project's .qwen/config.toml instead.")
@pass_app
def unset(app: AppContext, key: str, project: bool) -> None:
    """Remove one setting from a config file, so lower layers apply again.

    \b
    Examples:
      qwen config unset network.proxy
    """
    from qwen_cli.settings import write_value

    _key_or_fail(key)
    target = _target_file(app, project)
    if target.exists():
        write_value(target, key, None)
    app.out.info(f"Unset {key} in {target}")


@config.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def path(app: AppContext, as_json: bool) -> None:
    """Print every settings and secrets file in play, whether it exists and whether it is trusted.

    The first line is always your user config file, so `$EDITOR "$(qwen config path | head -1)"` opens it.

    \b
    Examples:
      qwen config path
      qwen config path --json | jq -r .user
    """
    settings = app.settings
    files = settings.files()
    if as_json:
        write_json(
            app.stdout,
            {
                "home": str(settings.home),
                "user": str(settings.user_file),
                "project": str(settings.project_file) if settings.project_file else None,
                "dotenv": str(settings.dotenv_file) if settings.dotenv_file else None,
                "files": _files_json(settings),
            },
        )
        return
    width = max(len(str(f.path)) for f in files)
    for f in files:
        state = ("exists" if f.exists else "missing") + ("" if f.trusted else ", untrusted")
        app.out.answer(f"{str(f.path).ljust(width)}  {f.role} ({state})")


@config.command()
@pass_app
def reference(app: AppContext) -> None:
    """Every setting with its environment variable, default and meaning, as a Markdown table.

    \b
    Examples:
      qwen config reference
    """
    from qwen_cli.settings import reference_markdown

    app.stdout.write(reference_markdown())
