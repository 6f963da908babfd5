"""Each data file's generated twin, NAME.parsed.json (catalogue.load): in step with its TOML, used only while
its hash matches, never required."""

from __future__ import annotations

import json

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from qwen_cli import catalogue

NAMES = sorted(p.stem for p in catalogue.DATA_DIR.glob("*.toml"))


@pytest.mark.parametrize("name", NAMES)
def test_every_data_file_has_a_twin_in_step_with_it(name):
    twin = catalogue.DATA_DIR / f"{name}.parsed.json"
    assert twin.is_file(), f"run `make data`: {twin.name} is missing"
    assert twin.read_text() == catalogue.parsed_twin(name), f"run `make data`: {twin.name} is out of date"
    parsed = tomllib.loads((catalogue.DATA_DIR / f"{name}.toml").read_text())
    assert json.loads(twin.read_text())["data"] == parsed
    assert list(json.loads(twin.read_text())["data"]) == list(parsed)  # the TOML's order: listings keep it


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(catalogue, "DATA_DIR", tmp_path)
    return tmp_path


def load(name: str) -> dict:
    return catalogue.load.__wrapped__(name)  # past functools.cache: each call reads the files again


def test_the_twin_is_what_is_read(data_dir):
    (data_dir / "things.toml").write_text('[a]\nname = "one"\n')
    twin = json.loads(catalogue.parsed_twin("things"))
    twin["data"] = {"a": {"name": "from the twin"}}
    (data_dir / "things.parsed.json").write_text(json.dumps(twin))
    assert load("things") == {"a": {"name": "from the twin"}}


def test_an_edited_toml_is_parsed_again_not_served_from_a_stale_twin(data_dir):
    source = data_dir / "things.toml"
    source.write_text('[a]\nname = "one"\n')
    (data_dir / "things.parsed.json").write_text(catalogue.parsed_twin("things"))
    source.write_text('[a]\nname = "two"\n')  # same length, same second
    assert load("things") == {"a": {"name": "two"}}


@pytest.mark.parametrize("twin", ["", "not json", "[]", '{"toml_blake2b": 1}', '{"data": {}}'])
def test_a_missing_or_broken_twin_is_not_needed(data_dir, twin):
    (data_dir / "things.toml").write_text("x = 1\n")
    if twin:
        (data_dir / "things.parsed.json").write_text(twin)
    assert load("things") == {"x": 1}


def test_a_toml_date_cannot_get_a_twin(data_dir):
    (data_dir / "dated.toml").write_text("when = 2026-12-01\n")
    with pytest.raises(TypeError):
        catalogue.parsed_twin("dated")
    assert str(load("dated")["when"]) == "2026-12-01"
