"""The expiry a Qwen OAuth token file may give (Qwen Code's rule: a positive number): not zero, not negative,
and no later than the last millisecond of year 9999, which is still a date."""

from __future__ import annotations

from qwen_cli.auth import token_store


def test_the_last_millisecond_of_year_9999_is_a_valid_expiry_and_the_next_is_not():
    data = {"access_token": "a", "refresh_token": "r", "token_type": "Bearer"}
    last = 253402300799999  # 9999-12-31T23:59:59.999Z
    assert token_store.parse_token({**data, "expiry_date": last}).expiry_date == last
    assert token_store.parse_token({**data, "expiry_date": last + 1}) is None


def test_an_expiry_of_zero_or_below_is_not_valid():
    data = {"access_token": "a", "refresh_token": "r", "token_type": "Bearer"}
    assert token_store.parse_token({**data, "expiry_date": 1}) is not None
    assert token_store.parse_token({**data, "expiry_date": 0}) is None
    assert token_store.parse_token({**data, "expiry_date": -1}) is None
