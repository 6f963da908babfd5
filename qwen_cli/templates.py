"""Prompt templates: `$QWEN_HOME/templates/NAME.toml`, and a trusted project's `.qwen/templates/NAME.toml`.

A template holds a prompt with `$input` and `$name` parameters (string.Template syntax; `$$` is a literal `$`),
and optionally a system prompt, a model, [options] (temperature, top_p, max_tokens, seed), a schema (the
`--schema` value), schema_multi, and [defaults] for parameters. `find()` looks up a name, `Template.fill()`
fills it: both are plain functions so `--each` and batch requests can fill one template per input line.

The user's own template wins over a project's of the same name: a cloned repository can't replace it. A
project's template is used only when `qwen trust` pinned its exact content (qwen_cli.trust).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_cli import paths
from qwen_cli.errors import ConfigError, UsageError

DIR_NAME = "templates"
OPTIONS = {"temperature": (int, float), "top_p": (int, float), "max_tokens": (int,), "seed": (int,)}
INPUT = "input"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Template:
    name: str
    path: Path
    origin: str  # "user" or "project"
    prompt: str = ""
    system: str | None = None
    model: str | None = None
    schema: str | None = None
    schema_multi: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)

    def params(self) -> list[str]:
        """The parameters the prompt and system prompt name, `input` included, in order of appearance."""
        found: list[str] = []
        for text in (self.system or "", self.prompt):
            for match in string.Template.pattern.finditer(text):
                name = match.group("named") or match.group("braced")
                if name and name not in found:
                    found.append(name)
        return found

    def fill(self, input_text: str, params: dict[str, str]) -> tuple[str | None, str]:
        """(system, prompt) with the parameters filled. `input_text` is the prompt's arguments and stdin;
        a prompt without `$input` gets it appended as context, as `qwen ask` does with stdin. A parameter
        without a value is a usage error naming it."""
        unknown = [p for p in params if p not in self.params() and p != INPUT]
        if unknown:
            raise UsageError(
                f"template {self.name!r} has no parameter {unknown[0]!r}",
                hint=f"Its parameters: {', '.join(self.params()) or 'none'} (see `qwen templates show {self.name}`).",
            )
        values = {**self.defaults, **params}
        if input_text:
            values[INPUT] = input_text
        missing = [p for p in self.params() if p not in values]
        if missing == [INPUT]:
            raise UsageError(
                f"template {self.name!r} needs its input ($input)",
                hint=f'Give it as arguments or on stdin: qwen ask -t {self.name} "TEXT" (or CMD | qwen ask ...)',
            )
        if missing:
            name = next(p for p in missing if p != INPUT)
            raise UsageError(
                f"template {self.name!r} needs the parameter {name!r}",
                hint=f"Add -p {name} VALUE (its parameters: {', '.join(self.params())}).",
            )
        prompt = self._substitute(self.prompt, values)
        if input_text and INPUT not in self.params():
            prompt = f"{prompt}\n\n{input_text}" if prompt.strip() else input_text
        system = self._substitute(self.system, values) if self.system else None
        return system, prompt

    def _substitute(self, text: str, values: dict[str, str]) -> str:
        try:
            return string.Template(text).substitute(values)
        except ValueError as exc:
            raise ConfigError(
                f"template {self.name!r} ({self.path}): {exc}",
                hint="Parameters are $name or ${name}; write $$ for a literal $.",
            ) from None

    def as_toml(self) -> dict[str, Any]:
        data: dict[str, Any] = {"prompt": self.prompt}
        for key in ("system", "model", "schema"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.schema_multi:
            data["schema_multi"] = True
        if self.options:
            data["options"] = dict(self.options)
        if self.defaults:
            data["defaults"] = dict(self.defaults)
        return data

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "path": str(self.path),
            "params": self.params(),
            **self.as_toml(),
        }


def check_name(name: str) -> str:
    """A template's name is a file name in one folder: letters, digits, `_`, `.`, `-`; no path, no leading dot."""
    if not _NAME.match(name) or ".." in name:
        raise UsageError(
            f"{name!r} is not a template name",
            hint="Use letters, digits, '_', '.' and '-' (at most 64, not starting with '.'), no path.",
        )
    return name


