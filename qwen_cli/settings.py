"""The one TOML settings layer shared by every command.

Precedence, lowest to highest: defaults < user file < project file < .env < environment < flags. Qwen Code's
settings.json files sit below all of them (qwen_cli/qwen_code_source.py): their `env` fills variables last.
Every resolved value remembers the layer it came from. Nothing is read at import time.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_cli import paths
from qwen_cli.errors import ConfigError, QwenError
from qwen_cli.providers.events import CA_ENV_VARS
from qwen_cli.qwen_code_source import PREFIX as QWEN_CODE_PREFIX
from qwen_cli.qwen_code_source import QwenCodeSource


@dataclass(frozen=True)
class Key:
    """One setting in the registry: its name, type, default, variable and documentation."""

    name: str
    type: type
    default: Any
    help: str
    env_aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None  # a callable is asked when needed
    secret: bool = False
    # Routes a secret or the statistics somewhere (a host, a proxy, a CA): honoured from trusted layers only.
    routes: bool = False
    # Guards the user's own policy: read from the user file and the real environment only, never a project
    # file or a .env file (trusted or not), so a repository can't switch it off.
    user_only: bool = False
    # A str key with choices whose true/false words (and TOML booleans) mean its "true"/"false" choices.
    flag_words: bool = False

    @property
    def env_var(self) -> str:
        return "QWEN_" + re.sub(r"[^A-Z0-9]", "_", self.name.upper())

    @property
    def env_vars(self) -> tuple[str, ...]:
        return (self.env_var, *self.env_aliases)

    def allowed(self) -> tuple[str, ...]:
        """The values a key with choices takes (empty: any value of its type)."""
        if self.choices is None:
            return ()
        return self.choices() if callable(self.choices) else self.choices


def _method_ids() -> tuple[str, ...]:
    from qwen_cli.auth import methods

    return methods.ids()


KEYS: tuple[Key, ...] = (
    Key("auth.method", str, None, "Active authentication method.", choices=_method_ids),
    Key("auth.provider", str, None, "Active provider id for the api-key method (see `qwen auth login --help`)."),
    Key("auth.region", str, None, "Coding Plan region: china or global."),
    Key(
        "auth.profile",
        str,
        None,
        "Profile of stored logins to use (`qwen auth login --profile NAME`); a project file binds its folder.",
        ("QWEN_PROFILE",),
        routes=True,
    ),
    Key("auth.store", str, "file", "Where new secrets are stored: file or keyring.", choices=("file", "keyring")),
    Key(
        "auth.key_cmd_timeout",
        float,
        10.0,
        "Seconds a `providers.<id>.key_cmd` (user config only) may take to print the key; 0: no limit.",
    ),
    Key(
        "auth.browser_timeout",
        float,
        300.0,
        "Seconds `qwen auth login --browser` waits for the browser's answer or a pasted code.",
    ),
    Key(
        "auth.qwen_oauth.base_url",
        str,
        "https://chat.qwen.ai",
        "Qwen OAuth host.",
        ("QWEN_OAUTH_BASE_URL",),
        routes=True,
    ),
    Key(
        "auth.qwen_oauth.device_path",
        str,
        None,
        "Device authorization path on the OAuth host (default: from RFC 8414 metadata, else Qwen's).",
        routes=True,
    ),
    Key(
        "auth.qwen_oauth.token_path",
        str,
        None,
        "Token path on the OAuth host (default: from RFC 8414 metadata, else Qwen's).",
        routes=True,
    ),
    Key("general.model", str, None, "Model to use, overriding the method's default.", ("QWEN_MODEL",)),
    Key("network.max_retries", int, 3, "Retries for connection errors, 429 and 5xx."),
    Key("network.connect_timeout", float, 10.0, "Seconds to wait for a connection."),
    Key("network.read_timeout", float, 120.0, "Seconds to wait between streamed chunks."),
    Key(
        "network.headers_timeout",
        float,
        180.0,
        "Wall-clock seconds from connecting until the response headers are complete; 0 turns it off.",
    ),
    Key(
        "network.idle_timeout",
        float,
        300.0,
        "Seconds a stream may go without an event carrying data (keep-alives do not count); 0: off.",
    ),
    Key(
        "network.max_response_bytes",
        int,
        32 * 1024 * 1024,
        "Largest decompressed body read for a non-streamed answer, /models or an error; 0: no cap.",
    ),
    Key(
        "network.max_event_bytes",
        int,
        8 * 1024 * 1024,
        "Largest single line or event in a streamed answer, in bytes; 0: no cap.",
    ),
    Key("network.proxy", str, None, "Proxy URL for all requests (HTTPS_PROXY/NO_PROXY are honoured too).", routes=True),
    Key(
        "network.ca_bundle",
        str,
        None,
        "CA bundle file for TLS (REQUESTS_CA_BUNDLE/SSL_CERT_FILE also work).",
        routes=True,
    ),
    Key(
        "network.allow_insecure_http",
        bool,
        False,
        "Allow sending a key over plain http:// to a non-loopback host.",
        routes=True,
    ),
    Key("input.max_bytes", int, 8 * 1024 * 1024, "Largest prompt input read from -f files and stdin, in bytes."),
    Key("input.max_image_bytes", int, 10 * 1024 * 1024, "Largest image attached with `qwen ask -a`, in bytes."),
    Key(
        "privacy.usage_statistics",
        bool,
        True,
        "Optional usage statistics (never collected for the api-key method).",
        ("QWEN_USAGE_STATISTICS", "QWEN_USAGE_STATISTICS_ENABLED"),
    ),
    Key(
        "privacy.require_no_training",
        str,
        "false",
        "Refuse requests to providers whose terms entry says they train on API inputs by default (exit 8); "
        "strict also refuses those whose answer is unknown. User config or environment only.",
        choices=("false", "true", "strict"),
        user_only=True,
        flag_words=True,
    ),
    Key(
        "telemetry.endpoint", str, None, "OTLP/HTTP logs endpoint. Without one nothing leaves the machine.", routes=True
    ),
    Key(
        "usage.ledger",
        bool,
        True,
        "Record each request (no prompts, answers or keys) in $QWEN_HOME/usage.jsonl for `qwen usage`; never sent.",
    ),
    Key(
        "usage.max_bytes",
        int,
        10_000_000,
        "Past this size usage.jsonl is rotated to usage.jsonl.1 (one kept); 0: never.",
    ),
    Key(
        "coding_plan.tier",
        str,
        None,
        "Your Coding Plan, for `qwen usage`'s caps: lite or pro.",
        choices=("lite", "pro"),
    ),
    Key("chat.max_context_chars", int, 200_000, "Oldest turns are dropped past this many characters."),
    Key("chat.history_size", int, 1000, "Lines kept in the chat input history."),
    Key("each.max_parallel", int, 64, "Most requests `qwen ask --each -P N` may keep in flight at once."),
    Key("batch.poll_interval", float, 30.0, "Seconds between the status checks of `qwen batch status --wait`."),
    Key(
        "batch.wait_timeout",
        float,
        86400.0,
        "Seconds `qwen batch status --wait` waits before giving up (exit 6); the batch keeps running.",
    ),
)
KEY_INDEX: dict[str, Key] = {k.name: k for k in KEYS}

# Variables that route secrets; requests reads the proxy ones from the real environment only, but a .env
# may not set any of them unless its folder is trusted.
_PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
ROUTING_ENV_VARS = frozenset((*CA_ENV_VARS, *_PROXY_VARS, *(v.lower() for v in _PROXY_VARS)))

# Tables whose entries are free-form, e.g. [providers.openrouter] headers = {...}; [terms_seen] holds the terms
# entry versions the user saw at login (qwen_cli/terms_notice.py), written to and read from the user file only;
# [models."ID"] holds per-model facts (context_window, image_input, json_schema) for `qwen models` and `ask`.
FREE_TABLES = ("providers", "terms_seen", "models")
USER_ONLY_TABLES = ("terms_seen",)
# Entries of a free table that decide where a key or a prompt goes: only trusted files may set them. Headers
# count: an `Authorization` header from a project would send the user's prompts to someone else's account.
FREE_TABLE_ROUTING_KEYS = frozenset({"base_url", "region", "headers", "oauth_authorize_url"})

_SECRET_NAME = re.compile(r"(api_?key|token|secret|password)", re.IGNORECASE)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass
class Value:
    """A setting's value as resolved, with the layer it came from."""

    key: str
    value: Any
    source: str


