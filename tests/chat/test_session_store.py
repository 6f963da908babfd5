import json
import stat

from qwen_cli.chat.session_store import SessionStore, first_words, read, recorded_auth, replay


def _store(isolated):
    return SessionStore(isolated.qwen_home)


def test_file_appears_on_first_append_private_with_meta_first(isolated):
    store = _store(isolated)
    session = store.create("api-key", "custom", "test-model")
    assert not session.path.exists()
    session.append({"type": "message", "role": "user", "content": "hi"})
    session.close()
    assert stat.S_IMODE(session.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(session.path.parent.stat().st_mode) == 0o700
    lines = [json.loads(line) for line in session.path.read_text().splitlines()]
    assert lines[0]["type"] == "meta" and lines[0]["model"] == "test-model" and lines[0]["id"] == session.id
    assert lines[1] == {"type": "message", "role": "user", "content": "hi"}


def test_each_line_is_on_disk_as_soon_as_it_is_appended(isolated):
    session = _store(isolated).create("api-key", "custom", "m")
    session.append({"type": "message", "role": "user", "content": "one"})
    # Read while the writer still holds the file open: nothing is buffered.
    assert "one" in session.path.read_text()
    session.append({"type": "message", "role": "assistant", "content": "two"})
    assert session.path.read_text().count("\n") == 3
    session.close()


def test_reopen_appends_without_a_second_meta_line(isolated):
    store = _store(isolated)
    first = store.create("api-key", "custom", "m")
    first.append({"type": "message", "role": "user", "content": "a"})
    first.close()
    again = store.reopen(first.id)
    again.append({"type": "message", "role": "assistant", "content": "b"})
    again.close()
    loaded = store.load(first.id)
    assert [r["content"] for r in loaded.records] == ["a", "b"]
    assert first.path.read_text().count('"meta"') == 1


def test_corrupt_lines_are_skipped_with_a_warning(isolated):
    store = _store(isolated)
    session = store.create("api-key", "custom", "m")
    session.append({"type": "message", "role": "user", "content": "kept"})
    session.close()
    with open(session.path, "ab") as fh:
        fh.write(b'{"type": "message", "role": "assist\n[1, 2]\n\xff\xfe\n')
        fh.write(b'{"type": "message", "role": "assistant", "content": "also kept"}\n{"trunc')
    loaded = read(session.path)
    assert [m["content"] for m in replay(loaded.records)] == ["kept", "also kept"]
    assert len(loaded.warnings) == 4
    assert all("skipped a corrupt session line" in w for w in loaded.warnings)


def test_replay_drops_a_question_that_failed_and_keeps_cut_answers():
    records = [
        {"type": "message", "role": "user", "content": "q1"},
        {"type": "message", "role": "assistant", "content": "par", "cut": True},
        {"type": "message", "role": "user", "content": "q2"},
        {"type": "failed"},
        {"type": "system", "content": "be brief"},
    ]
    messages = replay(records)
    assert [m["content"] for m in messages] == ["q1", "par"]
    assert messages[1]["cut"] is True


def test_summaries_newest_first_with_first_words_and_turns(isolated):
    store = _store(isolated)
    clock = iter([1_000_000.0, 2_000_000.0])
    store.clock = lambda: next(clock)
    old = store.create("api-key", "custom", "m")
    old.append({"type": "message", "role": "user", "content": "old question"})
    old.close()
    new = store.create("api-key", "custom", "m")
    for text in ("first   words\nof the newest session", "second"):
        new.append({"type": "message", "role": "user", "content": text})
        new.append({"type": "message", "role": "assistant", "content": "ok"})
    new.close()
    summaries = store.summaries()
    assert [s.id for s in summaries] == [new.id, old.id]
    assert summaries[0].first_words == "first words of the newest session"
    assert summaries[0].turns == 2 and summaries[1].turns == 1
    assert store.newest_id() == new.id
    assert summaries[1].as_dict()["created"].startswith("1970-01-1")


def test_unknown_or_unsafe_ids_are_usage_errors(isolated):
    import pytest

    from qwen_cli.errors import UsageError

    store = _store(isolated)
    with pytest.raises(UsageError, match="no session"):
        store.load("20990101-000000-abcdef")
    with pytest.raises(UsageError, match="not a session id"):
        store.load("../../etc/passwd")


def test_first_words_flattens_and_shortens():
    assert first_words("a\n\tb") == "a b"
    assert first_words("x" * 100, limit=10) == "x" * 9 + "…"


def test_recorded_auth_is_the_meta_then_the_last_switch_and_model(isolated):
    store = _store(isolated)
    session = store.create("api-key", "custom", "m1")
    assert session.update_meta(model="m2") is True  # nothing written yet: the meta line changes
    session.append({"type": "message", "role": "user", "content": "hi"})
    assert session.update_meta(model="m3") is False  # on disk now
    session.close()
    assert recorded_auth(read(session.path)) == {"method": "api-key", "provider": "custom", "model": "m2"}
    session = store.reopen(session.id)
    session.append({"type": "auth", "method": "coding-plan", "provider": "coding-plan", "model": "qwen3"})
    session.append({"type": "model", "model": "qwen3-max"})
    session.append({"type": "auth", "method": 7})  # not a method: ignored
    session.close()
    assert recorded_auth(read(session.path)) == {
        "method": "coding-plan",
        "provider": "coding-plan",
        "model": "qwen3-max",
    }


def test_recorded_auth_of_a_file_without_meta_is_empty(isolated):
    path = isolated.qwen_home / "sessions" / "old.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"type": "message", "role": "user", "content": "hi"}\n')
    assert recorded_auth(read(path)) == {"method": None, "provider": None, "model": None}
