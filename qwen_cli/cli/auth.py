"""`qwen auth`: log in, switch, inspect and log out of Qwen OAuth, the Coding Plan and API keys."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import rich_click as click

from qwen_cli.auth import methods
from qwen_cli.cli import completers
from qwen_cli.cli.common import pass_app, profile_option
from qwen_cli.errors import AuthError, UsageError

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.settings import Settings

METHOD_CHOICE = completers.method_choice()


def provider_argument(f):
    """`[PROVIDER]` after METHOD, as chat's `/auth METHOD PROVIDER` takes it; the same as --provider."""
    return click.argument("provider_word", metavar="[PROVIDER]", required=False, shell_complete=completers.providers)(f)


def _one_provider(method, word, option):
    if word and option and word != option:
        raise UsageError(f"two providers given: {word} and --provider {option}", hint="Give one of them.")
    provider = word or option
    keyed = methods.provider_method().id
    if word and not (method and methods.get(method).takes_provider):
        raise UsageError(
            f"a provider goes with {keyed}, not {method}",
            hint=f"Run `qwen auth {click.get_current_context().info_name} {keyed} {word}`.",
        )
    return provider


@click.group()
def auth() -> None:
    """Log in, switch, inspect or log out of the three authentication methods.

    \b
    Methods:
      qwen-oauth    your qwen.ai account, via a device code in the browser
      coding-plan   an Alibaba Cloud Coding Plan key (sk-sp-...), region china or global
      api-key       your own key for an OpenAI-compatible, Anthropic or Gemini provider (or a local server)

    Without any login, OPENAI_API_KEY + OPENAI_BASE_URL + OPENAI_MODEL (shell or .env), GEMINI_API_KEY +
    GEMINI_MODEL, ANTHROPIC_API_KEY + ANTHROPIC_MODEL + ANTHROPIC_BASE_URL, DASHSCOPE_API_KEY or
    BAILIAN_CODING_PLAN_API_KEY work as they are. QWEN_AUTH_METHOD picks a method for one invocation.

    \b
    Examples:
      qwen auth login
      qwen auth status
      qwen auth switch coding-plan
    """


@auth.command()
@click.option("--method", "-m", type=METHOD_CHOICE, help=", ".join(methods.ids()) + " (asked on a terminal).")
@click.option(
    "--provider",
    "-p",
    metavar="ID",
    shell_complete=completers.providers,
    help="api-key provider from the catalogue (openai, openrouter, ...).",
)
@click.option(
    "--region",
    "-r",
    metavar="REGION",
    shell_complete=completers.regions,
    help="Coding Plan region: china (cn, aliyun) or global (intl).",
)
@click.option("--base-url", metavar="URL", help="Override the endpoint (custom providers, gateways).")
@click.option(
    "--protocol",
    type=click.Choice(["openai", "anthropic", "gemini"]),
    help="The custom provider's wire protocol: openai (default), anthropic (Messages) or gemini.",
)
@click.option("--model", metavar="ID", shell_complete=completers.models, help="Model to use with this login.")
@click.option("--key-stdin", is_flag=True, help="Read the API key from stdin (keeps it out of shell history).")
@click.option("--store", type=click.Choice(["file", "keyring"]), help="credentials.toml or the OS keyring.")
@click.option("--browser", is_flag=True, help="OpenRouter: log in on its web page instead of pasting a key.")
@click.option("--no-browser", is_flag=True, help="Don't open a browser, just print the URL (and Qwen OAuth's code).")
@click.option("--verify", is_flag=True, help="Make one cheap authenticated request (GET /models) and report it.")
@profile_option
@pass_app
def login(
    app: AppContext, method, provider, region, base_url, protocol, model, key_stdin, store, browser, no_browser, verify
):
    """Log in with one method and make it the active one.

    With --profile NAME the login is stored under that name beside the others (a second key for the same
    provider, say) and the active login is left as it is: use it with --profile, QWEN_PROFILE or
    `qwen auth switch NAME`, or bind a folder to it with auth.profile in its .qwen/config.toml.

    On a terminal, anything not given is asked for (keys with hidden input). Off a terminal, the method
    and credentials must come from flags, stdin or the environment (QWEN_AUTH_METHOD names the method);
    a missing one is a usage error (exit 2).

    \b
    Examples:
      qwen auth login
      qwen auth login --method qwen-oauth --no-browser
      qwen auth login --method coding-plan --region global --key-stdin --verify
      qwen auth login --method api-key --provider openrouter --key-stdin < key.txt
      qwen auth login --provider openrouter --browser
      qwen auth login --method api-key --provider ollama --model qwen3-coder
      qwen auth login --base-url https://gw.example/v1 --model m --key-stdin
      qwen auth login --provider openai --profile work --key-stdin
    """
    from qwen_cli.auth import login as logins
    from qwen_cli.auth import profiles
    from qwen_cli.auth.methods.base import LoginRequest

    profile = profiles.current(app.settings)

    if method is None and app.settings.source("auth.method") == "env:QWEN_AUTH_METHOD":
        method = app.settings.get("auth.method")
    if browser:
        from qwen_cli.auth.openrouter_pkce import check_flags

        check_flags(method, provider, base_url, key_stdin)
    request = LoginRequest(
        provider=provider,
        region=region,
        base_url=base_url,
        model=model,
        key_stdin=key_stdin,
        store=store,
        no_browser=no_browser,
        browser=browser,
        verify=verify,
        protocol=protocol,
        activate=profile is None,  # a named profile is chosen by --profile, QWEN_PROFILE, switch or a folder
    )
    result = logins.login(app, method, request)
    if profile is not None:
        app.out.info(
            f"Stored under the profile {profile}: use it with --profile {profile}, QWEN_PROFILE={profile} or "
            f"`qwen auth switch {profile}`."
        )
    if result.verification is not None and not result.verification.ok:
        return result.verification.exit_code
    return 0