def coerce(key: Key, raw: Any, origin: str, error: type[QwenError] = ConfigError) -> Any:
    """Turn a raw TOML or string value into the key's type, or raise `error` (ConfigError: exit 8; `qwen config
    set` passes UsageError, as a bad argument is a usage mistake) naming the key and where the value came from."""
    expected = key.type.__name__
    if raw is None:
        return None
    value: bool | int | float | str
    if key.flag_words and (isinstance(raw, bool) or (isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE)):
        raw = "true" if (raw is True or (isinstance(raw, str) and raw.strip().lower() in _TRUE)) else "false"
    try:
        if key.type is bool:
            if isinstance(raw, bool):
                value = raw
            elif isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
                value = raw.strip().lower() in _TRUE
            else:
                raise ValueError
        elif key.type is int:
            if isinstance(raw, bool):
                raise ValueError
            value = int(raw) if isinstance(raw, (int, str)) else _fail()
        elif key.type is float:
            if isinstance(raw, bool):
                raise ValueError
            value = float(raw) if isinstance(raw, (int, float, str)) else _fail()
        else:
            value = raw if isinstance(raw, str) else _fail()
    except (ValueError, TypeError, OverflowError):
        raise error(
            f"{key.name} must be {_article(expected)} {expected}, got {raw!r} ({origin})",
            hint=f"Fix it with: qwen config set {key.name} VALUE",
        ) from None
    allowed = key.allowed()
    if allowed and value not in allowed:
        raise error(
            f"{key.name} must be one of {', '.join(allowed)}, got {value!r} ({origin})",
            hint=f"Fix it with: qwen config set {key.name} {allowed[0]}",
        )
    problem = _out_of_range(key, value)
    if problem:
        raise error(
            f"{key.name} {problem}, got {value!r} ({origin})",
            hint=f"Fix it with: qwen config set {key.name} {key.default if key.default is not None else 0}",
        )
    return value


