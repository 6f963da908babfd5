"""Qwen Code's settings.json as a read-only source, below every one of qwen's own files and the environment.

Two files are read: the user's `$QWEN_HOME/settings.json` and a workspace `.qwen/settings.json` (the nearest
walking up from the cwd, stopping below the home directory, as Qwen Code skips it in the home directory).
A workspace file is a project file: `qwen trust DIR` pins it like `.qwen/config.toml` and `.env`.

What each file may supply (docs/security.md has the same table):
- `modelProviders` entries (a base URL that receives a key): the user file and a trusted workspace; an
  untrusted workspace's are ignored with one warning.
- `env`: fills variables that are unset (or empty) in the environment and every .env file. Never the
  variables Qwen Code refuses from settings.env in any scope (QWEN_HOME, CA and TLS switches, ...) nor a
  proxy. From an untrusted workspace also no routing variable (`*_BASE_URL`, an OAuth host), each with a
  warning, and no `$VAR` expansion, so a cloned repo can't copy one of your variables into another.
- `security.auth.selectedType` and `model.name`: any of them; they choose among your own logins and entries.
- `privacy.usageStatisticsEnabled: false` turns qwen's usage statistics off, from any of them; `true`
  never turns them on (telemetry/policy.py).
Qwen Code merges a workspace file over the user file; so does this, key by key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qwen_cli import paths

if TYPE_CHECKING:
    from qwen_cli import qwen_code_settings as qcs
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.settings import FileInPlay, Settings

PREFIX = "settings.json:"  # the source of every value this module supplies: "settings.json:/path"
OPENAI = "openai"
NATIVE = ("anthropic", "gemini")  # selectedType values that are also catalogue providers of their own protocol
OPENAI_KEY_VAR = "OPENAI_API_KEY"
CUSTOM_KEY_PREFIX = "QWEN_CUSTOM_API_KEY_"  # Qwen Code's per-URL custom provider keys (custom_env_key)

# Qwen Code applies none of these from settings.env, in any scope (facts §7), and requests reads proxies
# from the process environment only. (Patterns, not compiled here: they are needed only when a file exists,
# and `re` compiles them on first use.)
_NEVER = (
    r"(?i)^(QWEN_HOME|QWEN_RUNTIME_DIR|QWEN_CODE_\w*|QWEN_TLS_INSECURE|NODE_\w*|SSL_CERT_\w*|REQUESTS_CA_BUNDLE|"
    r"CURL_CA_BUNDLE|LD_\w*|BASH_ENV|OPENSSL_\w*|npm_config_\w*|(HTTPS?|ALL|NO)_PROXY)$"
)
# From an untrusted workspace these would send a key (yours or one you are about to type) elsewhere.
_ROUTING = r"(?i)(_BASE_URL|_HOST|_ENDPOINT|_PROXY)$"


def source_of(path: Path) -> str:
    return f"{PREFIX}{path}"


def is_source(source: str | None) -> bool:
    return bool(source) and str(source).startswith(PREFIX)


@dataclass
class File:
    """One Qwen Code settings.json that was read, and whether its folder is trusted."""

    settings: qcs.QwenCodeSettings
    role: str  # "user" or "project"
    trusted: bool

    @property
    def path(self) -> Path:
        return self.settings.path


@dataclass(frozen=True)
class Selection:
    """What settings.json selects: a method, its provider and region, and (for a custom entry) a base URL."""

    method: str
    provider: str | None
    region: str | None
    base_url: str | None  # only for an entry that is no catalogue provider
    model: str | None
    key_var: str | None  # the entry's envKey, or the name Qwen Code generates for a custom provider
    source: str  # the file that chose it
    entry_source: str  # the file of the entry (or of model.name)


@dataclass
class QwenCodeSource:
    """What Qwen Code's settings.json files supply: variables from `env` and the selected login."""

    files: list[File] = field(default_factory=list)
    env: dict[str, tuple[str, Path]] = field(default_factory=dict)  # variable -> (value, file)
    ignored: dict[str, Path] = field(default_factory=dict)  # qwen settings' variables, which env never sets
    _selection: list[Selection | None] = field(default_factory=list)  # computed once, on first use

    def env_value(self, name: str) -> str | None:
        found = self.env.get(name)
        return found[0] if found else None

    def env_source(self, name: str) -> str | None:
        found = self.env.get(name)
        return source_of(found[1]) if found else None

    def trusted(self, source: str) -> bool:
        path = source[len(PREFIX) :]
        return next((f.trusted for f in self.files if str(f.path) == path), False)

    def selection(self) -> Selection | None:
        if not self._selection:
            self._selection.append(_select(self.files))
        return self._selection[0]

    def statistics_opt_out(self) -> Path | None:
        """The settings.json that says `privacy.usageStatisticsEnabled: false`, if any."""
        return next((f.path for f in self.files if f.settings.usage_statistics is False), None)


