"""Interactive and scripted login pieces shared by `qwen auth ...`, the first-run chooser and chat's `/auth`.

    login(app, method=..., ...)        one login; prompts only when app.interactive, else flags/stdin/env
    login_interactive(app, method=None) the chooser, then login
    switch(app, method=None, provider=None)
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from qwen_cli.auth.methods import METHODS, check_method, login_command
from qwen_cli.errors import AuthError, QwenError, UsageError
from qwen_cli.terms import summary_line

MAX_TRIES = 3


@dataclass
class LoginResult:
    method: str
    provider: str | None
    region: str | None
    model: str | None
    base_url: str | None
    stored_in: str  # where the secret lives, as a phrase for the "Logged in" line
    verification: object | None = None


# -- terminal I/O --------------------------------------------------------------------------------------


def say(app, text: str = "") -> None:
    """A line on stderr, through termsafe: it may quote what a server sent (codes, URLs, model ids)."""
    from qwen_cli.termsafe import clean

    _line(app, clean(text))


def _line(app, text: str) -> None:
    app.stderr.write(text + "\n")
    app.stderr.flush()


def terminal_width(app) -> int | None:
    """Columns of the terminal behind stderr (its own size first: that is where it would cut a line), else
    COLUMNS, else 80. None off a terminal: logs and pipes get whole lines."""
    if not app.stderr_isatty:
        return None
    try:
        return os.get_terminal_size(app.stderr.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = app.env.get("COLUMNS", "")
        return int(columns) if columns.isdigit() and int(columns) > 0 else 80


def wrap(app, text: str, indent: str = "", first: str | None = None) -> str:
    """`text` wrapped at spaces to fit the terminal, so the terminal never cuts a word or a URL in two
    (a URL longer than a line stays whole on a line of its own), nor a `command` in backquotes.
    Unchanged off a terminal."""
    import re
    import textwrap

    first = indent if first is None else first
    width = terminal_width(app)
    if width is None:
        return first + " ".join(text.split())
    glued = re.sub(r"`[^`]*`", lambda m: m.group().replace(" ", "\xa0"), " ".join(text.split()))
    lines = textwrap.wrap(glued, width=max(width - 1, 20), initial_indent=first, subsequent_indent=indent,
                          break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines).replace("\xa0", " ")


def say_terms(app, line: str) -> None:
    """The terms line, once per invocation: a first-run login that goes on into chat doesn't repeat it."""
    if line in app.shown_once:
        return
    app.shown_once.add(line)
    say(app, wrap(app, line))


def _need_terminal(what: str, flag: str) -> UsageError:
    return UsageError(f"{what} is needed and this is not a terminal, so nothing can be asked",
                      hint=f"Pass {flag}.")


def ask(app, prompt: str, hidden: bool = False) -> str:
    """One line from the person at the terminal; the prompt goes to stderr. EOF cancels."""
    import click

    if hidden and app.stdin is sys.stdin and app.stdin_isatty:
        import getpass

        try:
            return getpass.getpass(prompt, stream=app.stderr)
        except EOFError:
            raise click.Abort() from None
    app.stderr.write(prompt)
    app.stderr.flush()
    line = app.stdin.readline()
    if not line:
        raise click.Abort()
    return line.rstrip("\r\n")


def ask_until(app, prompt: str, problem) -> str | None:
    """Ask until `problem(answer)` has nothing to say (None), at most MAX_TRIES times, saying each time what
    was wrong. None when no good answer came: the caller raises its own error."""
    for _ in range(MAX_TRIES):
        answer = ask(app, prompt).strip()
        reason = problem(answer)
        if reason is None:
            return answer
        say(app, wrap(app, reason))
    return None


def _base_url_problem(answer: str) -> str | None:
    if not answer:
        return "A base URL is needed: the address of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1."
    if not answer.startswith(("http://", "https://")):
        return f"{answer!r} is not an http(s) URL; it looks like https://host/v1."
    return None


MODELS_SHOWN = 20


