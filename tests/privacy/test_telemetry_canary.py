"""The canary run: plant every kind of secret a user has in real `qwen` runs with statistics on and an
endpoint set, then look for them in the spool and in every byte the collector received."""

from __future__ import annotations

import json
import socket
import uuid

import pytest

from tests.helpers import run_qwen
from tests.privacy.util import mark_notice_shown, queue, queued, qwen_home
from tests.servers.openai_stub import error, stream_reply

TAG = uuid.uuid4().hex[:10]
CANARIES = {
    "prompt": f"canaryprompt{TAG} what is the meaning of life",
    "answer": f"canaryanswer{TAG}",
    "key": f"sk-sp-canarykey{TAG}0123456789",
    "url": f"https://canaryhost{TAG}.example.com/private/path",
    "hostname": f"canaryhost{TAG}.example.com",
    "path": f"canarydir{TAG}",
    "file": f"canaryfilecontent{TAG}",
    "user": f"canaryuser{TAG}",
    "model": f"canarymodel{TAG}",
}


@pytest.fixture
def planted(isolated, collector, openai_server):
    """A Coding Plan login pointed at the loopback stub, in a directory and user account full of canaries."""
    openai_server.accept_tokens.add(CANARIES["key"])
    qwen_home().mkdir(parents=True, exist_ok=True)
    (qwen_home() / "credentials.toml").write_text(f'[coding-plan]\nbase_url = "{openai_server.url}"\n')
    work = isolated.work / CANARIES["path"] / CANARIES["user"]
    work.mkdir(parents=True)
    (work / "notes.txt").write_text(CANARIES["file"] + "\n")
    mark_notice_shown()
    env = {
        "QWEN_AUTH_METHOD": "coding-plan",
        "BAILIAN_CODING_PLAN_API_KEY": CANARIES["key"],
        "QWEN_TELEMETRY_ENDPOINT": collector.url,
        "USER": CANARIES["user"],
        "LOGNAME": CANARIES["user"],
        "QWEN_OAUTH_BASE_URL": CANARIES["url"],
    }
    return env, work


def assert_no_canary(text: str, where: str) -> None:
    for kind, canary in CANARIES.items():
        assert canary not in text, f"{kind} canary found in {where}"
        assert TAG not in text, f"a canary ({kind}?) found in {where}"
    host = socket.gethostname()
    if len(host) >= 8:
        assert host not in text, f"this machine's host name found in {where}"


def test_canary_run_leaves_nothing_in_the_spool_or_on_the_wire(planted, collector, openai_server):
    env, work = planted
    openai_server.script(
        stream_reply([CANARIES["answer"], " and more"], usage=(11, 4, 15)),
        error(400, {"error": {"message": f"bad model {CANARIES['model']} at {CANARIES['url']}"}}),
        error(401, {"error": {"message": f"Incorrect API key provided: {CANARIES['key']}"}}),
    )
    runs = [
        ["ask", "-f", str(work / "notes.txt"), CANARIES["prompt"] + " see " + CANARIES["url"]],
        ["ask", "-m", CANARIES["model"], CANARIES["prompt"]],
        ["ask", "-f", str(work / "missing" / CANARIES["path"]), CANARIES["prompt"]],
        ["config", "set", "network.proxy", CANARIES["url"]],
        ["config", "unset", "network.proxy"],
        ["config", "set", "general.model", CANARIES["key"]],
        ["config", "get", "general.model"],
        ["config", "unset", "general.model"],
        ["terms", "show", "--provider", CANARIES["hostname"]],
        ["ask", CANARIES["prompt"]],  # answered by the 401 that echoes the key
        [CANARIES["prompt"]],
    ]
    codes = []
    for args in runs:
        result = run_qwen(args, env=env, cwd=work)
        codes.append(result.exit_code)
        assert "Traceback" not in result.output
        if args[0] == "ask":  # `config set general.model KEY` echoes what the user typed, on purpose
            assert CANARIES["key"] not in result.output, f"the key was printed by {args}"
    assert codes[0] == 0, codes
    assert codes[1] != 0 and codes[2] != 0 and codes[-2] == 3 and codes[-1] == 2

    # The detached export after the first run; the rest goes with a flush.
    assert collector.wait_for(1)
    spool_text = queue().read_text() if queue().exists() else ""
    assert_no_canary(spool_text, "the spool")
    shown = run_qwen(["telemetry", "show"], env=env, cwd=work)
    assert_no_canary(shown.stdout + shown.stderr.replace(str(queue()), ""), "`qwen telemetry show`")
    pending = len(queued())
    flushed = run_qwen(["telemetry", "flush"], env=env, cwd=work)
    assert flushed.exit_code == 0 and f"Sent {pending} event(s)." in flushed.stdout

    received = collector.raw().decode("utf-8")
    assert_no_canary(received, "the bytes the collector received")
    records = collector.records()
    assert len(records) == len(runs)  # every run was recorded, and nothing else was
    attrs = [{a["key"]: next(iter(a["value"].values())) for a in r["attributes"]} for r in records]
    assert [a["command"] for a in attrs][:3] == ["ask", "ask", "ask"]
    assert attrs[0]["exit_code"] == "0" and attrs[0]["auth_method"] == "coding-plan"
    assert attrs[0]["model"] == "qwen3.5-plus" and attrs[1]["model"] == "other"
    assert attrs[1]["error_class"] == "RequestError" and attrs[2]["exit_code"] != "0"
    assert attrs[-1]["command"] == "unknown"
    # The request the stub saw did carry the prompt and key: the canaries were really in play.
    assert CANARIES["prompt"] in json.dumps(openai_server.chat_requests[0].json)


def test_crash_report_carries_class_and_package_frames_only(planted, collector, monkeypatch):
    """An internal error (exit 1) whose message and locals are full of canaries."""
    import qwen_cli.cli.config as config_module
    from tests.privacy.util import hooked

    env, work = planted

    def broken(value):
        secret = CANARIES["key"]  # noqa: F841 - a local that must stay local
        raise RuntimeError(f"{CANARIES['path']} {CANARIES['url']} {CANARIES['user']} {CANARIES['key']}")

    monkeypatch.setattr(config_module, "_display", broken)
    monkeypatch.chdir(work)
    result = hooked(["config", "get", "network.max_retries"], env=env)
    assert result.exit_code == 1 and "internal error (RuntimeError)" in result.stderr
    (crash,) = queued()
    assert crash["event"] == "crash" and crash["error_class"] == "RuntimeError" and crash["exit_code"] == 1
    assert "qwen_cli.cli.config:get" in " ".join(crash["crash_frames"])
    assert all(frame.startswith("qwen_cli.") for frame in crash["crash_frames"])
    assert_no_canary(queue().read_text(), "the spool")
    assert collector.wait_for(1)  # the detached sender the hook started
    assert run_qwen(["telemetry", "flush"], env=env, cwd=work).exit_code == 0
    assert_no_canary(collector.raw().decode(), "the bytes the collector received")
    (record,) = collector.records()
    assert record["severityText"] == "ERROR"
