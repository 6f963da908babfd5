"""The method registry: no method id outside its own module, and a fourth method is one registration away
from the chooser, `auth status`, `terms show` and the telemetry policy."""

from __future__ import annotations

import io
import json
import tokenize
from pathlib import Path

import pytest

from qwen_cli.auth import methods
from qwen_cli.auth.methods.base import BaseMethod, Choice, LoginRequest, LoginResult, StatusEntry, entry_from
from qwen_cli.cli.main import run
from qwen_cli.context import AppContext
from tests.helpers import invoke

PACKAGE = Path(__file__).resolve().parents[2] / "qwen_cli"
IDS = ("qwen-oauth", "coding-plan", "api-key")
OWN = {
    "qwen-oauth": "auth/methods/qwen_oauth.py",
    "coding-plan": "auth/methods/coding_plan.py",
    "api-key": "auth/methods/api_key.py",
}


def method_id_literals() -> list[str]:
    """`file:line: 'id'` for every string literal (f-string parts too) that is exactly a method id, outside
    that method's own module. Prose that mentions an id (help text, docstrings) is not a literal id."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        for token in tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline):
            if token.type == tokenize.STRING:
                text = token.string.lstrip("rbuRBU")
                value = text[3:-3] if text[:3] in ('"""', "'''") else text[1:-1]
            elif token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                value = token.string
            else:
                continue
            if value in IDS and OWN[value] != where:
                found.append(f"{where}:{token.start[0]}: {value!r}")
    return found


def test_no_method_id_is_written_outside_its_own_module():
    assert method_id_literals() == []


def test_the_literal_check_sees_a_planted_id(tmp_path, monkeypatch):
    # Planted in a copy of the package: tests running at the same time (pytest-xdist) read the real one.
    import shutil
    import sys

    copy = tmp_path / "qwen_cli"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", copy)
    (copy / "zz_planted_for_test.py").write_text('METHOD = "coding-plan"\n')
    assert method_id_literals() == ["zz_planted_for_test.py:1: 'coding-plan'"]


# -- a throwaway fourth method ----------------------------------------------------------------------------

FOURTH = "test-token"
KEY_VAR = "TEST_TOKEN_KEY"


class TestToken(BaseMethod):
    id = FOURTH
    title = "Test Token"
    short_name = "test token"
    way = "a test token"
    blurb = "a token for the test server, from $TEST_TOKEN_KEY"
    statistics_may_apply = False
    env_rank = -1  # ahead of every built-in method when its variable is set
    own_provider = "test"

    def from_environment(self, settings):
        return Choice(FOURTH, None, f"env:{KEY_VAR}") if settings.getenv(KEY_VAR) else None

    def credentials(self, settings, choice, model, refresh=True):
        from qwen_cli.auth.credentials import Credentials
        from qwen_cli.errors import AuthError

        token = settings.getenv(KEY_VAR)
        if not token:
            raise AuthError("no test token", hint=f"Set {KEY_VAR}.")
        return Credentials(
            FOURTH,
            "test",
            "http://127.0.0.1:9/v1",
            model or "test-model",
            token=token,
            source=f"env:{KEY_VAR}",
            method_source=choice.reason,
        )

    def status(self, settings, choice):
        if not settings.getenv(KEY_VAR):
            return []
        creds = self.credentials(settings, Choice(FOURTH, None, ""), None)
        return [entry_from(creds, self, login_id=FOURTH)]

    def login(self, app, request):
        app.out.info("Logged in: Test Token.")
        return LoginResult(FOURTH, None, None, "test-model", None, "nothing stored")

    def terms_page(self, provider, region, strict):
        from qwen_cli.terms import Page

        return Page(
            method=FOURTH,
            title=self.title,
            how="you use a test token",
            provider="the test server",
            provider_id="test",
            region=None,
            local=True,
            applies="Nothing leaves the test.",
        )

    def terms_summary(self, provider, region):
        return "Terms: Test Token: the test server's, which has none."

    def overview_row(self):
        return {
            "method": FOURTH,
            "title": self.title,
            "provider": "the test server",
            "terms": "none",
            "privacy": "none",
        }


@pytest.fixture
def fourth():
    method = TestToken()
    unregister = methods.register(method)
    try:
        yield method
    finally:
        unregister()


class ScriptedPrompter:
    """Answers from a list; records every menu it was shown."""

    interactive = True

    def __init__(self, *answers):
        self.answers = list(answers)
        self.menus = []

    def choose(self, title, options, *, need, flag, default=None):
        self.menus.append((title, options))
        return self.answers.pop(0)

    def text(self, prompt, *, need, flag, problem=None):
        return self.answers.pop(0)

    def secret(self, prompt, *, need, flag):
        return self.answers.pop(0)

    def confirm(self, prompt, *, need, flag, default=False):
        return self.answers.pop(0)

    def say(self, text=""):
        pass