def load(
    home: Path, cwd: Path, env: Mapping[str, str], filled: Mapping[str, str], warnings: list[str]
) -> QwenCodeSource:
    """Both files, each judged and read once. `filled`: the variables the environment and .env files set
    (settings.json's `$VAR` expansion and its `env` see them). Problems are one-line warnings."""
    source = QwenCodeSource()
    user_path = paths.qwen_code_settings_file(home)
    user = _read(user_path, filled) if user_path.exists() else None  # the parser is loaded only for a file
    if user is not None:
        source.files.append(File(user, "user", True))
    project = find_project_file(cwd, home, env)
    if project is not None:
        source.files.append(_project(home, env, project, filled))
    for file in source.files:
        warnings.extend(file.settings.warnings)
        if not file.trusted:
            _untrusted(file, warnings)
        for name, value in file.settings.env.items():
            if re.match(_NEVER, name) or filled.get(name):
                continue
            if _is_setting(name):
                source.ignored[name] = file.path
                continue
            source.env[name] = (value, file.path)  # a later (workspace) file wins, as Qwen Code merges
    return source


def _is_setting(name: str) -> bool:
    """A qwen setting's variable, other than the statistics off-switches: settings are read from flags, the
    environment, .env and config files, never from settings.json's `env` (which would otherwise be listed
    as filling a variable that changes nothing)."""
    from qwen_cli.settings import KEYS
    from qwen_cli.telemetry.policy import ENV_SWITCHES

    return name not in ENV_SWITCHES and any(name in key.env_vars for key in KEYS)


def _read(path: Path, filled: Mapping[str, str]) -> qcs.QwenCodeSettings | None:
    from qwen_cli import qwen_code_settings as qcs

    return qcs.load(path, filled)


def _project(home: Path, env: Mapping[str, str], path: Path, filled: Mapping[str, str]) -> File:
    from qwen_cli import qwen_code_settings as qcs
    from qwen_cli import trust

    try:
        raw = path.read_bytes()
    except OSError as exc:
        return File(qcs.QwenCodeSettings(path, warnings=[f"ignoring {path}: {exc.strerror or exc}"]), "project", True)
    trusted = trust.is_user_file(path, home, env) or trust.is_trusted(home, path, raw)
    return File(qcs.parse(path, raw, filled if trusted else {}), "project", trusted)


def _untrusted(file: File, warnings: list[str]) -> None:
    """Drop what an untrusted workspace may not supply, one warning each (settings.ignored_routing)."""
    from qwen_cli.settings import KEYS, ignored_routing

    found = file.settings
    if found.providers:
        warnings.append(ignored_routing("modelProviders", file.path))
        found.providers = []
    routing_keys = {var for key in KEYS if key.routes for var in key.env_vars}
    for name in list(found.env):
        if re.search(_ROUTING, name) or name in routing_keys:
            warnings.append(ignored_routing(f"env.{name}", file.path))
            del found.env[name]


