"""API Key: your own key for any OpenAI-compatible provider in the catalogue, a custom endpoint, or a local
server (which needs none). Logins are per provider: `[api-key.<provider>]` in credentials.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.auth.methods.base import (
    STORED_SOURCES,
    BaseMethod,
    Choice,
    LoginRequest,
    LoginResult,
    StatusEntry,
    entry_from,
    env_secret,
    failed_entry,
    overridden_text,
    pick_model,
)
from qwen_cli.auth.profiles import current
from qwen_cli.errors import AuthError, ConfigError, UsageError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.auth.verify import Verification
    from qwen_cli.catalogue import Provider, Region
    from qwen_cli.context import AppContext
    from qwen_cli.settings import Settings
    from qwen_cli.terms import Page

ID = "api-key"
CUSTOM = "custom"
MODELS_SHOWN = 20
# The variables that select a provider with no login, in order; all of a row must be set. The OpenAI rows come
# first, then Gemini and Anthropic in Qwen Code's getAuthTypeFromEnv order (Qwen Code 0.24.4, facts section 2).
ENV_PROVIDERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("OPENAI_BASE_URL",), CUSTOM),
    (("OPENAI_API_KEY",), "openai"),
    (("GEMINI_API_KEY", "GEMINI_MODEL"), "gemini"),
    (("ANTHROPIC_API_KEY", "ANTHROPIC_MODEL", "ANTHROPIC_BASE_URL"), "anthropic"),
    (("DASHSCOPE_API_KEY",), "dashscope"),
)
# A native protocol's own variables: (base URL, model), beside its key variable.
PROTOCOL_ENV = {"anthropic": ("ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL"), "gemini": (None, "GEMINI_MODEL")}


def _env_provider(settings: Settings) -> tuple[str, str] | None:
    """The provider the environment names (ENV_PROVIDERS), and the source of the row's first variable.
    None in a named profile: it holds stored logins only."""
    if current(settings):
        return None
    for names, provider in ENV_PROVIDERS:
        if all(settings.getenv(var) for var in names):
            return provider, settings.env_source(names[0]) or names[0]
    return None


def env_names(prov: Provider, protocol: str) -> tuple[str | None, str | None]:
    """The (base URL, model) variables that apply to a provider: OPENAI_* for the OpenAI-keyed ones, the
    protocol's own beside its own key variable (ANTHROPIC_* for `anthropic`, not for `anthropic-openai`)."""
    if prov.key_env == "OPENAI_API_KEY" and protocol == "openai":
        return "OPENAI_BASE_URL", "OPENAI_MODEL"
    native = PROTOCOL_ENV.get(protocol)
    if native and prov.key_env == f"{protocol.upper()}_API_KEY":
        return native
    return None, None


def _stored(settings: Settings) -> list[str]:
    from qwen_cli.auth import keystore

    profile = current(settings)
    return [
        e.provider for e in keystore.entries(settings.home) if e.method == ID and e.provider and e.profile == profile
    ]


def _configured(settings: Settings) -> list[str]:
    """Stored logins, then providers whose key comes from a key_cmd in the user config."""
    from qwen_cli.auth import key_cmd

    stored = _stored(settings)
    if current(settings):
        return stored  # a key_cmd belongs to the default profile
    return stored + [p for p in key_cmd.providers(settings) if p not in stored]