@auth.command()
@click.argument("method", metavar="[METHOD|PROFILE]", required=False, shell_complete=completers.methods_and_profiles)
@provider_argument
@click.option(
    "--provider",
    "-p",
    metavar="ID",
    shell_complete=completers.providers,
    help="Which api-key provider, when several are configured (or give it after api-key).",
)
@pass_app
def switch(app: AppContext, method, provider_word, provider):
    """Make another configured method, or another profile, active without entering anything again.

    Without METHOD on a terminal, a picker lists what is configured. Switching to a method that has no
    credentials exits 3 and prints the login command to run. A PROFILE (a name given to
    `qwen auth login --profile`, or `default`) becomes the one every folder not bound to another uses.

    \b
    Examples:
      qwen auth switch
      qwen auth switch qwen-oauth
      qwen auth switch api-key openrouter
      qwen auth switch work
      qwen auth switch default
    """
    from qwen_cli.auth import login as logins

    if method is not None and method not in methods.ids():
        if provider_word or provider:
            raise UsageError(f"a provider goes with {methods.provider_method().id}, not the profile {method}")
        _switch_profile(app, method)
        return
    logins.switch(app, method, _one_provider(method, provider_word, provider))


def _switch_profile(app: AppContext, name: str) -> None:
    """`qwen auth switch PROFILE`: auth.profile in the user's config.toml (the default profile: removed)."""
    from qwen_cli.auth import profiles
    from qwen_cli.auth.resolve import inventory
    from qwen_cli.settings import write_value

    profile = profiles.check(name, "qwen auth switch")
    settings = app.settings
    if profile is not None and profile not in profiles.known(settings):
        raise AuthError(
            f"there is no method or profile {name!r}",
            hint=f"Methods: {', '.join(methods.ids())}. To create the profile: qwen auth login --profile {name}",
        )
    if profile is not None or settings.user_file.exists():
        write_value(settings.user_file, profiles.SETTING, profile)
    settings = app.reload_settings()
    now, reason = profiles.active(settings)
    if now != profile:
        app.out.warn(
            f"the profile {profiles.label(now)} stays active here: {profiles.reason_text(reason)}; "
            f"elsewhere {profiles.label(profile)} is used."
        )
        settings = profiles.using(settings, profile)
    _choice, states = inventory(settings)
    active = next((s for s in states if s.active), None)
    what = f": {active.label()}; model {active.model}" if active is not None and active.model else ""
    app.out.info(f"Switched to the profile {profiles.label(profile)}{what}.")


@auth.command()
@click.option("--method", "-m", type=METHOD_CHOICE, help="Which method's secret (default: the active one).")
@click.option(
    "--provider",
    "-p",
    metavar="ID",
    shell_complete=completers.providers,
    help="Which api-key provider's key (default: the active one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {token, method, provider, source, expires_at}.")