def ask_model(app, prov, base_url: str, key: str | None) -> str:
    """The model for a provider without a default: picked from the server's GET /models when it answers
    (a number or an id), else typed. Asked again when the answer is empty or not offered."""
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.cli import model_choice

    try:
        offered = model_choice.offered(app, Credentials("api-key", prov.id, base_url, "", token=key))
    except QwenError as error:
        say(app, wrap(app, f"Could not list the models at {base_url} ({error.message}); type the model's id."))
        offered = []
    shown = offered[:MODELS_SHOWN]
    if shown:
        say(app, f"Models at {base_url}:")
        width = len(str(len(shown)))
        for i, name in enumerate(shown, 1):
            say(app, f"  {str(i).rjust(width)}. {name}")
        if len(offered) > len(shown):
            say(app, f"  ... and {len(offered) - len(shown)} more: type the id of any of them.")

    def problem(answer: str) -> str | None:
        if not answer:
            return "A model is needed for this provider: " + (
                "type a number from the list, or a model id." if shown else "type the id the server serves.")
        if offered and answer not in offered and not (answer.isdigit() and 1 <= int(answer) <= len(shown)):
            return model_choice.not_offered(answer, offered, base_url) + "."
        return None

    answer = ask_until(app, f"Model (1-{len(shown)} or an id): " if shown else "Model id: ", problem)
    if answer is None:
        raise UsageError("a model is needed for this provider", hint="Pass it with --model ID.")
    return shown[int(answer) - 1] if answer not in offered and answer.isdigit() else answer


def pick(app, title: str, options: list[tuple[str, str]], default: str | None = None) -> str:
    """A numbered menu on stderr; accepts the number or the id. Returns the chosen id.

    A label's first line follows its number; further lines (after a newline) are indented under it."""
    say(app, wrap(app, title))
    width = len(str(len(options)))
    for i, (_value, label) in enumerate(options, 1):
        number = f"  {str(i).rjust(width)}. "
        head, *more = label.split("\n")
        say(app, wrap(app, head, " " * len(number), first=number))
        for line in more:
            say(app, wrap(app, line, " " * (len(number) + 2)))
    ids = [value for value, _ in options]
    suffix = f" [{ids.index(default) + 1}]" if default in ids else ""
    for _ in range(MAX_TRIES):
        answer = ask(app, f"Choose 1-{len(options)}{suffix}: ").strip()
        if not answer and default in ids:
            return default
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return ids[int(answer) - 1]
        if answer in ids:
            return answer
        say(app, f"Please type a number from 1 to {len(options)}.")
    raise UsageError("no valid choice was made")


def choose_method(app, intro: str = "How do you want to use qwen?") -> str:
    options = []
    for method in METHODS.values():
        options.append((method.id, f"{method.title}: {method.blurb}\n{summary_line(method.id)}"))
    return pick(app, intro, options)


# -- browser and the device code -------------------------------------------------------------------------


def browser_usable(env, no_browser: bool = False) -> bool:
    """Only where a browser can actually appear: not over SSH, not in CI, and with a display (or macOS/Windows)."""
    if no_browser or env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT") or env.get("CI"):
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def open_browser(url: str, env) -> bool:
    """Start a browser without letting it write to our stdout/stderr. False when nothing could be started."""
    if sys.platform == "win32":
        try:
            os.startfile(url)  # type: ignore[attr-defined]
            return True
        except OSError:
            return False
    browser = env.get("BROWSER")
    if browser:
        command = browser.split(":")[0].split()
        command = [part.replace("%s", url) for part in command]
        if not any(url in part for part in command):
            command.append(url)
    else:
        command = ["open" if sys.platform == "darwin" else "xdg-open", url]
    try:
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=dict(env),
        )
    except OSError:
        return False
    return True


def hyperlink(app, url: str) -> str:
    """The URL (made terminal-safe) itself, wrapped in an OSC-8 hyperlink only when stderr is a real terminal."""
    from qwen_cli.termsafe import clean

    url = clean(url)
    if app.stderr_isatty and app.env.get("TERM") != "dumb":
        return f"\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\"
    return url


def show_device_code(app, device, no_browser: bool) -> None:
    say(app, "To log in with Qwen OAuth, open this URL in a browser (on any device) and confirm the code:")
    _line(app, hyperlink(app, device.verification_uri_complete))  # say() would neutralise our own OSC 8
    say(app, f"Code: {device.user_code}")
    if browser_usable(app.env, no_browser) and open_browser(device.verification_uri_complete, app.env):
        say(app, "Opened your browser.")
    say(app, "Waiting for approval (Ctrl-C to cancel)...")