MAX_SECONDS = 86400.0  # one day: a longer timeout is a typo, and 1e308 or inf overflows the socket layer
# Server caps where 0 means off (see their help); any other 0 would refuse everything or crash the socket layer.
_ZERO_IS_OFF = (
    "network.headers_timeout",
    "network.idle_timeout",
    "network.max_response_bytes",
    "network.max_event_bytes",
)
# Integers that size a buffer or a window: at least 1.
_POSITIVE_INTS = ("input.max_bytes", "input.max_image_bytes", "chat.max_context_chars", "each.max_parallel")


def _out_of_range(key: Key, value: Any) -> str | None:
    """Why a number is unusable, or None. Floats (all timeouts) must be finite, above 0 and at most a day;
    sizes must be positive; other integers (retries, history lines) must not be negative. A server cap may be
    0, which turns it off."""
    if key.type is float:
        if math.isnan(value) or math.isinf(value):
            return "must be a finite number of seconds"
        if value < 0:
            return "must not be negative"
        if value == 0 and key.name not in _ZERO_IS_OFF:
            return "must be more than 0 seconds"
        if value > MAX_SECONDS:
            return f"must be at most {MAX_SECONDS:g} seconds (one day)"
    elif key.type is int:
        if value < 0:
            return "must not be negative"
        if value == 0 and key.name in _POSITIVE_INTS:
            return "must be at least 1"
    return None