@profile_option
@pass_app
def token(app: AppContext, method: str | None, provider: str | None, as_json: bool) -> int:
    """Print the key or access token this invocation would use, for scripts.

    Only the secret and a newline go to stdout; a Qwen OAuth token close to expiry is refreshed first.
    It prints on a terminal too (a note on stderr says it is now on screen), as `gh auth token` does.

    Exit status: 0, or 3 when nothing is configured or the login uses no secret.

    \b
    Examples:
      curl -H "Authorization: Bearer $(qwen auth token)" ...
      qwen auth token --method api-key --provider openrouter
      qwen auth token --profile work
      qwen auth token --json | jq -r .expires_at
    """
    from qwen_cli.auth import profiles
    from qwen_cli.auth.resolve import resolve
    from qwen_cli.output.json import write_json

    creds = resolve(app.settings, method=method, provider=provider)
    secret = creds.token
    if not secret:
        raise AuthError(
            f"{creds.method} ({creds.provider}) uses no key or token",
            hint="Nothing to print: requests to it carry no secret.",
        )
    app.secrets.append(secret)  # anything else printed from here on is redacted
    if as_json:
        write_json(
            app.stdout,
            {
                "token": secret,
                "method": creds.method,
                "provider": creds.provider,
                "source": creds.source,
                "expires_at": _iso(creds.expires_at),
                "profile": profiles.label(creds.profile),
            },
        )
    else:
        if not secret.isprintable():  # a key with control characters would be a terminal escape, not a key
            raise AuthError(
                "the secret contains control characters, so it is not printed",
                hint="Check where it comes from (`qwen auth status`).",
            )
        app.stdout.write(secret + "\n")
        app.stdout.flush()
    if app.stdout.isatty():
        app.out.notice(
            "that is a secret, now on your screen and in its scrollback; "
            "pipe it (`qwen auth token | ...`) to keep it off."
        )
    return 0


def _source_text(settings: Settings, state) -> str:
    from qwen_cli import paths

    source = state.source or ""
    if source.startswith("env:"):
        return f"environment variable {source[4:]}"
    if source.startswith(".env:"):
        return f".env file {source[5:]}"
    if source == "credentials.toml":
        return f"credentials.toml ({paths.credentials_file(settings.home)})"
    if source == "keyring":
        return "OS keyring (service qwen-cli)"
    if source == "oauth_creds.json" or (source.startswith("oauth_creds.") and source.endswith(".json")):
        return str(paths.oauth_creds_file(settings.home).with_name(source))
    if source == "key_cmd":
        return f"key_cmd (providers.{state.provider}.key_cmd in {paths.user_config_file(settings.home)})"
    return source or "-"


def relative(seconds: float) -> str:
    """3725 -> 'in 1 h 2 min'; -90 -> '1 min ago'."""
    future = seconds >= 0
    s = abs(int(seconds))
    if s < 60:
        text = f"{s} s"
    elif s < 3600:
        text = f"{s // 60} min"
    elif s < 86400:
        text = f"{s // 3600} h {s % 3600 // 60} min"
    else:
        text = f"{s // 86400} d {s % 86400 // 3600} h"
    return f"in {text}" if future else f"{text} ago"


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _verified(settings: Settings, state):
    from qwen_cli.auth import verify

    return verify.last(settings.home, state.id, state.fingerprint)


def _verification_json(outcome) -> dict | None:
    if outcome is None:
        return None
    return {"ok": outcome.ok, "what": outcome.what, "at": _iso(outcome.at), "detail": outcome.detail}


def _row(settings: Settings, state, now: float) -> dict:
    from qwen_cli.auth.profiles import label
    from qwen_cli.terms import summary_line

    return {
        "method": state.method,
        "profile": label(state.profile),
        "active": state.active,
        "provider": state.provider,
        "protocol": state.protocol,
        "region": state.region,
        "base_url": state.base_url,
        "model": state.model,
        "source": state.source,
        "store": state.store,
        "key": state.masked_key,
        "expires_at": _iso(state.expires_at),
        "expires_in": None if state.expires_at is None else int(state.expires_at - now),
        "usable": state.usable,
        "condition": state.condition,
        "problem": state.problem,
        "overridden": state.overridden,
        "origins": state.origins or None,
        "terms": summary_line(state.method, state.provider if state.shows_provider else None, state.region),
        "verified": _verification_json(_verified(settings, state)),
    }


