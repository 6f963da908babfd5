"""`qwen usage` over crafted ledgers, with the ledger's clock set by QWEN_USAGE_NOW (its documented test seam):
--since, --by, --json, costs, and the Coding Plan windows across their boundaries."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_qwen
from tests.usage.helpers import MONDAY_UTC8, plan_env, record, write_records

HOUR = 3600
DAY = 86400
MILLIONS = {"input_tokens": 2_000_000, "output_tokens": 1_000_000}


def usage(*args, now: float, **env):
    result = run_qwen(["usage", *args], env={"QWEN_USAGE_NOW": str(now), **env})
    assert result.exit_code == 0, result.stderr
    return result


def usage_json(*args, now: float, **env) -> dict:
    return json.loads(usage("--json", *args, now=now, **env).stdout)


def windows(data: dict) -> dict[str, dict]:
    return {w["name"]: w for w in data["coding_plan"]["windows"]}


def test_since_keeps_only_the_records_of_the_span(isolated):
    now = MONDAY_UTC8 + 3 * DAY
    write_records(isolated.qwen_home, [record(now - 10 * DAY), record(now - 6 * DAY), record(now - HOUR)])
    assert usage_json("--since", "7d", now=now)["total"]["requests"] == 2
    assert usage_json("--since", "2h", now=now)["total"]["requests"] == 1
    assert usage_json("--since", "2w", now=now)["total"]["requests"] == 3


def test_a_bad_since_is_a_usage_error(isolated):
    result = run_qwen(["usage", "--since", "yesterday"])
    assert result.exit_code == 2 and "--since takes a span like 12h" in result.stderr


def test_by_model_provider_and_day(isolated):
    now = MONDAY_UTC8 + 3 * DAY
    write_records(
        isolated.qwen_home,
        [
            record(now - DAY, model="a"),
            record(now - HOUR, model="b", status="QuotaError", input_tokens=None, output_tokens=None),
            record(now - HOUR, method="api-key", provider="openai", model="b"),
        ],
    )
    by_model = {g["key"]: g for g in usage_json("--by", "model", now=now)["groups"]}
    assert by_model["a"]["requests"] == 1 and by_model["b"]["requests"] == 2 and by_model["b"]["failed"] == 1
    by_provider = {g["key"]: g["requests"] for g in usage_json("--by", "provider", now=now)["groups"]}
    assert by_provider == {"coding-plan (china)": 2, "openai": 1}
    by_day = {g["key"]: g["requests"] for g in usage_json("--by", "day", now=now)["groups"]}
    assert by_day == {"2026-12-01": 1, "2026-12-02": 2}
    text = usage("--by", "model", now=now).stdout
    assert "total" in text and "These figures count what this machine sent, not the provider's own meter." in text


def test_cost_only_where_the_catalogue_has_a_price(isolated):
    now = MONDAY_UTC8 + DAY
    write_records(
        isolated.qwen_home,
        [
            record(now - HOUR, method="api-key", provider="openai", model="gpt-4o-mini", **MILLIONS),
            record(now - HOUR, method="api-key", provider="openai", model="unpriced-model"),
        ],
    )
    data = usage_json(now=now)
    groups = {g["key"]: g for g in data["groups"]}
    assert groups["gpt-4o-mini"]["estimated_cost"] == {"USD": pytest.approx(0.30 + 0.60)}
    assert groups["unpriced-model"]["estimated_cost"] is None
    assert any("openai.com/api/pricing" in line and "checked 2026-12-01" in line for line in data["prices"])
    assert "No cost is shown where the catalogue has no price" in usage(now=now).stdout


def test_the_five_hour_window_rolls_and_its_oldest_request_leaves_on_time(isolated):
    sent = MONDAY_UTC8 + 2 * DAY
    write_records(isolated.qwen_home, [record(sent), record(sent + HOUR)])
    env = {"QWEN_CODING_PLAN_TIER": "lite"}
    inside = windows(usage_json(now=sent + 5 * HOUR - 1, **env))["5-hour"]
    assert (inside["requests"], inside["cap"]) == (2, 1200)
    assert inside["oldest_leaves_at"] == "2026-12-01T21:00:00Z"  # sent 16:00 UTC, + 5 hours
    after = windows(usage_json(now=sent + 5 * HOUR + 1, **env))["5-hour"]
    assert after["requests"] == 1 and after["oldest_leaves_at"] == "2026-12-01T22:00:00Z"


def test_the_weekly_window_resets_at_monday_midnight_utc8(isolated):
    write_records(isolated.qwen_home, [record(MONDAY_UTC8 - 60), record(MONDAY_UTC8 + 60)])
    env = {"QWEN_CODING_PLAN_TIER": "pro"}
    before = windows(usage_json(now=MONDAY_UTC8 - 1, **env))["weekly"]
    assert (before["requests"], before["cap"]) == (1, 45000)
    assert before["oldest_leaves_at"] == "2026-11-29T16:00:00Z"  # Monday 00:00 UTC+8
    after = windows(usage_json(now=MONDAY_UTC8 + 120, **env))
    assert after["weekly"]["requests"] == 1  # the Sunday request left with the reset
    assert after["monthly"]["requests"] == 2  # the monthly window is a rolling 30 days: both are in it


def test_only_answered_requests_count_against_the_caps(isolated):
    now = MONDAY_UTC8 + DAY
    write_records(
        isolated.qwen_home,
        [record(now - 60), record(now - 50, status="interrupted"), record(now - 40, status="QuotaError")],
    )
    data = usage_json(now=now, QWEN_CODING_PLAN_TIER="lite")
    assert windows(data)["5-hour"]["requests"] == 2
    assert data["total"]["requests"] == 3


def test_the_window_closest_to_its_cap_is_named(isolated):
    now = MONDAY_UTC8 + 6 * DAY  # late in the week: 8,900 of 9,000 weekly, 8,900 of 18,000 monthly
    write_records(isolated.qwen_home, [record(now - 2 * DAY + i) for i in range(8900)])
    text = usage(now=now, QWEN_CODING_PLAN_TIER="lite").stdout
    assert "closest to its cap: weekly" in text
    assert "8,900 of 9,000 (99%)" in text
    assert usage_json(now=now, QWEN_CODING_PLAN_TIER="lite")["coding_plan"]["closest"] == "weekly"


def test_without_a_tier_usage_says_how_to_set_it(isolated):
    now = MONDAY_UTC8 + DAY
    write_records(isolated.qwen_home, [record(now - 60)])
    text = usage(now=now).stdout
    assert "Coding Plan (tier not set)" in text
    assert "qwen config set coding_plan.tier lite (or pro)" in text
    assert usage_json(now=now)["coding_plan"]["windows"][0]["cap"] is None


def test_a_torn_or_foreign_line_is_skipped_not_shown(isolated):
    now = MONDAY_UTC8 + DAY
    write_records(isolated.qwen_home, [record(now - 60)])
    wrong_type = {**record(now - 30), "input_tokens": "sneaky"}
    with (isolated.qwen_home / "usage.jsonl").open("a") as fh:
        fh.write(f'{{"time": 1, "method": "x", "prompt": "sneaky"}}\n{json.dumps(wrong_type)}\n{{"time": 17960\n')
    data = usage_json(now=now)
    assert data["total"]["requests"] == 1 and "sneaky" not in json.dumps(data)


def test_auth_status_and_chat_stats_show_the_same_window_summary(openai_server, isolated):
    now = MONDAY_UTC8 + DAY
    write_records(isolated.qwen_home, [record(now - 60)])
    env = plan_env(openai_server, isolated.qwen_home, QWEN_USAGE_NOW=str(now))
    status = run_qwen(["auth", "status"], env=env)
    assert status.exit_code == 0, status.stderr
    summary = [line.strip() for line in status.stdout.splitlines() if "window" in line or "of 1,200" in line]
    assert summary and "5-hour   1 of 1,200 (0%)" in status.stdout
    chat = run_qwen(["chat"], input="/stats\n", env=env)
    assert chat.exit_code == 0, chat.stderr
    shown = [line.strip() for line in chat.stderr.splitlines()]
    for line in summary:
        assert line in shown
    assert "not the provider's own meter" in status.stdout