# -- logins --------------------------------------------------------------------------------------------


def _key_from(app, *, key_stdin: bool, env_var: str | None, prompt: str, optional: bool = False):
    """(key, source): --key-stdin, then the method's environment variable, then a hidden prompt."""
    from qwen_cli.auth.manage import clean_key

    if key_stdin:
        from qwen_cli.local_input import Budget, read_stream

        raw = read_stream(app.stdin, Budget(app.settings.get("input.max_bytes")), "--key-stdin")
        key = clean_key(raw.decode("utf-8", "replace"))
        if not key:
            raise UsageError("--key-stdin was given but stdin was empty",
                             hint="printf %s \"$KEY\" | qwen auth login ... --key-stdin")
        return key, "stdin"
    if env_var and app.settings.getenv(env_var):
        return clean_key(app.settings.getenv(env_var)), app.settings.env_source(env_var)
    if app.interactive:
        for _ in range(MAX_TRIES):
            key = clean_key(ask(app, prompt, hidden=True))
            if key or optional:
                return key, "prompt"
            say(app, "The key is empty; paste it again.")
        raise UsageError("no key was entered")
    if optional:
        return None, None
    where = f", or set {env_var}" if env_var else ""
    raise UsageError("an API key is needed and this is not a terminal, so it can't be asked for",
                     hint=f"Pipe it in with --key-stdin{where}.")


def _stored_text(env_source: str | None, store: str, key: str | None) -> str:
    if env_source and env_source.startswith("env:"):
        return f"key from the environment ({env_source[4:]}), not copied"
    if env_source and env_source.startswith(".env:"):
        return f"key from the .env file {env_source[5:]}, not copied"
    if not key:
        return "no key needed (local server)"
    return "key kept in the OS keyring" if store == "keyring" else "key saved in credentials.toml (mode 0600)"


def _store_choice(app, store: str | None) -> str:
    from qwen_cli.auth import keystore

    store = store or app.settings.get("auth.store") or "file"
    if store == "keyring":
        keystore.require_keyring()
    return store


def _finish(app, result: LoginResult, verify: bool, activate: bool) -> LoginResult:
    from qwen_cli.auth import manage

    if activate:
        manage.activate(app.reload_settings(), result.method, result.provider, result.region)
        app.reload_settings()
    what = METHODS[result.method].title + (f" ({result.provider})" if result.provider else "")
    if result.region:
        what += f", {result.region} region"
    say(app, f"Logged in: {what}; model {result.model}; {result.stored_in}.")
    if activate:
        env_method = app.env.get("QWEN_AUTH_METHOD")
        if env_method and env_method != result.method:
            app.warn(f"QWEN_AUTH_METHOD={env_method} is set and overrides this choice in this shell.")
    if verify:
        result.verification = verify_and_report(app, result.method, result.provider)
    return result


def verify_and_report(app, method: str, provider: str | None):
    from qwen_cli.auth import verify as verifying
    from qwen_cli.auth.resolve import coding_plan_region, resolve

    settings = app.settings
    creds = resolve(settings, method=method, provider=provider)
    if creds.token:
        app.secrets.append(creds.token)
    region = None
    if method == "coding-plan":
        from qwen_cli.auth import keystore

        region = coding_plan_region(settings, keystore.get(settings.home, "coding-plan")).id
    outcome = verifying.verify(settings, creds, region=region)
    verifying.record(settings.home, verifying.key_of(creds), outcome)
    mark = "OK" if outcome.ok else "FAILED"
    say(app, f"Verified {outcome.what}: {mark}: {outcome.detail}")
    return outcome


def login_qwen_oauth(app, no_browser: bool = False, verify: bool = False, activate: bool = True) -> LoginResult:
    from qwen_cli.auth import qwen_oauth, token_store

    say_terms(app, summary_line("qwen-oauth"))
    settings = app.settings
    token = qwen_oauth.login(settings, lambda device: show_device_code(app, device, no_browser))
    app.secrets.extend([token.access_token, token.refresh_token])
    endpoints = qwen_oauth.Endpoints.from_settings(settings)
    result = LoginResult(
        "qwen-oauth", None, None, endpoints.model,
        qwen_oauth.api_base(token.resource_url, endpoints.default_api_base),
        f"token saved in {token_store.creds_path(settings.home)}",
    )
    return _finish(app, result, verify, activate)