@auth.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {active, methods: [...]}.")
@click.option("--verify", is_flag=True, help="Check the active credentials with one request (GET /models).")
@profile_option
@pass_app
def status(app: AppContext, as_json, verify):
    """Every method with credentials, the active one marked, and where each secret comes from.

    Every profile's logins are listed; the active profile is named with why it is active (--profile,
    QWEN_PROFILE, a folder bound to it, `qwen auth switch`, or the default).

    Exit status: 0 when the active method is usable, 3 when nothing is configured or the active
    method has no usable credentials; with --verify, the failed check's exit code.

    \b
    Examples:
      qwen auth status
      qwen auth status --verify
      qwen auth status --json | jq -r '.active'
    """
    from qwen_cli import privacy_guard
    from qwen_cli.auth import profiles
    from qwen_cli.auth.resolve import inventory
    from qwen_cli.output.json import write_json

    profile, reason = profiles.active(app.settings)
    choice, states = inventory(app.settings)
    active = next((s for s in states if s.active), None)
    outcome = None
    if verify and active is not None and active.usable:
        outcome = _verify_active(app, active, report=not as_json)
        choice, states = inventory(app.reload_settings())  # a refreshed token is the one to show
        active = next((s for s in states if s.active), None)
    for state in states:
        app.secrets.extend(state.secrets)
    settings = app.settings
    now = time.time()
    rows = [_row(settings, s, now) for s in states]
    if as_json:
        payload: dict[str, Any] = {
            "active": active.method if active else None,
            "active_provider": active.provider if active and active.shows_provider else None,
            "profile": {"name": profiles.label(profile), "reason": reason, "why": profiles.reason_text(reason)},
            "profiles": [profiles.label(p) for p in profiles.known(settings)],
            "methods": rows,
        }
        if verify:
            payload["verification"] = _verification_json(outcome)
        if privacy_guard.mode(settings):
            payload["privacy_guard"] = _guard_json(settings)
        write_json(app.stdout, payload)
    else:
        if profile is not None or any(s.profile for s in states):
            app.stdout.write(f"Profile: {profiles.label(profile)} (active: {profiles.reason_text(reason)})\n")
        _print_status(app, settings, states, rows, now)
        _print_guard(app, settings)
        _plan_usage(app, states)
    if not states or choice is None:
        if not as_json:
            message, hint = methods.nothing_configured()
            app.out.error(AuthError(message, hint=hint))
        return 3
    if active is None or not active.usable:
        if not as_json and active is not None:
            app.out.error(
                AuthError(f"the active method has no usable credentials: {active.problem}", hint=active.problem_hint)
            )
        return 3
    if outcome is not None and not outcome.ok:
        return outcome.exit_code or 3
    return 0


def _guard_json(settings: Settings) -> dict:
    from qwen_cli import privacy_guard

    return {"mode": privacy_guard.mode(settings) or "false", "line": privacy_guard.describe(settings)}


def _print_guard(app: AppContext, settings: Settings) -> None:
    from qwen_cli import privacy_guard

    line = privacy_guard.describe(settings)
    if line:
        app.out.answer(line)


def _verify_active(app: AppContext, active, report: bool):
    """One check of the active login's credentials (refreshed first, as a real request would be)."""
    from qwen_cli.auth import login as logins
    from qwen_cli.auth.resolve import resolve

    creds = resolve(app.settings, method=active.method, provider=active.provider)
    return logins.check(app, creds, region=active.region, report=report)


def _print_status(app: AppContext, settings: Settings, states, rows, now) -> None:
    from qwen_cli.output.style import style
    from qwen_cli.termsafe import clean

    out = app.stdout
    colour = app.color_for(out)
    for state, row in zip(states, rows, strict=True):
        marker = "*" if state.active else " "
        head = clean(state.label()) + ("  (active)" if state.active else "")
        out.write(f"{marker} {style(head, 'green', colour) if state.active else head}\n")
        for name, value in state.lines(
            _source_text(settings, state), now, row["terms"], _verified(settings, state), relative
        ):
            out.write(f"    {name:<9} {clean(value)}\n")
    out.flush()


