"""Alibaba Cloud Coding Plan: a subscription key (sk-sp-...) for the china or global region's endpoint.
One stored login, `[coding-plan]` in credentials.toml; BAILIAN_CODING_PLAN_API_KEY in the environment wins."""

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
    from qwen_cli.auth import keystore
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.auth.verify import Verification
    from qwen_cli.catalogue import Region
    from qwen_cli.context import AppContext
    from qwen_cli.errors import QuotaError
    from qwen_cli.settings import Settings
    from qwen_cli.terms import Page

ID = "coding-plan"
ENV = "BAILIAN_CODING_PLAN_API_KEY"
DEFAULT_REGION = "china"


def region_of(settings: Settings, entry: keystore.Entry | None = None, fallback: str | None = None) -> Region:
    from qwen_cli import catalogue

    name = settings.get("auth.region") or (entry.data.get("region") if entry else None) or fallback or DEFAULT_REGION
    return catalogue.region(str(name))


class CodingPlan(BaseMethod):
    id = ID
    title = "Alibaba Cloud Coding Plan"
    short_name = "Coding Plan"
    blurb = "a Coding Plan key (sk-sp-...) from Alibaba Cloud Bailian"
    way = "an Alibaba Cloud Coding Plan key"
    takes_region = True
    own_provider: str | None = ID
    statistics_may_apply = True
    env_rank = 1

    def login_command(self, provider: str | None = None) -> str:
        return f"qwen auth login --method {ID} --region china|global"

    def from_environment(self, settings: Settings) -> Choice | None:
        return Choice(ID, None, settings.env_source(ENV) or ENV) if self._env_key(settings) else None

    def _env_key(self, settings: Settings) -> bool:
        """BAILIAN_CODING_PLAN_API_KEY is set (and counts: a named profile holds stored logins only)."""
        return bool(settings.getenv(ENV)) and not current(settings)

    def from_store(self, settings: Settings) -> Choice | None:
        return Choice(ID, None, "credentials.toml") if self._entry(settings) is not None else None

    def stored_logins(self, settings: Settings) -> list[str | None]:
        return [None] if self._entry(settings) is not None else []

    def _entry(self, settings: Settings) -> keystore.Entry | None:
        from qwen_cli.auth import keystore

        return keystore.get(settings.home, ID, profile=current(settings))

    def credentials(self, settings: Settings, choice: Choice, model: str | None, refresh: bool = True) -> Credentials:
        from qwen_cli import qwen_code_source
        from qwen_cli.auth import keystore

        entry = self._entry(settings)
        # Without a stored login, what Qwen Code's settings.json selects stands in for one (default profile only).
        qwen_code = qwen_code_source.login_for(settings, ID, None) if entry is None and not current(settings) else None
        data = entry.data if entry else qwen_code_source.login_data(qwen_code) if qwen_code else {}
        token, source = qwen_code_source.key_for(settings, qwen_code) if qwen_code else (None, "")
        if not token and self._env_key(settings):
            token, source = env_secret(settings, ENV)
        if not token and entry is not None:
            token, source = keystore.secret_of(entry)
        if not token:
            profile = current(settings)
            if profile:
                raise AuthError(
                    f"no Coding Plan login in the profile {profile!r}",
                    hint=f"Run `{self.login_command()} --profile {profile}`.",
                )
            raise AuthError("no Alibaba Cloud Coding Plan key", hint=f"Run `{self.login_command()}`, or set {ENV}.")
        region = region_of(settings, entry, data.get("region"))
        creds = self.build(settings, data, region, token, source, model, choice.reason)
        if not creds.base_url_source.startswith("credentials.toml"):  # a --base-url login is not region-bound
            creds.refresh = lambda: self._region_of_rejected_key(settings, creds)
        creds.profile = current(settings)
        if qwen_code:
            qwen_code_source.relabel(creds, qwen_code)
        return creds

    def _region_of_rejected_key(self, settings: Settings, creds: Credentials) -> Credentials:
        from qwen_cli import catalogue
        from qwen_cli.auth.region_probe import after_rejection

        urls = {
            rid: str((catalogue.url_override(settings, (ID,), rid) or (reg.base_url, ""))[0])
            for rid, reg in catalogue.regions().items()
        }
        return after_rejection(
            settings, "The Coding Plan", creds, urls, lambda rid: f"qwen auth login --method {ID} --region {rid}"
        )

    def build(
        self,
        settings: Settings,
        data: dict[str, str],
        region: Region,
        token: str,
        source: str,
        model: str | None,
        method_source: str = "",
    ) -> Credentials:
        from qwen_cli import catalogue
        from qwen_cli.auth.credentials import Credentials

        stored_region = data.get("region")
        own_base = data.get("base_url") if data.get("base_url") and stored_region in (None, region.id) else None
        chosen, model_source = pick_model(
            settings, model, (None, ""), data.get("model"), catalogue.coding_plan()["models"][0]
        )
        base, base_source = catalogue.url_override(settings, (ID,), region.id) or (
            region.base_url,
            f"region {region.id}",
        )
        return Credentials(
            method=ID,
            provider=ID,
            base_url=str(own_base or base).rstrip("/"),
            model=chosen or "",
            token=token,
            headers=self.headers(),
            source=source,
            method_source=method_source,
            model_source=model_source,
            base_url_source="credentials.toml" if own_base else base_source,
        )

    def headers(self) -> dict[str, str]:
        from qwen_cli import catalogue

        return catalogue.headers(catalogue.coding_plan().get("headers", ()))

    def status(self, settings: Settings, choice: Choice | None) -> list[StatusEntry]:
        from qwen_cli.auth import keystore

        entry = self._entry(settings)
        if entry is None and not self._env_key(settings):
            return []
        try:
            creds = self.credentials(settings, Choice(ID, None, ""), None)
            region = region_of(settings, entry).id
            stored_secret = keystore.secret_of(entry)[0] if entry is not None else None
        except (AuthError, UsageError, ConfigError) as exc:
            return [failed_entry(self, ID, ID, exc)]
        state = entry_from(
            creds,
            self,
            login_id=ID,
            region=region,
            store=entry.store if entry is not None and creds.source in STORED_SOURCES else None,
        )
        if entry is not None:
            state.overridden = overridden_text(stored_secret, entry.store_name, creds, ENV)
        return [state]

    def login(self, app: AppContext, request: LoginRequest) -> LoginResult:
        from qwen_cli import catalogue
        from qwen_cli.auth import login, manage, verify

        if request.provider:
            raise UsageError("--provider applies to --method api-key, not the Coding Plan (use --region)")
        settings = app.settings
        region = request.region or settings.get("auth.region")
        if region is None and request.base_url is None:
            options = [(r.id, f"{r.id}: {r.site}, keys from {r.console}") for r in catalogue.regions().values()]
            region = app.prompter.choose(
                "Which Alibaba Cloud site is your Coding Plan from?",
                options,
                need="the Coding Plan region",
                flag="--region china or --region global",
            )
        reg = catalogue.region(region or DEFAULT_REGION)
        store = login.store_choice(app, request.store)
        login.say_terms(app, ID, region=reg.id)
        profile = current(settings)
        key, source = login.key_from(
            app,
            key_stdin=request.key_stdin,
            env_var=None if profile else ENV,  # a named profile's key is stored, never the shell's
            prompt=f"Coding Plan API key (from {reg.console}, input hidden): ",
        )
        assert key is not None  # not optional: key_from asked until it had one, or raised
        app.secrets.append(key)
        warning = manage.key_prefix_warning(key)
        if warning:
            app.out.warn(warning)
        plan = catalogue.coding_plan()
        model = request.model
        if model and model not in plan["models"]:
            app.out.warn(f"{model!r} is not in the Coding Plan's model list ({', '.join(plan['models'])}).")
        verification = None
        if request.verify:
            verification, reg = self._verify(app, reg, request.base_url, model, key, source or "")
        from_env = login.from_env(source)
        ask_tier(app)
        manage.store_coding_plan(settings, None if from_env else key, reg.id, request.base_url, model, store, profile)
        if verification is not None:
            from qwen_cli.auth import methods

            verify.record(settings.home, methods.login_id(ID, None, profile), verification)
        result = LoginResult(
            ID,
            None,
            reg.id,
            model or plan["models"][0],
            request.base_url or reg.base_url,
            login.stored_text(source if from_env else None, store, key),
            verification,
        )
        return login.finish(app, result, self.title, request.activate)

    def logout(self, settings: Settings, provider: str | None) -> bool:
        from qwen_cli.auth import keystore

        profile = current(settings)
        removed = keystore.remove(settings.home, ID, profile=profile)
        if removed and not profile and settings.user_file.exists():
            from qwen_cli.settings import write_value

            write_value(settings.user_file, "auth.region", None)  # written by the Coding Plan login
        return removed

    def models(self, provider: str | None) -> list[str]:
        from qwen_cli import catalogue

        return list(catalogue.coding_plan()["models"])

    def env_keys(self, settings: Settings) -> list[str]:
        return [ENV]

    def quota_error(self, message: str, host: str, hint: str) -> QuotaError:
        from qwen_cli.errors import QuotaError
        from qwen_cli.providers.failures import plan_window

        window = plan_window(message)
        what = f"Coding Plan {window} limit reached" if window else "Coding Plan quota exhausted"
        return QuotaError(f"{what}: {message}", hint=hint)

    def _verify(
        self, app: AppContext, reg: Region, base_url: str | None, model: str | None, key: str, source: str
    ) -> tuple[Verification, Region]:
        """`--verify` before saving; a key from the other site's console is found there (unless --base-url)."""
        from qwen_cli import catalogue
        from qwen_cli.auth import login
        from qwen_cli.auth.region_probe import verify_finding_region

        def candidate(region_id: str) -> Credentials:
            data = {"region": region_id, "base_url": base_url or "", "model": model or ""}
            return self.build(app.settings, data, catalogue.region(region_id), key, source, None)

        if base_url:
            return login.verify_before_saving(app, candidate(reg.id), region=reg.id), reg
        verification, found = verify_finding_region(
            app,
            "The Coding Plan",
            reg.id,
            catalogue.regions(),
            candidate,
            lambda rid: f"qwen auth login --method {ID} --region {rid} --verify",
        )
        return verification, catalogue.region(found)

    def terms_page(self, provider: str | None, region: str | None, strict: bool) -> Page:
        from qwen_cli import terms

        return terms.region_page(ID, region, strict)

    def terms_summary(self, provider: str | None, region: str | None) -> str:
        from qwen_cli import terms

        return terms.region_summary(ID, region)

    def status_region(self, settings: Settings) -> str | None:
        """The stored login's region (None when it has none: the terms then list both)."""
        entry = self._entry(settings)
        region = entry.data.get("region") if entry else None
        return region if isinstance(region, str) else None


def ask_tier(app: AppContext) -> None:
    """Which plan the person has, for `qwen usage`'s caps: asked once, on a terminal, while `coding_plan.tier`
    is unset. Off a terminal it stays unset (`qwen usage` says how to set it)."""
    settings = app.settings
    if settings.get("coding_plan.tier") or not app.prompter.interactive:
        return
    options = [("lite", "Lite"), ("pro", "Pro"), ("skip", "Not now (qwen config set coding_plan.tier lite|pro later)")]
    tier = app.prompter.choose(
        "Which Coding Plan do you have? (for `qwen usage`: this machine's requests against the plan's caps)",
        options,
        need="the Coding Plan tier",
        flag="qwen config set coding_plan.tier lite|pro",
    )
    if tier in ("lite", "pro"):
        from qwen_cli.settings import write_value

        write_value(settings.user_file, "coding_plan.tier", tier)


METHOD = CodingPlan()
