"""The marker of a refresh token the server refused (invalid_grant): it names that token only, and a marker
that is missing, unreadable or garbled never marks a login as refused."""

from __future__ import annotations

from qwen_cli.auth import token_store


def _token(refresh: str) -> token_store.OAuthToken:
    return token_store.OAuthToken("access-x", refresh, "Bearer", None)


def test_the_marker_names_the_refused_token_and_no_other(isolated):
    home = isolated.qwen_home
    refused, fresh = _token("refresh-refused"), _token("refresh-fresh")
    assert not token_store.was_refused(home, refused)  # no marker yet
    token_store.mark_refused(home, refused)
    assert token_store.was_refused(home, refused)
    assert not token_store.was_refused(home, fresh)
    others = [_token(f"refresh-other-{n}") for n in range(8)]  # fingerprints on both sides of the refused one
    assert not any(token_store.was_refused(home, other) for other in others)
    token_store.forget_refusal(home)
    assert not token_store.was_refused(home, refused)


def test_an_unreadable_or_garbled_marker_marks_nothing(isolated):
    home = isolated.qwen_home
    token = _token("refresh-x")
    marker = token_store.refusal_path(home)
    marker.mkdir(parents=True)  # reading it fails with an OSError, as an unreadable file would
    assert not token_store.was_refused(home, token)
    marker.rmdir()
    marker.write_bytes(b"sha256:\xff\xfe")
    assert not token_store.was_refused(home, token)