def _fail():
    raise TypeError


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def read_toml(path: Path) -> dict:
    """Parse a TOML file; a syntax error becomes a ConfigError naming file:line:column."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", hint=_unreadable_hint(path, exc)) from None
    return parse_toml(path, data)


def parse_toml(path: Path, data: bytes) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib
    try:
        text = data.decode("utf-8")
        return tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8", hint="Save the file as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if found:
            line, col = int(found.group(1)), int(found.group(2))
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        message = message.split("\n")[0]
        where = f"{path}:{line}:{col}" if line else str(path)
        raise ConfigError(f"{where}: {message}", hint="Fix the TOML syntax there; the file was not changed.") from None


def _unreadable_hint(path: Path, exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENOTDIR:
        return f"{path.parent} (or a directory above it) is a file; QWEN_HOME must be a directory."
    if exc.errno == errno.EISDIR:
        return "That should be a file: move the directory out of the way."
    return "Check the file's permissions."


def flatten(table: Mapping, prefix: str = "") -> dict[str, Any]:
    """{"network": {"max_retries": 3}} -> {"network.max_retries": 3}. Free tables stay nested."""
    out: dict[str, Any] = {}
    for name, value in table.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict) and dotted not in KEY_INDEX and dotted not in FREE_TABLES:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def suggest(name: str) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, list(KEY_INDEX), n=1, cutoff=0.6)
    return found[0] if found else None


def looks_secret(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def _secret_name(name: str, raw: Any) -> str | None:
    """The dotted name of a secret-looking entry: the key itself, or one nested in a free table such as
    [providers.openai] api_key = "..."."""
    if looks_secret(name) or (name in KEY_INDEX and KEY_INDEX[name].secret):
        return name
    if isinstance(raw, dict):
        for sub, value in raw.items():
            found = _secret_name(f"{name}.{sub}", value)
            if found:
                return found
    return None


@dataclass
class Settings:
    """Every setting of one invocation, resolved once from flags, environment, .env, files and defaults."""

    home: Path
    cwd: Path
    environ: Mapping[str, str]
    user_file: Path
    project_file: Path | None
    dotenv_file: Path | None  # the first .env file in play (the project's, if any)
    dotenv: dict[str, str]  # every .env file merged, the first file's values winning
    values: dict[str, Value]
    tables: dict[str, dict]
    warnings: list[str] = field(default_factory=list)
    project_trusted: bool = True
    dotenv_files: list[EnvFile] = field(default_factory=list)
    ignored: dict[str, Path] = field(default_factory=dict)  # routing settings dropped from untrusted files
    qwen_code: QwenCodeSource = field(default_factory=QwenCodeSource)  # Qwen Code's settings.json, below all

    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        flags: Mapping[str, Any] | None = None,
    ) -> Settings:
        env = dict(os.environ if env is None else env)
        cwd = Path.cwd() if cwd is None else Path(cwd)
        home = paths.qwen_home(env)
        user_file = paths.user_config_file(home)
        project_file = paths.find_project_config(cwd, home)
        warnings: list[str] = []
        project_bytes = _read_bytes(project_file) if project_file else b""
        project_trusted = project_file is None or _trusted(home, env, project_file, project_bytes)
        dotenv_files = [_env_file(home, env, path, warnings) for path in paths.find_dotenv_files(cwd, home, env)]
        dotenv: dict[str, str] = {}
        for env_file in dotenv_files:
            for var, value in env_file.values.items():
                dotenv.setdefault(var, value)

        values = {k.name: Value(k.name, k.default, "default") for k in KEYS}
        tables: dict[str, dict] = {}
        ignored: dict[str, Path] = {}

        for label, file, data in (("user", user_file, None), ("project", project_file, project_bytes)):
            if file is None:
                continue
            parsed = read_toml(file) if data is None else parse_toml(file, data)
            for name, raw in flatten(parsed).items():
                origin = f"{label}:{file}"
                if label == "project" and (secret := _secret_name(name, raw)):
                    raise ConfigError(
                        f"{file}: the project file may not hold secrets ({secret})",
                        hint="Remove it there and run `qwen auth login`; secrets live in $QWEN_HOME only.",
                    )
                if label == "project" and _user_only(name):
                    warnings.append(ignored_user_only(name, file))
                    continue
                if name in FREE_TABLES:
                    if isinstance(raw, dict):
                        if label == "project":
                            raw = _without_user_only(raw, file, warnings)
                        if label == "project" and not project_trusted:
                            raw = _without_routing(name, raw, file, warnings, ignored)
                        _merge(tables.setdefault(name, {}), raw)
                    continue
                key = KEY_INDEX.get(name)
                if key is None:
                    hint = suggest(name)
                    warnings.append(
                        f"unknown setting {name!r} in {file}" + (f"; did you mean {hint!r}?" if hint else "")
                    )
                    continue
                if key.routes and label == "project" and not project_trusted:
                    warnings.append(ignored_routing(name, file))
                    ignored[name] = file
                    continue
                values[name] = Value(name, coerce(key, raw, origin), origin)

        layers: list[tuple[str, Mapping[str, str], EnvFile | None]] = [
            (f".env:{f.path}", f.values, f) for f in reversed(dotenv_files)
        ]
        layers.append(("env", env, None))
        for layer, mapping, layer_file in layers:
            for key in KEYS:
                for var in key.env_vars:
                    if var in mapping and (layer == "env") == _environment_wins(env, dotenv, var):
                        if key.user_only and layer_file is not None:
                            warnings.append(ignored_user_only(var, layer_file.path))
                            break
                        if key.routes and layer_file is not None and not layer_file.trusted:
                            warnings.append(ignored_routing(var, layer_file.path))
                            ignored[key.name] = layer_file.path
                            break
                        origin = f"env:{var}" if layer == "env" else layer
                        values[key.name] = Value(key.name, coerce(key, mapping[var], origin), origin)
                        break

        for name, raw in (flags or {}).items():
            if raw is None:
                continue
            key = KEY_INDEX[name]
            values[name] = Value(name, coerce(key, raw, "flag"), "flag")

        from qwen_cli import qwen_code_source

        filled = {**dotenv, **{var: value for var, value in env.items() if value}}
        qwen_code = qwen_code_source.load(home, cwd, env, filled, warnings)
        dotenv_file = dotenv_files[0].path if dotenv_files else None
        return cls(
            home,
            cwd,
            env,
            user_file,
            project_file,
            dotenv_file,
            dotenv,
            values,
            tables,
            warnings,
            project_trusted,
            dotenv_files,
            ignored,
            qwen_code,
        )

    def get(self, name: str) -> Any:
        return self.values[name].value

    def source(self, name: str) -> str:
        return self.values[name].source

    def table(self, name: str) -> dict:
        """A free-form table such as `providers`, merged from user and project files."""
        return self.tables.get(name, {})

    def getenv(self, name: str) -> str | None:
        """A variable from the real environment, else from the first .env file that has it (never overriding).
        An empty variable counts as unset, as in Qwen Code 0.24: a `.env` fills it, and after every .env file
        Qwen Code's settings.json `env`."""
        if _environment_wins(self.environ, self.dotenv, name):
            value = self.environ.get(name)
        else:
            value = self.dotenv[name]
        return value or self.qwen_code.env_value(name) or value

    def env_source(self, name: str) -> str | None:
        if not self.environ.get(name) and not self.dotenv.get(name) and self.qwen_code.env_value(name):
            return self.qwen_code.env_source(name)
        if name in self.environ and _environment_wins(self.environ, self.dotenv, name):
            return f"env:{name}"
        env_file = self._env_file_with(name)
        return f".env:{env_file.path}" if env_file else None

    def _env_file_with(self, name: str) -> EnvFile | None:
        return next((f for f in self.dotenv_files if name in f.values), None)

    def trusted(self, source: str | None) -> bool:
        """Whether a value from this source (as `source()` and `env_source()` name them) is the user's own."""
        if not source:
            return True
        if source.startswith("project:"):
            return self.project_trusted
        if source.startswith(".env:"):
            path = source[len(".env:") :]
            return next((f.trusted for f in self.dotenv_files if str(f.path) == path), False)
        if source.startswith(QWEN_CODE_PREFIX):
            return self.qwen_code.trusted(source)
        return True

    def files(self) -> list[FileInPlay]:
        """Every settings and secrets file this invocation considers, in precedence order (lowest first), then
        Qwen Code's settings.json files (read-only, below all of these)."""
        from qwen_cli import qwen_code_source
        from qwen_cli.auth.keystore import path_for

        found = [FileInPlay("user", self.user_file, self.user_file.is_file(), True)]
        if self.project_file is not None:
            found.append(FileInPlay("project", self.project_file, True, self.project_trusted))
        for env_file in reversed(self.dotenv_files):
            found.append(FileInPlay(".env", env_file.path, True, env_file.trusted))
        creds = path_for(self.home)
        found.append(FileInPlay("credentials", creds, creds.is_file(), True))
        return found + qwen_code_source.files_in_play(self)