def find_project_file(cwd: Path, home: Path, env: Mapping[str, str]) -> Path | None:
    """The nearest `.qwen/settings.json` walking up from `cwd`, below the user's home directory; never the
    user's own file."""
    import os

    user_dir = os.path.realpath(paths.user_home(env))
    user_file = os.path.realpath(paths.qwen_code_settings_file(home))
    start = Path(os.path.realpath(cwd))
    for directory in (start, *start.parents):
        if str(directory) == user_dir:
            return None
        candidate = directory / paths.PROJECT_DIR_NAME / paths.QWEN_CODE_SETTINGS
        if candidate.is_file() and os.path.realpath(candidate) != user_file:
            return candidate
    return None


def _merged(files: list[File]) -> tuple[dict[str, tuple[str, Path]], list[tuple[qcs.ModelProvider, Path]]]:
    """(selectedType and model.name with their files, the openai entries): a workspace's replace the user's."""
    chosen: dict[str, tuple[str, Path]] = {}
    entries: list[tuple[qcs.ModelProvider, Path]] = []
    for file in files:
        found = file.settings
        if found.selected_type:
            chosen["type"] = (found.selected_type, file.path)
        if found.model:
            chosen["model"] = (found.model, file.path)
        if found.providers:
            entries = [(p, file.path) for p in found.providers]
    return chosen, entries


def _select(files: list[File]) -> Selection | None:
    from qwen_cli.auth.methods.api_key import ID as API_KEY
    from qwen_cli.auth.methods.qwen_oauth import ID as OAUTH_METHOD

    chosen, entries = _merged(files)
    if "type" not in chosen:
        return None
    selected, type_file = chosen["type"]
    model, model_file = chosen.get("model", (None, type_file))
    if selected == OAUTH_METHOD:  # Qwen Code's AuthType is spelled as our method id
        return Selection(OAUTH_METHOD, None, None, None, None, None, source_of(type_file), source_of(type_file))
    if selected in NATIVE:  # the catalogue provider of that protocol, its key variable, model.name
        from qwen_cli import catalogue

        key_var = catalogue.provider(selected).key_env
        return Selection(API_KEY, selected, None, None, model, key_var, source_of(type_file), source_of(model_file))
    if selected != OPENAI:
        return None  # vertex-ai, openai-responses: not read (docs/auth.md)
    entry = next(((p, f) for p, f in entries if p.id == model), None)
    if entry is None or not entry[0].base_url:
        return Selection(API_KEY, None, None, None, model, None, source_of(type_file), source_of(model_file))
    from qwen_cli.auth.methods.api_key import CUSTOM

    provider, entry_file = entry
    method, provider_id, region = _catalogue_match(str(provider.base_url))
    return Selection(
        method,
        provider_id,
        region,
        provider.base_url if provider_id == CUSTOM else None,
        model,
        provider.key_variable(),
        source_of(type_file),
        source_of(entry_file),
    )


def _catalogue_match(base_url: str) -> tuple[str, str | None, str | None]:
    """(method, provider, region) of the catalogue entry serving exactly this base URL; else the custom
    provider of the api-key method."""
    from qwen_cli import catalogue
    from qwen_cli.auth.binding import normal
    from qwen_cli.auth.methods.api_key import CUSTOM
    from qwen_cli.auth.methods.api_key import ID as API_KEY
    from qwen_cli.auth.methods.coding_plan import ID as CODING_PLAN

    wanted = normal(base_url)
    for region in catalogue.regions().values():
        if normal(region.base_url) == wanted:
            return CODING_PLAN, None, region.id
    for prov in catalogue.providers().values():
        for region in prov.regions.values():
            if normal(region.base_url) == wanted:
                return API_KEY, prov.id, region.id
        if not prov.regions and prov.base_url and normal(prov.base_url) == wanted:
            return API_KEY, prov.id, None
    return API_KEY, CUSTOM, None


# -- what the methods ask ----------------------------------------------------------------------------------


def choice(settings: Settings) -> tuple[str, str | None, str] | None:
    """(method, provider, reason) that settings.json selects, for the resolver's last step."""
    found = settings.qwen_code.selection()
    return (found.method, found.provider, found.source) if found else None