def user_dir(home: Path) -> Path:
    return home / DIR_NAME


def project_dir(cwd: Path, home: Path) -> Path | None:
    """The nearest `.qwen/templates` folder walking up from cwd, stopping before the user's home (whose
    `.qwen` is the user's own) and never $QWEN_HOME's own."""
    from qwen_cli.trust import real

    stop, own = real(paths.user_home()), real(user_dir(home))
    for directory in (real(cwd), *real(cwd).parents):
        if directory == stop:
            return None
        candidate = directory / paths.PROJECT_DIR_NAME / DIR_NAME
        if candidate.is_dir() and real(candidate) != own:
            return candidate
    return None


@dataclass
class Found:
    templates: dict[str, Template]  # usable ones, by name: user first, then trusted project ones
    untrusted: list[Path]  # project templates skipped because their content isn't trusted
    shadowed: list[Template]  # trusted project templates a user template of the same name hides


def available(home: Path, cwd: Path) -> Found:
    from qwen_cli import trust

    found = Found({}, [], [])
    for path in sorted(user_dir(home).glob("*.toml")):
        if _NAME.match(path.stem):
            found.templates[path.stem] = _read(path, "user")
    project = project_dir(cwd, home)
    if project is None:
        return found
    folders = trust.load(home)
    for path in sorted(project.glob("*.toml")):
        if not _NAME.match(path.stem):
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if not trust.is_trusted(home, path, data, folders):
            found.untrusted.append(path)
        elif path.stem in found.templates:
            found.shadowed.append(_read(path, "project", data))
        else:
            found.templates[path.stem] = _read(path, "project", data)
    return found


def skipped_note(paths_skipped: list[Path]) -> str:
    """The one line shown when project templates were left out."""
    from qwen_cli.trust import trust_command

    first = paths_skipped[0]
    count = len(paths_skipped)
    return f"skipped {count} project template(s) in {first.parent}: not trusted; run `{trust_command(first)}`"


def find(name: str, found: Found) -> Template:
    check_name(name)
    if name in found.templates:
        return found.templates[name]
    untrusted = [p for p in found.untrusted if p.stem == name]
    if untrusted:
        from qwen_cli.trust import trust_command

        raise UsageError(
            f"template {name!r} is in a project folder that is not trusted ({untrusted[0]})",
            hint=f"Read it, then trust the folder: {trust_command(untrusted[0])}",
        )
    names = ", ".join(found.templates) or "none yet"
    raise UsageError(
        f"no template named {name!r}",
        hint=f"Templates: {names}. Save one with: qwen ask --save {name} 'PROMPT with $input'",
    )


def save(home: Path, template: Template) -> Path:
    import tomli_w

    from qwen_cli.fsutil import atomic_write

    path = user_dir(home) / f"{check_name(template.name)}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, tomli_w.dumps(template.as_toml()))
    return path


def remove(home: Path, name: str) -> Path:
    path = user_dir(home) / f"{check_name(name)}.toml"
    try:
        path.unlink()
    except FileNotFoundError:
        raise UsageError(f"no user template named {name!r}", hint="See `qwen templates list`.") from None
    return path


def _read(path: Path, origin: str, data: bytes | None = None) -> Template:
    from qwen_cli.settings import parse_toml, read_toml

    table = read_toml(path) if data is None else parse_toml(path, data)
    name = path.stem

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a string", hint="Fix it with: qwen templates edit " + name)
        return value

    options = table.get("options", {})
    if not isinstance(options, dict) or any(
        k not in OPTIONS or isinstance(v, bool) or not isinstance(v, OPTIONS[k]) for k, v in options.items()
    ):
        raise ConfigError(
            f"{path}: [options] takes {', '.join(OPTIONS)} (numbers)", hint="Fix it with: qwen templates edit " + name
        )
    defaults = table.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"{path}: [defaults] must be a table", hint="Fix it with: qwen templates edit " + name)
    return Template(
        name=name,
        path=path,
        origin=origin,
        prompt=text("prompt") or "",
        system=text("system"),
        model=text("model"),
        schema=text("schema"),
        schema_multi=table.get("schema_multi") is True,
        options=dict(options),
        defaults={str(k): str(v) for k, v in defaults.items()},
    )