def _environment_wins(env: Mapping[str, str], dotenv: Mapping[str, str], var: str) -> bool:
    """The real environment's value stands unless it is empty and a .env file sets the variable (Qwen Code
    0.24 fills unset and empty variables)."""
    return bool(env.get(var)) or var not in dotenv


USER_ONLY = ("key_cmd",)  # provider entries that run something: a project file may never set them


def _without_user_only(providers: dict, file: Path, warnings: list[str]) -> dict:
    kept = {}
    for provider, entry in providers.items():
        if isinstance(entry, dict):
            for name in [n for n in USER_ONLY if n in entry]:
                warnings.append(
                    f"ignoring providers.{provider}.{name} from {file}: a command to run for a key "
                    "is read from your user config only"
                )
            entry = {k: v for k, v in entry.items() if k not in USER_ONLY}
        kept[provider] = entry
    return kept


def _merge(into: dict, new: Mapping) -> None:
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


@dataclass
class EnvFile:
    """A .env file found for this invocation, with its values and whether its folder is trusted."""

    path: Path
    values: dict[str, str]
    trusted: bool


@dataclass
class FileInPlay:
    """A file that can supply settings, as `config show` lists it."""

    role: str  # user, project, .env, credentials
    path: Path
    exists: bool
    trusted: bool