def login_for(settings: Settings, method: str, provider: str | None) -> Selection | None:
    """The selection, when it is for this method and provider: it then stands in for a stored login."""
    found = settings.qwen_code.selection()
    if found is None or found.method != method:
        return None
    if found.provider is None and provider is not None:
        # No entry: Qwen Code's openai auth with OPENAI_API_KEY / OPENAI_BASE_URL, so only those providers.
        from qwen_cli import catalogue

        return found if catalogue.provider(provider).key_env == OPENAI_KEY_VAR else None
    return found if found.provider == provider else None


def login_data(selection: Selection) -> dict[str, str]:
    """The selection as a stored login's fields (base_url, model, region)."""
    data = {"base_url": selection.base_url, "model": selection.model, "region": selection.region}
    return {k: v for k, v in data.items() if v}


def key_for(settings: Settings, selection: Selection) -> tuple[str | None, str]:
    """(key, source) from the entry's own variable: the environment, a .env file, then settings.env."""
    from qwen_cli.auth.methods.base import env_secret

    return env_secret(settings, selection.key_var) if selection.key_var else (None, "")


def custom_key(settings: Settings, base_url: str | None) -> tuple[str | None, str]:
    """(key, source) from the variable Qwen Code names a custom provider's key after its base URL
    (`QWEN_CUSTOM_API_KEY_OPENAI_<URL>_<HEX12>`): the key for exactly that URL."""
    from qwen_cli.auth.methods.base import env_secret

    named = (*settings.environ, *settings.dotenv, *settings.qwen_code.env)
    if not base_url or not any(name.startswith(CUSTOM_KEY_PREFIX) for name in named):
        return None, ""  # none is set: no need to load the parser to name the one for this URL
    from qwen_cli import qwen_code_settings as qcs

    return env_secret(settings, qcs.custom_env_key(OPENAI, base_url))


def relabel(creds: Credentials, selection: Selection) -> None:
    """Name settings.json as the source of the parts it supplied (a stored login's would say credentials.toml;
    a region it chose, `region X`)."""
    if creds.model_source == "credentials.toml":
        creds.model_source = selection.entry_source
    if creds.base_url_source == "credentials.toml" or (
        selection.region and creds.base_url_source == f"region {selection.region}"
    ):
        creds.base_url_source = selection.entry_source


# -- what the commands show -------------------------------------------------------------------------------

SHOWN_KEYS = ("auth.method", "auth.provider", "auth.region")


def effective(settings: Settings, name: str) -> tuple[str, str] | None:
    """(value, source) of auth.method, auth.provider or auth.region when qwen's own layers leave it unset and
    settings.json decides it, as `config show` lists it."""
    from qwen_cli.auth.resolve import choose
    from qwen_cli.errors import QwenError

    if name not in SHOWN_KEYS or settings.source(name) != "default":
        return None
    try:
        picked = choose(settings)
    except QwenError:
        return None
    if not is_source(picked.reason):
        return None
    selection = settings.qwen_code.selection()
    region = selection.region if selection and selection.method == picked.method and not picked.provider else None
    value = {"auth.method": picked.method, "auth.provider": picked.provider, "auth.region": region}[name]
    return (value, picked.reason) if value else None


def files_in_play(settings: Settings) -> list[FileInPlay]:
    from qwen_cli.settings import FileInPlay

    return [FileInPlay(f"qwen-code {f.role}", f.path, True, f.trusted) for f in settings.qwen_code.files]


def summary(settings: Settings) -> dict:
    """What settings.json supplies to this invocation, for `config show`: no values of env entries."""
    found = settings.qwen_code
    selection = found.selection()
    return {
        "files": [{"role": f.role, "path": str(f.path), "trusted": f.trusted} for f in found.files],
        "selection": None
        if selection is None
        else {
            "method": selection.method,
            "provider": selection.provider,
            "region": selection.region,
            "base_url": selection.base_url,
            "model": selection.model,
            "key_variable": selection.key_var,
            "source": selection.source,
        },
        "env": {name: source_of(path) for name, (_, path) in sorted(found.env.items())},
        "ignored_env": {name: source_of(path) for name, path in sorted(found.ignored.items())},
    }
