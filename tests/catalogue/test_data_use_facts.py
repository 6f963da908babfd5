"""Every catalogue entry (each method, Coding Plan region, api-key provider and its regions) has its data-use
facts in data/terms.toml: a value, a source and a checked date for each field, none dated in the future. A
provider added to the catalogue without them fails here."""

from __future__ import annotations

import datetime
import json
import re

import pytest

from qwen_cli import catalogue, data_use
from tests.helpers import run_qwen

ENTRIES = data_use.entries()
URL = re.compile(r"^https://[^\s]+$")
LOCAL_SOURCE = "this machine: "


def test_every_catalogue_provider_and_region_is_an_entry():
    ids = {e.id for e in ENTRIES}
    for prov in catalogue.providers().values():
        wanted = [f"{prov.id}/{r}" for r in prov.regions] if prov.regions else [prov.id]
        assert set(wanted) <= ids, prov.id
    assert {f"coding-plan/{r}" for r in catalogue.regions()} <= ids
    assert "qwen-oauth" in ids


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_every_entry_has_a_value_a_source_and_a_past_checked_date_for_every_field(entry):
    assert entry.facts_id, f"{entry.id}: no [entries] mapping in data/terms.toml"
    assert set(entry.facts) == set(data_use.FIELDS), entry.id
    today = datetime.date.today()
    for name, fact in entry.facts.items():
        assert fact.value not in (None, ""), (entry.id, name)
        assert isinstance(fact.source, str) and fact.source.strip(), (entry.id, name)
        checked = datetime.date.fromisoformat(fact.checked)
        assert checked <= today, f"{entry.id}.{name} is checked in the future ({fact.checked})"
    assert entry.trains in data_use.TRAINS
    assert entry.facts["zero_retention"].value in data_use.ZERO_RETENTION
    retention = entry.facts["retention_days"].value
    assert retention == "unknown" or (isinstance(retention, int) and retention >= 0)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_a_known_fact_names_the_page_it_comes_from(entry):
    """Known facts come from an https page of the provider, or (local servers only) from being on this machine;
    an unknown one says where it was looked for instead."""
    for name, fact in entry.facts.items():
        if not fact.known or name == "opt_out" and str(fact.value).startswith("none needed"):
            continue
        if entry.local:
            assert URL.match(fact.source) or fact.source.startswith(LOCAL_SOURCE), (entry.id, name)
        else:
            assert URL.match(fact.source), (entry.id, name, fact.source)


def test_local_servers_say_nothing_leaves_the_machine():
    local = [e for e in ENTRIES if e.local]
    assert {e.provider_id for e in local} >= {"ollama", "lmstudio", "vllm", "llamacpp"}
    for entry in local:
        assert entry.trains == "no" and entry.facts["regions"].value == "this machine"
        assert "nothing leaves this machine" in data_use.answer_line(entry)


def test_custom_is_unknown_because_it_depends_on_the_server():
    (custom,) = [e for e in ENTRIES if e.provider_id == "custom"]
    assert all(f.value == "unknown" and "depends on the server" in f.source for f in custom.facts.values())


def test_terms_compare_lists_every_entry_with_no_empty_cell():
    result = run_qwen(["terms", "compare", "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["entries"]
    assert [r["entry"] for r in rows] == [e.id for e in ENTRIES]
    for row in rows:
        for name in data_use.FIELDS:
            fact = row["facts"][name]
            assert fact["value"] not in (None, "") and fact["source"] and fact["checked"], (row["entry"], name)
    text = run_qwen(["terms", "compare"])
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["METHOD", "PROVIDER", "TRAINS", "BY", "DEFAULT", "RETENTION", "REGION", "CHECKED"]
    assert len(lines) == len(ENTRIES) + 1
    columns = [m.start() for m in re.finditer(r"(?<=  )\S", lines[0])]
    for line in lines[1:]:
        for start in columns:  # every column starts with text in every row: no empty cell
            assert line[start - 2 : start] == "  " and line[start] != " ", line
