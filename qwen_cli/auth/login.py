"""The steps every login procedure shares: the terms line, the key (stdin, environment or a hidden prompt),
where it is kept, verifying a candidate before it is saved, and activating the new login.

Procedures talk to the person only through `app.prompter` and `app.out`, and open a browser only through
`app.browser`, so tests script all three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.auth.methods.base import LoginRequest, LoginResult, StatusEntry
from qwen_cli.errors import UsageError
from qwen_cli.prompter import MAX_TRIES

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.auth.verify import Verification
    from qwen_cli.context import AppContext

# A key whose check failed this way is still a working key (the quota or rate limit is the problem): saved.
KEY_WORKS = frozenset({7})


def say_terms(app: AppContext, method: str, provider: str | None = None, region: str | None = None) -> None:
    """The terms line and the training answer, once per invocation: a first-run login that goes on into chat
    doesn't repeat them."""
    from qwen_cli import data_use
    from qwen_cli.terms import summary_line

    line = summary_line(method, provider=provider, region=region)
    if line in app.shown_once:
        return
    app.shown_once.add(line)
    app.prompter.say(line)
    training = data_use.login_line(method, provider, region)
    if training:
        app.prompter.say(training)


def key_from(
    app: AppContext, *, key_stdin: bool, env_var: str | None, prompt: str, optional: bool = False
) -> tuple[str | None, str | None]:
    """(key, source): --key-stdin, then the method's environment variable, then a hidden prompt."""
    from qwen_cli.auth.manage import clean_key

    settings = app.settings
    if key_stdin:
        from qwen_cli.local_input import Budget, read_stream

        raw = read_stream(app.stdin, Budget(settings.get("input.max_bytes")), "--key-stdin")
        key = clean_key(raw.decode("utf-8", "replace"))
        if not key:
            raise UsageError(
                "--key-stdin was given but stdin was empty", hint='printf %s "$KEY" | qwen auth login ... --key-stdin'
            )
        return key, "stdin"
    if env_var and settings.getenv(env_var):
        return clean_key(settings.getenv(env_var)), settings.env_source(env_var)
    if not app.prompter.interactive:
        if optional:
            return None, None
        where = f", or set {env_var}" if env_var else ""
        raise UsageError(
            "an API key is needed and this is not a terminal, so it can't be asked for",
            hint=f"Pipe it in with --key-stdin{where}.",
        )
    for _ in range(MAX_TRIES):
        key = clean_key(app.prompter.secret(prompt, need="an API key", flag="--key-stdin"))
        if key or optional:
            return key, "prompt"
        app.prompter.say("The key is empty; paste it again.")
    raise UsageError("no key was entered")


def from_env(source: str | None) -> bool:
    return source not in ("stdin", "prompt", "browser", None)


def stored_text(env_source: str | None, store: str, key: str | None) -> str:
    if env_source and env_source.startswith("env:"):
        return f"key from the environment ({env_source[4:]}), not copied"
    if env_source and env_source.startswith(".env:"):
        return f"key from the .env file {env_source[5:]}, not copied"
    if not key:
        return "no key needed (local server)"
    return "key kept in the OS keyring" if store == "keyring" else "key saved in credentials.toml (mode 0600)"


def store_choice(app: AppContext, store: str | None) -> str:
    from qwen_cli.auth import keystore

    store = store or app.settings.get("auth.store") or "file"
    if store == "keyring":
        keystore.require_keyring()
    return store


def check(
    app: AppContext, creds: Credentials, region: str | None = None, record: bool = True, report: bool = True
) -> Verification:
    """One verification of `creds`, reported in one line (unless `report` is False: the caller shows the
    result itself), and (unless `record` is False: a key not saved yet) recorded for its login against the
    key's fingerprint."""
    from qwen_cli import privacy_guard
    from qwen_cli.auth import verify

    privacy_guard.check(app.settings, creds)  # a verification is a request too
    if creds.token and creds.token not in app.secrets:
        app.secrets.append(creds.token)
    outcome = verify.verify(app.settings, creds, region=region)
    if record:
        verify.record(app.settings.home, verify.key_of(creds), outcome)
    if report:
        app.out.info(f"Verified {outcome.what}: {'OK' if outcome.ok else 'FAILED'}: {outcome.detail}")
    return outcome


def verify_before_saving(app: AppContext, creds: Credentials, region: str | None = None) -> Verification:
    """`--verify` on a login: check the new key first. A rejected one is not saved and the previous login
    stays active (exit 3, or the check's own code when the server could not be reached)."""
    outcome = check(app, creds, region, record=False)
    if outcome.ok or outcome.exit_code in KEY_WORKS:
        return outcome
    from qwen_cli import errors

    kinds: list[type[errors.QwenError]] = [
        errors.AuthError,
        errors.RequestError,
        errors.ServerError,
        errors.NetworkError,
        errors.ConfigError,
    ]
    kind = next((k for k in kinds if int(k.exit_code) == outcome.exit_code), errors.AuthError)
    raise kind(
        f"the new key was not saved: {outcome.detail}",
        hint="Your previous login (if any) is still active; check the key and log in again.",
    )