def login_coding_plan(app, region: str | None = None, base_url: str | None = None, model: str | None = None,
                      key_stdin: bool = False, store: str | None = None, verify: bool = False,
                      activate: bool = True) -> LoginResult:
    from qwen_cli import catalogue
    from qwen_cli.auth import manage
    from qwen_cli.auth.resolve import CODING_PLAN_ENV

    settings = app.settings
    if region is None:
        region = settings.get("auth.region")
    if region is None and base_url is None:
        if not app.interactive:
            raise _need_terminal("the Coding Plan region", "--region china or --region global")
        options = [(r.id, f"{r.id}: {r.site}, keys from {r.console}") for r in catalogue.regions().values()]
        region = pick(app, "Which Alibaba Cloud site is your Coding Plan from?", options)
    reg = catalogue.region(region or "china")
    store = _store_choice(app, store)
    say_terms(app, summary_line("coding-plan", region=reg.id))
    key, source = _key_from(app, key_stdin=key_stdin, env_var=CODING_PLAN_ENV,
                            prompt=f"Coding Plan API key (from {reg.console}, input hidden): ")
    app.secrets.append(key)
    warning = manage.key_prefix_warning(key)
    if warning:
        app.warn(warning)
    plan = catalogue.coding_plan()
    if model and model not in plan["models"]:
        app.warn(f"{model!r} is not in the Coding Plan's model list ({', '.join(plan['models'])}).")
    from_env = source not in ("stdin", "prompt")
    manage.store_coding_plan(settings, None if from_env else key, reg.id, base_url, model, store)
    stored_in = _stored_text(source if from_env else None, store, key)
    result = LoginResult("coding-plan", None, reg.id, model or plan["models"][0], base_url or reg.base_url, stored_in)
    return _finish(app, result, verify, activate)


def login_api_key(app, provider: str | None = None, base_url: str | None = None, model: str | None = None,
                  key_stdin: bool = False, store: str | None = None, verify: bool = False,
                  activate: bool = True) -> LoginResult:
    from qwen_cli import catalogue
    from qwen_cli.auth import manage
    from qwen_cli.providers.http import is_local_url

    if provider is None and base_url is not None:
        provider = "custom"
    if provider is None:
        if not app.interactive:
            raise _need_terminal("a provider", "--provider ID (or --base-url URL for a custom endpoint)")
        options = [(p.id, f"{p.id}: {p.name}") for p in catalogue.providers().values()]
        provider = pick(app, "Which provider?", options)
    prov = catalogue.provider(provider)
    if prov.id == "custom" and not base_url:
        if not app.interactive:
            raise _need_terminal("a base URL for the custom provider", "--base-url URL")
        base_url = ask_until(app, "Base URL (OpenAI-compatible, e.g. https://host/v1): ", _base_url_problem)
        if base_url is None:
            raise UsageError("the custom provider needs a base URL",
                             hint="Pass it with --base-url URL, e.g. --base-url http://127.0.0.1:8000/v1")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must be an http(s) URL, got {base_url!r}")
    needs_model = not model and not prov.default_model
    if needs_model and not app.interactive:
        raise _need_terminal(f"a model for {prov.name}", "--model ID")
    store = _store_choice(app, store)
    say_terms(app, summary_line("api-key", provider=prov.id))
    local = prov.local or is_local_url(base_url or prov.base_url)
    key, source = _key_from(
        app, key_stdin=key_stdin, env_var=prov.key_env,
        prompt=f"{prov.name} API key (input hidden{', Enter for none' if local else ''}): ", optional=local,
    )
    if key:
        app.secrets.append(key)
    if needs_model:  # after the key, so the server's own list can be offered
        model = ask_model(app, prov, base_url or prov.base_url, key)
    from_env = source not in ("stdin", "prompt", None)
    manage.store_api_key(settings=app.settings, provider=prov.id, key=None if from_env else key,
                         base_url=base_url, model=model, store=store)
    stored_in = _stored_text(source if from_env else None, store, key)
    result = LoginResult("api-key", prov.id, None, model or prov.default_model, base_url or prov.base_url, stored_in)
    return _finish(app, result, verify, activate)