class ApiKey(BaseMethod):
    id = ID
    title = "API Key"
    short_name = "API key"
    blurb = "your own key for OpenAI, OpenRouter, DashScope and others, or a local server"
    way = "an API key"
    takes_provider = True
    statistics_may_apply = False
    env_rank = 0

    def login_command(self, provider: str | None = None) -> str:
        return f"qwen auth login --method {ID}" + (f" --provider {provider}" if provider else "")

    def provider_for(self, settings: Settings, provider: str | None = None) -> str | None:
        """Explicit, else auth.provider, else what the environment names, else the first stored."""
        if provider:
            return provider
        configured: str | None = settings.get("auth.provider")
        if configured:
            return configured
        found = _env_provider(settings)
        if found:
            return found[0]
        stored = _configured(settings)
        return stored[0] if stored else None

    def from_environment(self, settings: Settings) -> Choice | None:
        found = _env_provider(settings)
        return Choice(ID, found[0], found[1]) if found else None

    def from_store(self, settings: Settings) -> Choice | None:
        configured = _configured(settings)
        if not configured:
            return None
        return Choice(ID, configured[0], "credentials.toml" if configured[0] in _stored(settings) else "key_cmd")

    def choice(self, settings: Settings, provider: str | None, reason: str) -> Choice:
        return Choice(ID, self.provider_for(settings, provider), reason)

    def stored_logins(self, settings: Settings) -> list[str | None]:
        return list(_stored(settings))

    # -- credentials ------------------------------------------------------------------------------------

    def credentials(self, settings: Settings, choice: Choice, model: str | None, refresh: bool = True) -> Credentials:
        from qwen_cli import catalogue, qwen_code_source
        from qwen_cli.auth import key_cmd, keystore

        if not choice.provider:
            raise AuthError(
                f"the {ID} method is selected but no provider is configured",
                hint=f"Run `{self.login_command()} --provider ID`.",
            )
        prov = catalogue.provider(choice.provider)
        profile = current(settings)
        entry = keystore.get(settings.home, ID, prov.id, profile)
        # Without a stored login, what Qwen Code's settings.json selects for this provider stands in for one
        # (in the default profile: a named profile holds stored logins only).
        qwen_code = qwen_code_source.login_for(settings, ID, prov.id) if entry is None and not profile else None
        data = entry.data if entry else qwen_code_source.login_data(qwen_code) if qwen_code else {}
        token, source = qwen_code_source.key_for(settings, qwen_code) if qwen_code else (None, "")
        if not token and prov.id == CUSTOM and not profile:
            token, source = qwen_code_source.custom_key(
                settings, settings.getenv("OPENAI_BASE_URL") or data.get("base_url")
            )
        own_key_var = qwen_code is not None and qwen_code.key_var and prov.id == CUSTOM
        if not token and prov.key_env and not profile and not own_key_var:
            token, source = env_secret(settings, prov.key_env)
        command = None if token or profile else key_cmd.command(settings, prov.id)
        if command:
            token, source = key_cmd.key(settings, prov.id, command), key_cmd.SOURCE
        if not token and entry is not None:
            token, source = keystore.secret_of(entry)
        if profile and entry is None:
            raise AuthError(
                f"no {prov.name} login in the profile {profile!r}",
                hint=f"Run `{self.login_command(prov.id)} --profile {profile}`.",
            )
        creds = self.build(settings, prov, data, token, source, model, choice.reason)
        creds.profile = profile
        if prov.regions and token and creds.base_url_source.startswith(("region ", "providers.")):
            creds.refresh = lambda: self._region_of_rejected_key(settings, prov, creds)
        if qwen_code:
            qwen_code_source.relabel(creds, qwen_code)
        return creds

    def _region_of_rejected_key(self, settings: Settings, prov: Provider, creds: Credentials) -> Credentials:
        from qwen_cli import catalogue
        from qwen_cli.auth.region_probe import after_rejection

        urls = {r.id: str(catalogue.provider_url(settings, prov, r)[0]) for r in prov.regions.values()}
        return after_rejection(
            settings, prov.name, creds, urls, lambda rid: f"{self.login_command(prov.id)} --region {rid}"
        )

    def build(
        self,
        settings: Settings,
        prov: Provider,
        data: dict[str, str],
        token: str | None,
        source: str,
        model: str | None,
        method_source: str = "",
    ) -> Credentials:
        """Credentials from a provider, a login's stored fields and a key (stored, from the environment, or
        a candidate that `login --verify` checks before saving it)."""
        from qwen_cli import catalogue
        from qwen_cli.auth import binding
        from qwen_cli.auth.credentials import Credentials
        from qwen_cli.providers.http import is_local_url

        protocol = data.get("protocol") or prov.protocol
        base_var, model_var = env_names(prov, protocol)
        env_base = settings.getenv(base_var) if base_var else None
        region = prov.region(data.get("region") or catalogue.configured_region(settings, prov))
        catalogue_base, catalogue_source = catalogue.provider_url(settings, prov, region)
        base: str | None
        if env_base and base_var:
            base, base_source = env_base, settings.env_source(base_var) or ""
        else:
            base = data.get("base_url") or catalogue_base
            base_source = "credentials.toml" if data.get("base_url") else catalogue_source
        if not base:
            raise ConfigError(
                f"the {prov.id} provider needs a base URL",
                hint=f"Run `{self.login_command(prov.id)} --base-url URL`, or set {base_var or 'OPENAI_BASE_URL'}.",
            )
        env_model = (settings.getenv(model_var), settings.env_source(model_var) or "") if model_var else (None, "")
        chosen, model_source = pick_model(settings, model, env_model, data.get("model"), prov.default_model)
        if not chosen:
            raise ConfigError(
                f"no model chosen for the {prov.id} provider",
                hint=f"Set {model_var or 'OPENAI_MODEL'}, pass --model, or run `qwen config set general.model MODEL`.",
            )
        if token:
            binding.check(
                settings,
                provider=prov.id,
                key_source=source,
                key_name=prov.key_env or "the key",
                url=base,
                url_source=base_source if base_source.startswith(("env:", ".env:")) else "",
                url_name=base_var or "OPENAI_BASE_URL",
                bound_to=(data.get("base_url"), catalogue_base),
            )
        local = prov.local or is_local_url(base)
        if not token and not local:
            env_hint = f" or set {prov.key_env}" if prov.key_env else ""
            raise AuthError(f"no API key for {prov.name}", hint=f"Run `{self.login_command(prov.id)}`{env_hint}.")
        return Credentials(
            method=ID,
            provider=prov.id,
            base_url=base.rstrip("/"),
            model=chosen,
            token=token or None,
            headers=catalogue.headers(prov.header_sets),
            source=source if token else "none (local server)",
            method_source=method_source,
            model_source=model_source,
            base_url_source=base_source,
            protocol=protocol,
            max_tokens=prov.max_tokens,
        )

    # -- status -----------------------------------------------------------------------------------------

    def status(self, settings: Settings, choice: Choice | None) -> list[StatusEntry]:
        providers = _configured(settings)
        found = _env_provider(settings)
        if found and found[0] not in providers:
            providers.append(found[0])
        if choice and choice.method == ID and choice.provider and choice.provider not in providers:
            providers.append(choice.provider)
        return [self._entry(settings, p) for p in providers]

    def _entry(self, settings: Settings, provider: str) -> StatusEntry:
        from qwen_cli import catalogue
        from qwen_cli.auth import keystore

        login_id = f"{ID}:{provider}"
        try:
            creds = self.credentials(settings, Choice(ID, provider, ""), None)
            entry = keystore.get(settings.home, ID, provider, current(settings))
            stored_secret = keystore.secret_of(entry)[0] if entry is not None else None
        except (AuthError, UsageError, ConfigError) as exc:
            return failed_entry(self, provider, login_id, exc)
        state = entry_from(
            creds,
            self,
            login_id=login_id,
            store=entry.store if entry is not None and creds.source in STORED_SOURCES else None,
        )
        if entry is not None:
            key_env = catalogue.provider(provider).key_env or "the environment"
            state.overridden = overridden_text(stored_secret, entry.store_name, creds, key_env)
        return state

    # -- login ------------------------------------------------------------------------------------------

    def login(self, app: AppContext, request: LoginRequest) -> LoginResult:
        from qwen_cli import catalogue
        from qwen_cli.auth import local_offer, login, manage
        from qwen_cli.providers.http import is_local_url

        provider, base_url, model = request.provider, request.base_url, request.model
        ask = app.prompter
        if provider is None and base_url is not None:
            provider = CUSTOM
        if provider is None:
            found = local_offer.find(app.settings) if ask.interactive else []
            options = local_offer.options(found) + [(p.id, f"{p.id}: {p.name}") for p in catalogue.providers().values()]
            provider = ask.choose(
                "Which provider?",
                options,
                need="a provider",
                flag="--provider ID (or --base-url URL for a custom endpoint)",
            )
            server = local_offer.picked(found, provider)
            if server is not None:
                request = local_offer.apply(app, server, request)
                provider, base_url, model = request.provider, request.base_url, request.model
        elif catalogue.provider(provider).local and base_url is None:
            server = next(iter(local_offer.find(app.settings, provider)), None)
            if server is not None:
                request = local_offer.apply(app, server, request)
                base_url, model = request.base_url, request.model
        assert provider is not None
        prov = catalogue.provider(provider)
        protocol = _login_protocol(prov, request.protocol)
        if request.region and not prov.regions:
            raise UsageError(
                f"--region does not apply to {prov.name}: it has one endpoint",
                hint="Regions: --method coding-plan, or a provider with regions ("
                + ", ".join(p.id for p in catalogue.providers().values() if p.regions)
                + ").",
            )
        region = self._login_region(app, prov, request.region, base_url)
        catalogue_base = catalogue.provider_url(app.settings, prov, region)[0]
        if prov.id == CUSTOM and not base_url:
            base_url = ask.text(
                "Base URL (OpenAI-compatible, e.g. https://host/v1): ",
                need="a base URL for the custom provider",
                flag="--base-url URL",
                problem=_base_url_problem,
            )
            if base_url is None:
                raise UsageError(
                    "the custom provider needs a base URL",
                    hint="Pass it with --base-url URL, e.g. --base-url http://127.0.0.1:8000/v1",
                )
        if base_url and not base_url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url must be an http(s) URL, got {base_url!r}")
        needs_model = not model and not prov.default_model
        # On a terminal, a provider's own list is offered even when the catalogue has a default (not for a
        # local server: its models are found with it, before the login).
        offers_models = not model and ask.interactive and not prov.local and prov.id != CUSTOM
        if needs_model and not ask.interactive:
            from qwen_cli.prompter import need_terminal

            raise need_terminal(f"a model for {prov.name}", "--model ID")
        store = login.store_choice(app, request.store)
        login.say_terms(app, ID, provider=prov.id, region=region.id if region else None)
        local = prov.local or is_local_url(base_url or catalogue_base)
        profile = current(app.settings)
        key: str | None
        source: str | None
        if request.browser:
            from qwen_cli.auth import openrouter_pkce

            key, source = openrouter_pkce.login_key(app, prov, request.no_browser), "browser"
        else:
            key, source = login.key_from(
                app,
                key_stdin=request.key_stdin,
                env_var=None if profile else prov.key_env,  # a named profile's key is stored, never the shell's
                prompt=f"{prov.name} API key (input hidden{', Enter for none' if local else ''}): ",
                optional=local,
            )
        if key:
            app.secrets.append(key)
        if needs_model or offers_models:  # after the key, so the server's own list can be offered
            model = _ask_model(app, prov, base_url or catalogue_base or "", key, protocol)
        from_env = login.from_env(source)
        verification = None
        if request.verify:
            verification, region = self._verify(app, prov, region, base_url, model, key, source or "", protocol)
            catalogue_base = catalogue.provider_url(app.settings, prov, region)[0]
        manage.store_api_key(
            settings=app.settings,
            provider=prov.id,
            key=None if from_env else key,
            base_url=base_url,
            model=model,
            store=store,
            region=region.id if region else None,
            protocol=protocol if prov.id == CUSTOM and protocol != "openai" else None,
            profile=profile,
        )
        if verification is not None:
            from qwen_cli.auth import methods, verify

            verify.record(app.settings.home, methods.login_id(ID, prov.id, profile), verification)
        result = LoginResult(
            ID,
            prov.id,
            region.id if region else None,
            model or prov.default_model,
            base_url or catalogue_base,
            login.stored_text(source if from_env else None, store, key),
            verification,
        )
        return login.finish(app, result, self.title, request.activate)

    def _verify(
        self,
        app: AppContext,
        prov: Provider,
        region: Region | None,
        base_url: str | None,
        model: str | None,
        key: str | None,
        source: str,
        protocol: str | None = None,
    ) -> tuple[Verification, Region | None]:
        """`--verify` before saving; a key the region rejects is looked for in the provider's other regions."""
        from qwen_cli.auth import login
        from qwen_cli.auth.region_probe import verify_finding_region

        if region is None or base_url:
            candidate = self._candidate(app.settings, prov, region, base_url, model, key, source, protocol)
            return login.verify_before_saving(app, candidate), region
        verification, found = verify_finding_region(
            app,
            prov.name,
            region.id,
            prov.regions,
            lambda rid: self._candidate(app.settings, prov, prov.region(rid), None, model, key, source, protocol),
            lambda rid: f"{self.login_command(prov.id)} --region {rid} --verify",
        )
        return verification, prov.region(found)

    def _candidate(
        self,
        settings: Settings,
        prov: Provider,
        region: Region | None,
        base_url: str | None,
        model: str | None,
        key: str | None,
        source: str,
        protocol: str | None = None,
    ) -> Credentials:
        return self.build(
            settings,
            prov,
            {
                "base_url": base_url or "",
                "model": model or "",
                "region": region.id if region else "",
                "protocol": protocol or "",
            },
            key,
            source,
            None,
        )

    def _login_region(self, app: AppContext, prov: Provider, given: str | None, base_url: str | None) -> Region | None:
        """The region named by --region, else (on a terminal, for a provider with several) the one chosen,
        else the provider's default."""
        if given or not prov.regions or base_url or len(prov.regions) < 2 or not app.prompter.interactive:
            return prov.region(given)
        options = [(r.id, f"{r.id}: {r.label or r.id}") for r in prov.regions.values()]
        chosen = app.prompter.choose(
            f"Which {prov.name} region is your key from?",
            options,
            need=f"the {prov.name} region",
            flag="--region REGION",
        )
        return prov.region(chosen)

    # -- the rest ---------------------------------------------------------------------------------------

    def models(self, provider: str | None) -> list[str]:
        from qwen_cli import catalogue

        entry = catalogue.providers().get(provider or "")
        if entry is None:
            return []
        listed = list(entry.models)
        if entry.default_model and entry.default_model not in listed:
            listed.insert(0, entry.default_model)
        return listed

    def env_keys(self, settings: Settings) -> list[str]:
        return ["OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY", "DASHSCOPE_API_KEY"]

    def terms_page(self, provider: str | None, region: str | None, strict: bool) -> Page:
        from qwen_cli import terms

        return terms.provider_page(ID, provider, region, strict)

    def terms_summary(self, provider: str | None, region: str | None) -> str:
        from qwen_cli import terms

        return terms.provider_summary(ID, provider, region)


