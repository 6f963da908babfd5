"""Whether usage statistics are collected for one invocation, and which rule decided it.

Rules, in order (the first that applies decides):
  1. DO_NOT_TRACK (any value but empty/0/false/no/off) or QWEN_USAGE_STATISTICS=0 (or one of its
     aliases) in the environment or the loaded .env file: off.
  2. A method whose promise is that nothing is collected (the API key method; see
     `statistics_may_apply` in auth/methods/): never collected, whatever the setting. No method
     configured at all: nothing collected either (we cannot tell which promise applies, so we keep
     the strictest one).
  3. The setting `privacy.usage_statistics`, default on for the other methods (Qwen OAuth, Coding Plan). An opt-out
     written in any config file wins over a `true` in another layer, so a project file or a .env
     file can never switch statistics back on after `qwen telemetry off`. Qwen Code's settings.json
     (`$QWEN_HOME`'s, shared with Qwen Code, or a project's) counts as such a file for an opt-out only:
     `privacy.usageStatisticsEnabled: false` there turns qwen's off too; `true` there never turns them on.

The export endpoint is taken only from trusted layers (see qwen_cli/trust.py): a project file or .env
in a folder the user has not trusted cannot redirect statistics to someone else's collector.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.settings import Settings

SETTING = "privacy.usage_statistics"
ENDPOINT = "telemetry.endpoint"
ENV_SWITCHES = ("QWEN_USAGE_STATISTICS", "QWEN_PRIVACY_USAGE_STATISTICS", "QWEN_USAGE_STATISTICS_ENABLED")
_FALSE = {"0", "false", "no", "off", ""}

# reason code -> rule number
REASONS = {
    "do_not_track": 1,
    "env_opt_out": 1,
    "api_key_method": 2,
    "no_auth_method": 2,
    "setting_off": 3,
    "setting_on": 3,
    "default_on": 3,
}


@dataclass(frozen=True)
class Decision:
    enabled: bool
    reason: str
    detail: str
    method: str | None
    method_source: str | None
    setting: bool | None
    setting_source: str | None
    endpoint: str | None
    endpoint_note: str | None = None
    file: str | None = None  # the file whose opt-out decided, when one did

    @property
    def rule(self) -> int:
        return REASONS[self.reason]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["rule"] = self.rule
        return data


def env_opt_out(getenv) -> tuple[str, str] | None:
    """(reason, detail) when an environment switch turns statistics off. `getenv(name)` -> str | None."""
    dnt = getenv("DO_NOT_TRACK")
    if dnt is not None and dnt.strip().lower() not in _FALSE:
        return "do_not_track", "DO_NOT_TRACK is set, which turns all usage statistics off"
    for name in ENV_SWITCHES:
        value = getenv(name)
        if value is not None and value.strip().lower() in _FALSE:
            return "env_opt_out", f"{name}={value.strip()} turns usage statistics off"
    return None


def quick_env_off(environ) -> bool:
    """Cheap check on the process environment alone, before any settings are loaded."""
    return env_opt_out(environ.get) is not None


def file_opt_out(settings: Settings) -> str | None:
    """The config file that says `privacy.usage_statistics = false` (user or project), else the Qwen Code
    settings.json that says `privacy.usageStatisticsEnabled: false`, if any."""
    from qwen_cli.settings import flatten, read_toml

    for file in (settings.user_file, settings.project_file):
        if file is None:
            continue
        try:
            value = flatten(read_toml(file)).get(SETTING)
        except Exception:  # noqa: BLE001 - settings already loaded these files; be defensive anyway
            continue
        if value is False or (isinstance(value, str) and value.strip().lower() in _FALSE):
            return str(file)
    qwen_code = getattr(settings, "qwen_code", None)
    found = qwen_code.statistics_opt_out() if qwen_code is not None else None
    return str(found) if found else None


def _opt_out_detail(file: str) -> str:
    from qwen_cli.qwen_code_settings import FILE_NAME

    if file.endswith(FILE_NAME):
        return f"privacy.usageStatisticsEnabled is false in {file} (Qwen Code's settings), so qwen's are off too"
    return f"privacy.usage_statistics = false in {file}"


def endpoint(settings: Settings) -> tuple[str | None, str | None]:
    """(endpoint, note). A folder you have not trusted can't set it (Settings drops it); it must be http(s)."""
    value = settings.get(ENDPOINT)
    if not value:
        if ENDPOINT in settings.ignored:
            return None, (
                f"telemetry.endpoint from {settings.ignored[ENDPOINT]} is ignored: that folder is not trusted "
                "(only your user config, the environment or a folder you trust may set it)"
            )
        return None, None
    from urllib.parse import urlsplit

    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, "telemetry.endpoint is not an http(s) URL, so nothing is sent"
    return value.strip(), None


def decide(settings: Settings, method: str | None, method_source: str | None = None) -> Decision:
    """The effective state for an invocation that uses `method`."""
    setting = settings.get(SETTING)
    setting_source = settings.source(SETTING)
    url, note = endpoint(settings)

    def result(enabled: bool, reason: str, detail: str, file: str | None = None) -> Decision:
        return Decision(enabled, reason, detail, method, method_source, setting, setting_source, url, note, file)

    from qwen_cli.auth import methods

    found = env_opt_out(settings.getenv)
    if found:
        return result(False, *found)
    if method in methods.ids() and not methods.statistics_may_apply(method):
        return result(
            False,
            "api_key_method",
            f"the {method} method is in use: qwen collects nothing beyond what your API provider collects",
        )
    if not methods.statistics_may_apply(method):
        return result(False, "no_auth_method", "no authentication method is configured, so nothing is collected")
    opted_out = file_opt_out(settings)
    if opted_out:
        return result(False, "setting_off", _opt_out_detail(opted_out), opted_out)
    if not setting:
        return result(False, "setting_off", f"privacy.usage_statistics = false ({setting_source})")
    if setting_source == "default":
        return result(True, "default_on", f"on by default for {method}; opt out with `qwen telemetry off`")
    return result(True, "setting_on", f"privacy.usage_statistics = true ({setting_source})")


def sending_allowed(settings: Settings) -> tuple[bool, str]:
    """May queued events leave the machine now? Checked again by every sender right before it sends."""
    found = env_opt_out(settings.getenv)
    if found:
        return False, found[1]
    opted_out = file_opt_out(settings)
    if opted_out or not settings.get(SETTING):
        return False, "usage statistics are off"
    url, note = endpoint(settings)
    if url is None:
        return False, note or "no telemetry.endpoint is configured: nothing leaves this machine"
    return True, url


def invocation_method(app: AppContext, settings: Settings) -> tuple[str | None, str | None]:
    """The method this invocation used: resolved credentials first, else the method the resolver chooses
    (auth.method, a provider alone, or the environment: the same answer `auth status` gives)."""
    from qwen_cli.auth import methods

    method = app.credentials.method if app.credentials is not None else None
    if method is not None and method in methods.ids():
        return method, "credentials used by this command"
    from qwen_cli.auth.resolve import choose
    from qwen_cli.errors import QwenError

    try:
        choice = choose(settings)
    except QwenError:
        configured = settings.get("auth.method")
        return (configured, settings.source("auth.method")) if configured else (None, None)
    return choice.method, choice.reason