def login(app, method: str | None = None, provider: str | None = None, region: str | None = None,
          base_url: str | None = None, model: str | None = None, key_stdin: bool = False,
          store: str | None = None, no_browser: bool = False, verify: bool = False,
          activate: bool = True) -> LoginResult:
    """Log in with one method. Missing inputs are asked for on a terminal, else a usage error (exit 2)."""
    if method is None:
        if provider:
            method = "api-key"
        elif region:
            method = "coding-plan"
        elif app.interactive:
            method = choose_method(app)
        else:
            raise _need_terminal("an auth method", "--method qwen-oauth, --method coding-plan or --method api-key")
    check_method(method)
    if method == "qwen-oauth":
        for flag, value in (("--provider", provider), ("--region", region), ("--base-url", base_url),
                            ("--key-stdin", key_stdin or None)):
            if value:
                raise UsageError(f"{flag} does not apply to Qwen OAuth")
        return login_qwen_oauth(app, no_browser=no_browser, verify=verify, activate=activate)
    if method == "coding-plan":
        if provider:
            raise UsageError("--provider applies to --method api-key, not the Coding Plan (use --region)")
        return login_coding_plan(app, region, base_url, model, key_stdin, store, verify, activate)
    if region:
        raise UsageError("--region applies to --method coding-plan")
    return login_api_key(app, provider, base_url, model, key_stdin, store, verify, activate)


def login_interactive(app, method: str | None = None) -> LoginResult:
    """The chooser (unless a method is given), then that method's login with prompts. Used by the first-run
    path and by chat's `/auth`."""
    if not app.interactive:
        raise _need_terminal("a login", "--method and its credentials to `qwen auth login`")
    return login(app, method=method)


# -- switching -----------------------------------------------------------------------------------------


def label(state) -> str:
    title = METHODS[state.method].title
    if state.method == "api-key":
        return f"{title} ({state.provider})"
    if state.method == "coding-plan" and state.region:
        return f"{title} ({state.region})"
    return title


def switch(app, method: str | None = None, provider: str | None = None):
    """Make another configured method active without re-entering anything. Returns its MethodState."""
    from qwen_cli.auth import manage
    from qwen_cli.auth.resolve import inventory

    if method is not None:
        check_method(method)
    if method is None and provider is not None:
        method = "api-key"
    _choice, states = inventory(app.settings)
    ready = [s for s in states if s.usable]
    if method is None:
        if not app.interactive:
            raise _need_terminal("which method to switch to", "METHOD (qwen-oauth, coding-plan or api-key)")
        if not ready:
            raise AuthError("nothing is configured to switch to", hint="Run `qwen auth login`.")
        options = [(s.id, label(s) + ("  (active)" if s.active else "")) for s in ready]
        current = next((s.id for s in ready if s.active), None)
        wanted = pick(app, "Switch to:", options, default=current)
        target = next(s for s in ready if s.id == wanted)
    else:
        candidates = [s for s in ready if s.method == method and (provider is None or s.provider == provider)]
        if method == "api-key" and provider is None and len(candidates) > 1:
            configured = app.settings.get("auth.provider")
            preferred = [s for s in candidates if s.provider == configured]
            if preferred:
                candidates = preferred
            elif app.interactive:
                wanted = pick(app, "Which provider?", [(s.id, label(s)) for s in candidates])
                candidates = [s for s in candidates if s.id == wanted]
            else:
                names = ", ".join(s.provider for s in candidates)
                raise UsageError(f"several api-key providers are configured ({names})", hint="Pass --provider ID.")
        if not candidates:
            broken = next((s for s in states if s.method == method and (provider is None or s.provider == provider)
                           and s.problem), None)
            reason = f": {broken.problem}" if broken else ""
            raise AuthError(
                f"{METHODS[method].title}{f' ({provider})' if provider else ''} has no usable credentials{reason}",
                hint=f"Log in first: {login_command(method, provider)}",
            )
        target = candidates[0]
    manage.activate(app.settings, target.method, target.provider, target.region)
    app.reload_settings()
    say(app, f"Switched to {label(target)}; model {target.model}.")
    env_method = app.env.get("QWEN_AUTH_METHOD")
    if env_method and env_method != target.method:
        app.warn(f"QWEN_AUTH_METHOD={env_method} is set and overrides this choice in this shell.")
    return target
