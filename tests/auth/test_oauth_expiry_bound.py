"""The latest expiry a Qwen OAuth token file may give: the last millisecond of year 9999 is still a date."""

from __future__ import annotations

from qwen_cli.auth import token_store


def test_the_last_millisecond_of_year_9999_is_a_valid_expiry_and_the_next_is_not():
    data = {"access_token": "a", "refresh_token": "r", "token_type": "Bearer"}
    last = 253402300799999  # 9999-12-31T23:59:59.999Z
    assert token_store.parse_token({**data, "expiry_date": last}).expiry_date == last
    assert token_store.parse_token({**data, "expiry_date": last + 1}) is None
