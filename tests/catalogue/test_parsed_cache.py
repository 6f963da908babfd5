"""The parsed form of a data file kept beside it (catalogue.load): never stale, never required."""

from __future__ import annotations

import marshal
import os
import sys

import pytest

from qwen_cli import catalogue


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(catalogue, "DATA_DIR", tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    return tmp_path


def load(name: str) -> dict:
    return catalogue.load.__wrapped__(name)  # past functools.cache: each call reads the files again


def test_the_parsed_form_is_kept_and_used(data_dir):
    (data_dir / "things.toml").write_text('[a]\nname = "one"\n')
    assert load("things") == {"a": {"name": "one"}}
    cache = data_dir / "__pycache__" / "things.toml.marshal"
    stamp, parsed = marshal.loads(cache.read_bytes())
    assert parsed == {"a": {"name": "one"}}
    # What is read next is the kept form: plant a different one under the same stamp and it is returned.
    cache.write_bytes(marshal.dumps((stamp, {"a": {"name": "from the cache"}})))
    assert load("things") == {"a": {"name": "from the cache"}}


def test_an_edited_file_is_parsed_again_even_with_the_same_size_and_time(data_dir):
    source = data_dir / "things.toml"
    source.write_text('[a]\nname = "one"\n')
    load("things")
    before = source.stat()
    source.write_text('[a]\nname = "two"\n')  # same length
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert load("things") == {"a": {"name": "two"}}


def test_a_corrupt_cache_is_ignored_and_replaced(data_dir):
    (data_dir / "things.toml").write_text("x = 1\n")
    (data_dir / "__pycache__").mkdir()
    (data_dir / "__pycache__" / "things.toml.marshal").write_bytes(b"\x00garbage")
    assert load("things") == {"x": 1}
    assert marshal.loads((data_dir / "__pycache__" / "things.toml.marshal").read_bytes())[1] == {"x": 1}


def test_nothing_is_written_where_python_may_not_write_bytecode(data_dir, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    (data_dir / "things.toml").write_text("x = 1\n")
    assert load("things") == {"x": 1}
    assert not (data_dir / "__pycache__").exists()


def test_a_cache_that_cannot_be_written_is_not_needed(data_dir):
    (data_dir / "things.toml").write_text("x = 1\n")
    (data_dir / "__pycache__").write_text("a file where the cache folder would go")  # mkdir fails, as read-only
    assert load("things") == {"x": 1}
    assert load("things") == {"x": 1}


def test_a_file_marshal_cannot_hold_is_parsed_every_time(data_dir):
    (data_dir / "dated.toml").write_text("when = 2026-12-01\n")
    assert str(load("dated")["when"]) == "2026-12-01"
    assert not list((data_dir / "__pycache__").glob("dated*"))