def _base_url_problem(answer: str) -> str | None:
    if not answer:
        return "A base URL is needed: the address of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1."
    if not answer.startswith(("http://", "https://")):
        return f"{answer!r} is not an http(s) URL; it looks like https://host/v1."
    return None


def _login_protocol(prov: Provider, given: str | None) -> str:
    """The protocol a login speaks: --protocol for the custom provider, else the catalogue's."""
    if given and prov.id != CUSTOM and given != prov.protocol:
        raise UsageError(
            f"--protocol does not apply to {prov.name}: it speaks {prov.protocol}",
            hint="--protocol is for --provider custom (a gateway or local server).",
        )
    return given or prov.protocol


def _ask_model(app: AppContext, prov: Provider, base_url: str, key: str | None, protocol: str = "openai") -> str:
    """The model, picked from the server's GET /models when it answers, else from the catalogue's list, else
    typed; a number or an id. The catalogue's default is marked and Enter takes it. Asked again when the
    answer is empty (without a default) or not offered."""
    from qwen_cli import catalogue
    from qwen_cli.auth import models as listing
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.errors import QwenError

    ask = app.prompter
    default = prov.default_model
    catalogued = list(dict.fromkeys([m for m in (default, *prov.models) if m]))
    where = f"at {base_url}"
    try:
        offered = listing.offered(
            app.settings,
            Credentials(
                ID, prov.id, base_url, "", token=key, headers=catalogue.headers(prov.header_sets), protocol=protocol
            ),
        )
    except QwenError as error:
        ask.say(
            f"Could not list the models at {base_url} ({error.message}); "
            + ("these are the catalogue's." if catalogued else "type the model's id.")
        )
        offered, where = catalogued, "in the catalogue"
    shown = offered[:MODELS_SHOWN]
    if shown:
        app.out.info(f"Models {where}:")
        width = len(str(len(shown)))
        for i, name in enumerate(shown, 1):
            app.out.info(f"  {str(i).rjust(width)}. {name}" + ("  (default)" if name == default else ""))
        if len(offered) > len(shown):
            app.out.info(f"  ... and {len(offered) - len(shown)} more: type the id of any of them.")

    def problem(answer: str) -> str | None:
        if not answer:
            if default:
                return None
            return "A model is needed for this provider: " + (
                "type a number from the list, or a model id." if shown else "type the id the server serves."
            )
        if (
            where != "in the catalogue"
            and offered
            and answer not in offered
            and not (answer.isdigit() and 1 <= int(answer) <= len(shown))
        ):
            return listing.not_offered(answer, offered, base_url) + "."
        return None

    choices = f"1-{len(shown)} or an id" if shown else "an id"
    prompt = (
        f"Model ({choices}, Enter for {default}): " if default else (f"Model ({choices}): " if shown else "Model id: ")
    )
    answer = ask.text(prompt, need=f"a model for {prov.name}", flag="--model ID", problem=problem)
    if answer is None:
        raise UsageError("a model is needed for this provider", hint="Pass it with --model ID.")
    if not answer and default:
        return default
    return (
        shown[int(answer) - 1] if answer not in offered and answer.isdigit() and int(answer) <= len(shown) else answer
    )


METHOD = ApiKey()