def _without_routing(prefix: str, table: Mapping, file: Path, warnings: list[str], ignored: dict[str, Path]) -> dict:
    """A free table from an untrusted file without the entries that route a key or a prompt
    (`providers.<id>.base_url`, `.regions.<region>.base_url`, `.region`, `.headers`), each with a warning."""
    kept: dict = {}
    for k, v in table.items():
        name = f"{prefix}.{k}"
        if k in FREE_TABLE_ROUTING_KEYS:
            warnings.append(ignored_routing(name, file))
            ignored[name] = file
        elif isinstance(v, Mapping):
            kept[k] = _without_routing(name, v, file, warnings, ignored)
        else:
            kept[k] = v
    return kept


def ignored_routing(name: str, file: Path) -> str:
    from qwen_cli.trust import trust_command

    return (
        f"ignoring {name} from {file}: this folder is not trusted to route your keys, proxy or statistics "
        f"(to allow it: {trust_command(file)})"
    )


def _user_only(name: str) -> bool:
    return name in USER_ONLY_TABLES or (name in KEY_INDEX and KEY_INDEX[name].user_only)


def ignored_user_only(name: str, file: Path) -> str:
    return f"ignoring {name} from {file}: it is read from your user config or the environment only"


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", hint=_unreadable_hint(path, exc)) from None


def _trusted(home: Path, env: Mapping[str, str], file: Path, data: bytes) -> bool:
    from qwen_cli import trust

    return trust.is_user_file(file, home, env) or trust.is_trusted(home, file, data)


def _env_file(home: Path, env: Mapping[str, str], path: Path, warnings: list[str]) -> EnvFile:
    """Read one .env file from the same bytes its trust is judged on. An untrusted file loses the variables
    that route secrets (a CA bundle, a proxy), each with a warning."""
    try:
        data = path.read_bytes()
    except OSError:
        return EnvFile(path, {}, True)
    values = paths.parse_dotenv(data)
    trusted = _trusted(home, env, path, data)
    if not trusted:
        for name in [n for n in values if n in ROUTING_ENV_VARS and not env.get(n)]:
            warnings.append(ignored_routing(name, path))
            del values[name]
    return EnvFile(path, values, trusted)


def write_value(path: Path, name: str, value: Any) -> None:
    """Set (or with value None, remove) one dotted key in a TOML file: see write_values."""
    write_values(path, {name: value})


def write_values(path: Path, values: Mapping[str, Any]) -> None:
    """Set (or with value None, remove) dotted keys in a TOML file in one atomic write, under the file's lock
    so that concurrent writers of other keys keep theirs. A symlinked file is written at its target."""
    import tomli_w

    from qwen_cli.fsutil import atomic_write, locked_update

    with locked_update(path):
        data = read_toml(path)
        changed = [_set_dotted(data, name, value) for name, value in values.items()]
        if not any(changed):
            return
        if any(value is None for value in values.values()):
            _prune(data)
        atomic_write(path, tomli_w.dumps(data))


def _set_dotted(data: dict, name: str, value: Any) -> bool:
    """Set or remove one dotted key in nested tables; False when a removal found nothing to remove."""
    parts = name.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is None:
                return False
            child = node[part] = {}
        node = child
    if value is None:
        return node.pop(parts[-1], None) is not None
    node[parts[-1]] = value
    return True


def _prune(table: dict) -> None:
    for k in list(table):
        if isinstance(table[k], dict):
            _prune(table[k])
            if not table[k]:
                del table[k]


def reference_markdown() -> str:
    """The configuration reference table (README and `qwen config reference`), made from KEYS so it can't drift."""

    def shown(value: Any) -> str:
        if value is None:
            return "(unset)"
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    lines = ["| key | environment | default | meaning |", "|---|---|---|---|"]
    for key in KEYS:
        env = ", ".join(f"`{v}`" for v in key.env_vars)
        meaning = key.help + (f" One of: {', '.join(key.allowed())}." if key.choices else "")
        lines.append(f"| `{key.name}` | {env} | `{shown(key.default)}` | {meaning} |")
    return "\n".join(lines) + "\n"
