"""The final check (this file sorts last): the canary key and OAuth tokens, used in every kind of run above,
appear in no captured stdout/stderr, no file left under any test's $QWEN_HOME/HOME/work (besides the two
secret stores), and no request the telemetry collector received."""

from __future__ import annotations

import time

import pytest

from tests.survival.registry import REGISTRY


def test_no_secret_leaked_anywhere(survival_collector, request):
    selected = [i for i in request.session.items if i.path.parent == request.path.parent and i is not request.node]
    # Under pytest-xdist the others must have run in this process, before this test (one group, file order).
    elsewhere = [i.nodeid for i in selected if i.nodeid not in REGISTRY.ran]
    assert not elsewhere, f"{len(elsewhere)} survival tests did not run before this one here: {elsewhere[:5]}"
    if not REGISTRY.captures:
        assert not selected, f"{len(selected)} survival tests were selected but captured nothing in this process"
        pytest.skip("run together with the rest of tests/survival (nothing was captured)")
    time.sleep(0.5)  # let detached exporters started by the last runs finish their request
    with survival_collector.lock:
        requests = list(survival_collector.requests)
    for i, req in enumerate(requests):
        REGISTRY.capture(f"telemetry request {i} ({req['path']})", repr(req["headers"]).encode() + b"\n" + req["body"])
    leaks = REGISTRY.leaks()
    REGISTRY.set("telemetry_requests_received", len(requests))
    REGISTRY.set("captures_scanned", len(REGISTRY.captures))
    REGISTRY.set("secrets_looked_for", 3 + len(REGISTRY.extra_secrets))
    REGISTRY.set("leaks", len(leaks))
    assert leaks == [], leaks[:20]
    assert REGISTRY.figures.get("crash_corrupt_files", 0) == 0