def _app(prompter, env=None):
    import os

    stdout, stderr = io.StringIO(), io.StringIO()
    return AppContext(
        stdin=io.StringIO(""),
        stdout=stdout,
        stderr=stderr,
        env=dict(os.environ, **(env or {})),
        cwd=Path.cwd(),
        prompter=prompter,
    )


def test_a_fourth_method_is_offered_by_the_chooser(isolated, fourth):
    prompter = ScriptedPrompter(FOURTH)
    app = _app(prompter)
    assert run(app, ["auth", "login"]) == 0
    [(title, options)] = prompter.menus
    assert [value for value, _ in options] == [*IDS, FOURTH]
    assert dict(options)[FOURTH].startswith("Test Token: a token for the test server")
    assert "Terms: Test Token: the test server's" in dict(options)[FOURTH]
    assert "Logged in: Test Token." in app.stderr.getvalue()


def test_a_fourth_method_appears_in_auth_status_terms_and_telemetry(isolated, fourth):
    env = {KEY_VAR: "tt-secret-0123456789"}
    status = invoke(["auth", "status", "--json"], env=env)
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert data["active"] == FOURTH
    [row] = data["methods"]
    assert row["key"] == "tt-…6789" and row["terms"] == "Terms: Test Token: the test server's, which has none."
    text = invoke(["auth", "status"], env=env)
    assert "* Test Token  (active)" in text.stdout and "tt-secret-0123456789" not in text.output

    terms = invoke(["terms", "show"], env=env)
    assert terms.exit_code == 0, terms.output
    assert "Test Token (your active method, from env:TEST_TOKEN_KEY): you use a test token." in terms.stdout
    assert "Overview of the four methods" in terms.stdout
    every = json.loads(invoke(["terms", "show", "--all", "--json"]).stdout)
    assert [p["method"] for p in every["pages"]] == [*IDS, FOURTH]
    assert invoke(["terms", "show", "--method", FOURTH]).exit_code == 0

    telemetry = json.loads(invoke(["telemetry", "status", "--json"], env=env).stdout)
    assert (telemetry["method"], telemetry["enabled"], telemetry["rule"]) == (FOURTH, False, 2)
    fourth.statistics_may_apply = True
    telemetry = json.loads(invoke(["telemetry", "status", "--json"], env=env).stdout)
    assert (telemetry["method"], telemetry["enabled"], telemetry["reason"]) == (FOURTH, True, "default_on")


def test_the_quota_hint_names_every_other_method(fourth):
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.providers.failures import quota_or_rate_error

    creds = Credentials("coding-plan", "coding-plan", "https://coding.dashscope.aliyuncs.com/v1", "m")
    error = quota_or_rate_error("quota exceeded for the 5 hour window", "", creds)
    assert "(Qwen OAuth, API key or test token)" in error.hint
    assert error.message.startswith("Coding Plan 5-hour limit reached")


def test_an_unknown_method_is_one_usage_error_naming_the_registered_ones(fourth):
    from qwen_cli.errors import UsageError

    with pytest.raises(UsageError) as info:
        methods.get("nope")
    assert info.value.hint == f"Use one of: qwen-oauth, coding-plan, api-key, {FOURTH}."


def test_scripted_prompter_drives_a_real_login(isolated, openai_server):
    """A login procedure asks only through the prompter: a scripted one answers the provider menu."""
    prompter = ScriptedPrompter("custom", openai_server.url, "sk-test-key")
    app = _app(prompter)
    app.stdin.isatty = lambda: True  # the hidden-key prompt is the prompter's; stdin is only read by --key-stdin
    assert run(app, ["auth", "login", "--method", "api-key", "--model", "test-model"]) == 0, app.stderr.getvalue()
    [(title, _options)] = prompter.menus
    assert title == "Which provider?"
    assert "Logged in: API Key (custom); model test-model" in app.stderr.getvalue()


def test_off_a_terminal_the_prompter_itself_refuses_to_ask(isolated):
    result = invoke(["auth", "login"])
    assert result.exit_code == 2
    assert "an auth method is needed and this is not a terminal" in result.stderr
    assert "--method qwen-oauth, --method coding-plan or --method api-key" in result.stderr


def test_status_entries_render_themselves():
    entry = StatusEntry(
        "api-key",
        "openrouter",
        title="API Key",
        login_id="api-key:openrouter",
        masked_key="sk-…abcd",
        source="env:OPENROUTER_API_KEY",
        usable=True,
        shows_provider=True,
        overridden="sk-…wxyz in credentials.toml, overridden by OPENROUTER_API_KEY",
    )
    assert entry.label() == "API Key (openrouter)" and entry.condition == "valid"
    rows = dict(entry.lines("environment variable OPENROUTER_API_KEY", 0.0, "Terms: x", None, lambda s: "now"))
    assert rows["key"] == "sk-…abcd from environment variable OPENROUTER_API_KEY"
    assert rows["stored"].endswith("overridden by OPENROUTER_API_KEY")
    assert rows["verified"].startswith("not yet")
    _ = LoginRequest  # the request type login procedures take