def _plan_usage(app: AppContext, states) -> None:
    """The Coding Plan's windows from this machine's usage ledger, under its entry's lines (as /stats shows)."""
    from qwen_cli.usage import windows

    if any(s.method == windows.plan_method() for s in states):
        from qwen_cli.usage import ledger, report

        for line in report.plan_lines(app.settings, ledger.now(app.env), indent="    "):
            app.out.answer(line)


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@auth.command()
@click.argument("method", required=False, type=METHOD_CHOICE)
@provider_argument
@click.option(
    "--provider",
    "-p",
    metavar="ID",
    shell_complete=completers.providers,
    help="Which api-key provider to forget (or give it after api-key).",
)
@click.option("--all", "everything", is_flag=True, help="Forget every stored login (with --profile: that profile's).")
@profile_option
@pass_app
def logout(app: AppContext, method, provider_word, provider, everything):
    """Forget a stored login: the active one, METHOD, or --all.

    Logins of the active profile are meant (see `qwen auth status`); --profile NAME forgets that profile's
    and leaves the others.

    The Qwen OAuth file is removed under the same lock Qwen Code uses, so a concurrent refresh can't
    write it back. Keys that come from environment variables are not touched: unset them yourself.

    \b
    Examples:
      qwen auth logout
      qwen auth logout qwen-oauth
      qwen auth logout api-key openrouter
      qwen auth logout --all
      qwen auth logout --profile work
    """
    from qwen_cli.auth import manage, profiles
    from qwen_cli.auth.resolve import choose

    provider = _one_provider(method, provider_word, provider)
    settings = app.settings
    say = app.out.info
    profile = profiles.current(settings)
    profiles.require(settings, profile)
    targets: list[tuple[str, str | None]] = []
    if everything:
        if method or provider:
            raise UsageError("--all can't be combined with METHOD or --provider")
        if profile is None:  # from the default profile: every profile's logins, the named ones first
            for named in profiles.known(settings)[1:]:
                _logout_profile(app, profiles.using(settings, named))
        targets += [(m.id, p) for m in methods.all() for p in m.stored_logins(settings)]
    else:
        if method is None and provider is not None:
            method = methods.provider_method().id
        if method is None:
            try:
                chosen = choose(settings)
            except AuthError:
                chosen = None
            if chosen is None:
                say("Nothing to log out of.")
                return 0
            method, provider = chosen.method, chosen.provider
        keyed = methods.get(method).takes_provider
        if keyed and provider is None:
            stored = methods.get(method).stored_logins(settings)
            configured = settings.get("auth.provider")
            if configured in stored:
                provider = configured
            elif len(stored) == 1:
                provider = stored[0]
            elif stored:
                raise UsageError(
                    f"several {method} providers are stored ({', '.join(map(str, stored))})",
                    hint="Pass --provider ID, or --all.",
                )
        targets.append((method, provider))

    if profile is not None:
        _logout_profile(app, settings, targets)
        app.reload_settings()
        return 0
    active = settings.get("auth.method")
    active_provider = settings.get("auth.provider")
    for m, p in targets:
        name = m + (f" ({p})" if p else "")
        if manage.remove(settings, m, p):
            say(f"Logged out of {name}.")
            if (
                settings.source("auth.method").startswith("user:")
                and active == m
                and (not methods.get(m).takes_provider or active_provider == p)
            ):
                manage.deactivate(settings)
        else:
            say(f"No stored login for {name}.")
    if everything:  # the auth settings logins wrote go too, whatever is active
        manage.deactivate(settings, region_too=True)
    for var in [v for m in sorted(methods.all(), key=lambda m: m.env_rank) for v in m.env_keys(settings)]:
        if settings.getenv(var):
            where = settings.env_source(var) or var
            say(f"Note: {var} is still set ({where}) and will be used; unset it to stop that.")
    app.reload_settings()
    return 0


def _logout_profile(app: AppContext, settings: Settings, targets: list[tuple[str, str | None]] | None = None) -> None:
    """Forget a named profile's logins (`targets`, else all of them). The environment and the active method
    are not the profile's, so nothing else changes, except `qwen auth switch`'s choice of a profile that is
    gone now."""
    from qwen_cli.auth import manage, profiles

    profile = profiles.current(settings)
    if targets is None:
        targets = [(m.id, p) for m in methods.all() for p in m.stored_logins(settings)]
    for m, p in targets:
        name = m + (f" ({p})" if p else "") + f" in the profile {profile}"
        app.out.info(f"Logged out of {name}." if manage.remove(settings, m, p) else f"No stored login for {name}.")
    from qwen_cli.settings import flatten, read_toml, write_value

    switched = flatten(read_toml(settings.user_file)).get(profiles.SETTING) if settings.user_file.exists() else None
    if switched == profile and profile not in profiles.known(settings):
        write_value(settings.user_file, profiles.SETTING, None)
        app.out.info(f"The profile {profile} is gone; the default profile is used again.")
