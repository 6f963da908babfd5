"""mask() and redact(): the only form in which a key may reach output, and what counts as one."""

from __future__ import annotations

import pytest

from qwen_cli import secrets


@pytest.fixture(autouse=True)
def no_registered(monkeypatch):
    monkeypatch.setattr(secrets, "_registered", set())


@pytest.mark.parametrize(
    "secret, shown",
    [
        (None, ""),
        ("", ""),
        ("short", "…****"),
        ("sk-12345678", "…****"),  # 11 characters: too short to show any of it
        ("sk-123456789", "sk-…6789"),  # 12: the first three and the last four
        ("abcdefghijklmnop", "abc…mnop"),
        ("ключ-1234567890", "…7890"),  # a prefix that isn't ASCII is left out
        ("abé-1234567890", "…7890"),
        ("abcé-1234567890", "abc…7890"),  # only the three characters shown have to be ASCII
    ],
)
def test_mask(secret, shown):
    assert secrets.mask(secret) == shown


def test_redact_hides_the_given_secrets_and_ignores_tiny_ones():
    text = "token tok-CANARY-1234abcd and short abc123x and abc12"
    assert secrets.redact(text, ["tok-CANARY-1234abcd", "abc12", "", "abc123x"]) == (
        "token tok…abcd and short …**** and abc12"
    )


def test_a_secret_of_exactly_six_characters_counts():
    assert secrets.redact("pin 123456 set", ["123456"]) == "pin …**** set"
    assert secrets.redact("pin 12345 set", ["12345"]) == "pin 12345 set"


def test_the_longest_secret_is_hidden_whole_when_one_contains_another():
    inner, outer = "CANARY-inner", "prefix-CANARY-inner-suffix"
    assert secrets.redact(f"a {outer} b {inner}", [inner, outer]) == "a pre…ffix b CAN…nner"


def test_registered_secrets_are_redacted_without_being_passed():
    secrets.register("qat-CANARY-access-9e8d", None, "tiny1", 123, "code42")
    assert secrets._registered == {"qat-CANARY-access-9e8d", "code42"}
    assert secrets.redact("got qat-CANARY-access-9e8d back") == "got qat…9e8d back"
    assert secrets.redact("device code42") == "device …****"


def test_a_secret_both_registered_and_passed_is_still_redacted():
    secrets.register("qat-CANARY-both-1234")
    assert secrets.redact("x qat-CANARY-both-1234 y", ["qat-CANARY-both-1234"]) == "x qat…1234 y"


def test_bearer_tokens_and_sk_keys_are_hidden_even_when_unknown():
    assert secrets.redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abcdef") == "Authorization: Bearer eyJ…cdef"
    assert secrets.redact("{'authorization': 'bearer tokentokentoken'}") == "{'authorization': 'bearer tok…oken'}"
    assert secrets.redact("key sk-live_ABCDEF-1234 used") == "key sk-…1234 used"
    assert secrets.redact("sk-abcde is too short to look like a key") == "sk-abcde is too short to look like a key"
    assert secrets.redact("task-abcdefgh is a word") == "task-abcdefgh is a word"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("http://alice:s3cret@proxy:8080", "http://alice:…@proxy:8080"),
        ("via socks5h://bob:p%40ss@10.0.0.1:1080 now", "via socks5h://bob:…@10.0.0.1:1080 now"),
        ("https://:tok@host/x", "https://:…@host/x"),
        ("http://alice@proxy:8080 has no password", "http://alice@proxy:8080 has no password"),
        ("not a url: a:b@c", "not a url: a:b@c"),
    ],
)
def test_passwords_in_urls_are_hidden(text, shown):
    assert secrets.hide_url_password(text) == shown
    assert secrets.redact(text) == shown


def test_json_results_are_redacted_too_at_any_depth():
    """`app.out.json` is how every `--json` result is printed: a secret a server echoed back, nested in a
    list in an object, never reaches stdout (qwen batch relies on it for the provider's batch objects)."""
    import io

    from qwen_cli.context import AppContext

    app = AppContext(stdout=io.StringIO())
    app.secrets.append("gm-CANARY-json-0123456789abcdef")
    app.out.json({"errors": {"data": [{"message": "bad key gm-CANARY-json-0123456789abcdef"}]}, "n": 3})
    printed = app.stdout.getvalue()
    assert "CANARY" not in printed and '"n": 3' in printed