def finish(app: AppContext, result: LoginResult, title: str, activate: bool) -> LoginResult:
    """Activate the new login (one write of config.toml) and say what it is."""
    from qwen_cli.auth import manage

    if activate:
        manage.activate(app.reload_settings(), result.method, result.provider, result.region)
        app.reload_settings()
    from qwen_cli import terms_notice

    terms_notice.record(app.settings, result.method, result.provider, result.region)
    what = title + (f" ({result.provider})" if result.provider else "")
    if result.region:
        what += f", {result.region} region"
    app.out.info(f"Logged in: {what}; model {result.model}; {result.stored_in}.")
    if activate:
        warn_env_override(app, result.method)
    return result


def warn_env_override(app: AppContext, method: str) -> None:
    env_method = app.env.get("QWEN_AUTH_METHOD")
    if env_method and env_method != method:
        app.out.warn(f"QWEN_AUTH_METHOD={env_method} is set and overrides this choice in this shell.")


# -- the entry points: one login, the chooser, switching ---------------------------------------------------


def choose_method(
    app: AppContext, intro: str = "How do you want to use qwen?", extra: list[tuple[str, str]] | None = None
) -> str:
    """A method's id, or one of `extra`'s ids (the local servers found, listed after the methods)."""
    from qwen_cli.auth import methods
    from qwen_cli.terms import summary_line

    options = [(m.id, f"{m.title}: {m.blurb}\n{summary_line(m.id)}") for m in methods.all()] + list(extra or [])
    flags = [f"--method {i}" for i in methods.ids()]
    return app.prompter.choose(intro, options, need="an auth method", flag=", ".join(flags[:-1]) + " or " + flags[-1])


def login(app: AppContext, method: str | None = None, request: LoginRequest | None = None) -> LoginResult:
    """Log in with one method. Missing inputs are asked for on a terminal, else a usage error (exit 2)."""
    from qwen_cli.auth import methods

    request = request or LoginRequest()
    if method is None:
        if request.provider:
            method = methods.provider_method().id
        elif request.region:
            method = next(m.id for m in methods.all() if m.takes_region)
        else:
            from qwen_cli.auth import local_offer

            found = local_offer.find(app.settings) if app.prompter.interactive else []
            method = choose_method(app, extra=local_offer.options(found))
            server = local_offer.picked(found, method)
            if server is not None:
                method, request = methods.provider_method().id, local_offer.apply(app, server, request)
    return methods.get(method).login(app, request)


def switch(app: AppContext, method: str | None = None, provider: str | None = None) -> StatusEntry:
    """Make another configured login active without re-entering anything. Returns its entry."""
    from qwen_cli.auth import manage, methods
    from qwen_cli.auth.resolve import inventory
    from qwen_cli.errors import AuthError

    chosen = methods.get(method) if method is not None else None
    if chosen is None and provider is not None:
        chosen = methods.provider_method()
    _choice, states = inventory(app.settings, active_profile_only=True)  # a method is switched within it
    ready = [s for s in states if s.usable]
    ask = app.prompter
    if chosen is None:
        if not ask.interactive:
            from qwen_cli.prompter import need_terminal

            raise need_terminal("which method to switch to", f"METHOD ({', '.join(methods.ids())})")
        if not ready:
            raise AuthError("nothing is configured to switch to", hint="Run `qwen auth login`.")
        picked = pick_login(app, ready, "Switch to:")
        assert isinstance(picked, StatusEntry)  # no extra options were offered
        target = picked
    else:
        candidates = [s for s in ready if s.method == chosen.id and (provider is None or s.provider == provider)]
        if chosen.takes_provider and provider is None and len(candidates) > 1:
            configured = app.settings.get("auth.provider")
            preferred = [s for s in candidates if s.provider == configured]
            if preferred:
                candidates = preferred
            else:
                names = ", ".join(str(s.provider) for s in candidates)
                if not ask.interactive:
                    raise UsageError(
                        f"several {chosen.id} providers are configured ({names})", hint="Pass --provider ID."
                    )
                wanted = ask.choose(
                    "Which provider?", [(s.id, s.label()) for s in candidates], need="a provider", flag="--provider ID"
                )
                candidates = [s for s in candidates if s.id == wanted]
        if not candidates:
            broken = next(
                (
                    s
                    for s in states
                    if s.method == chosen.id and (provider is None or s.provider == provider) and s.problem
                ),
                None,
            )
            reason = f": {broken.problem}" if broken else ""
            raise AuthError(
                f"{chosen.title}{f' ({provider})' if provider else ''} has no usable credentials{reason}",
                hint=f"Log in first: {chosen.login_command(provider)}",
            )
        target = candidates[0]
    manage.activate(app.settings, target.method, target.provider, target.region)
    app.reload_settings()
    app.out.info(f"Switched to {target.label()}; model {target.model}.")
    warn_env_override(app, target.method)
    return target


def pick_login(
    app: AppContext, ready: list[StatusEntry], title: str, extra: list[tuple[str, str]] | None = None
) -> StatusEntry | str:
    """A menu of the usable logins (the active one the default), plus `extra` options (returned by id)."""
    options = [(s.id, s.label() + ("  (active)" if s.active else "")) for s in ready] + list(extra or [])
    current = next((s.id for s in ready if s.active), None)
    wanted = app.prompter.choose(title, options, need="which method to switch to", flag="METHOD", default=current)
    return next((s for s in ready if s.id == wanted), wanted)
