"""Which `.env` files `qwen` reads, and in which order, for a table of layouts: Qwen Code 0.24.4's rules
(`cli/src/config/environment.ts`, facts §7), observed through `qwen config path --json` in a subprocess.

Paths in the table are relative to the test's tmp dir: `home` is $HOME, `work` a folder outside it, `alt` and
`alt2` other directories QWEN_HOME may point at. Each file sets QWEN_MODEL to its own real path, so the model shows
which file won."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import pytest

from tests.helpers import run_qwen

UNSET = None


@dataclass(frozen=True)
class Layout:
    files: dict[str, str]  # relative path -> extra lines (QWEN_MODEL=<path> is always written)
    cwd: str
    expected: list[str]  # the .env files read, first (winning) first
    qwen_home_env: str | None = "home/.qwen"  # QWEN_HOME in the real environment; UNSET: not set at all
    expected_home: str = "home/.qwen"
    symlinked_home: bool = False  # HOME is `home`, a symlink to `realhome`
    dirs: tuple[str, ...] = field(default=())


LAYOUTS = {
    "project .env in cwd": Layout({"work/.env": ""}, "work", ["work/.env"]),
    ".qwen/.env beats .env in the same folder": Layout(
        {"work/.qwen/.env": "", "work/.env": ""}, "work", ["work/.qwen/.env"]
    ),
    "the nearest folder wins, three levels down": Layout(
        {"work/.env": "", "work/a/.env": ""}, "work/a/b/c", ["work/a/.env"]
    ),
    "a nearer plain .env beats a farther .qwen/.env": Layout(
        {"work/.qwen/.env": "", "work/a/.env": ""}, "work/a/b", ["work/a/.env"]
    ),
    "only the first project file, then $QWEN_HOME/.env, then ~/.env": Layout(
        {"work/.env": "", "work/a/.env": "", "home/.qwen/.env": "", "home/.env": ""},
        "work/a",
        ["work/a/.env", "home/.qwen/.env", "home/.env"],
    ),
    "cwd is home: its files are the user's, read once": Layout(
        {"home/.qwen/.env": "", "home/.env": ""}, "home", ["home/.qwen/.env", "home/.env"]
    ),
    "a project under home, then the home files": Layout(
        {"home/src/p/.env": "", "home/.env": ""}, "home/src/p/deep", ["home/src/p/.env", "home/.env"]
    ),
    "the walk stops at home: a .env above it is not read": Layout(
        {".env": "", "alt/.env": ""}, "home/src", ["alt/.env"], qwen_home_env="alt", expected_home="alt"
    ),
    "no project file outside home: the walk reaches the root": Layout(
        {".env": "", "home/.env": ""}, "work/a", [".env", "home/.env"], dirs=("work/a",)
    ),
    "QWEN_HOME in the environment: its .env, then ~/.env, not ~/.qwen/.env": Layout(
        {"alt/.env": "", "home/.qwen/.env": "", "home/.env": ""},
        "work",
        ["alt/.env", "home/.env"],
        qwen_home_env="alt",
        expected_home="alt",
    ),
    "QWEN_HOME in the environment beats one in ~/.env": Layout(
        {"home/.env": "QWEN_HOME={tmp}/alt", "alt2/.env": ""},
        "work",
        ["alt2/.env", "home/.env"],
        qwen_home_env="alt2",
        expected_home="alt2",
    ),
    "QWEN_HOME set in ~/.env": Layout(
        {"home/.env": "QWEN_HOME={tmp}/alt", "alt/.env": "", "home/.qwen/.env": ""},
        "work",
        ["alt/.env", "home/.env"],
        qwen_home_env=UNSET,
        expected_home="alt",
    ),
    "QWEN_HOME set in ~/.qwen/.env": Layout(
        {"home/.qwen/.env": "QWEN_HOME={tmp}/alt", "alt/.env": "", "home/.env": ""},
        "work",
        ["alt/.env", "home/.env"],
        qwen_home_env=UNSET,
        expected_home="alt",
    ),
    "~/.qwen/.env's QWEN_HOME beats ~/.env's": Layout(
        {"home/.qwen/.env": "QWEN_HOME={tmp}/alt", "home/.env": "QWEN_HOME={tmp}/alt2"},
        "work",
        ["home/.env"],
        qwen_home_env=UNSET,
        expected_home="alt",
        dirs=("alt", "alt2"),
    ),
    "QWEN_HOME in ~/.env with ~ expanded": Layout(
        {"home/.env": "QWEN_HOME=~/qh", "home/qh/.env": ""},
        "work",
        ["home/qh/.env", "home/.env"],
        qwen_home_env=UNSET,
        expected_home="home/qh",
    ),
    "QWEN_HOME in a project .env is never honoured": Layout(
        {"work/.env": "QWEN_HOME={tmp}/alt", "alt/.env": "", "home/.qwen/.env": ""},
        "work",
        ["work/.env", "home/.qwen/.env"],
        qwen_home_env=UNSET,
    ),
    "QWEN_HOME set but empty in the environment: the default, and no file may set it": Layout(
        {"home/.env": "QWEN_HOME={tmp}/alt", "alt/.env": ""}, "work", ["home/.env"], qwen_home_env=""
    ),
    "symlinked home, cwd in a project under its real path": Layout(
        {"realhome/p/.env": "", "realhome/.qwen/.env": "", "realhome/.env": ""},
        "realhome/p",
        ["realhome/p/.env", "home/.qwen/.env", "home/.env"],
        symlinked_home=True,
    ),
    "symlinked home, cwd is its real path: the home files once, by their $HOME names": Layout(
        {"realhome/.qwen/.env": "", "realhome/.env": ""},
        "realhome",
        ["home/.qwen/.env", "home/.env"],
        symlinked_home=True,
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_dotenv_files_read_and_their_order(layout: Layout, isolated, monkeypatch):
    tmp = isolated.tmp
    if layout.symlinked_home:
        (tmp / "realhome").mkdir()
        isolated.home.rmdir()
        isolated.home.symlink_to(tmp / "realhome")
    for rel, extra in layout.files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"QWEN_MODEL={rel}\n" + extra.format(tmp=tmp) + "\n")
    for rel in (*layout.dirs, layout.cwd):
        (tmp / rel).mkdir(parents=True, exist_ok=True)
    if layout.qwen_home_env is UNSET:
        monkeypatch.delenv("QWEN_HOME")
    else:
        monkeypatch.setenv("QWEN_HOME", str(tmp / layout.qwen_home_env) if layout.qwen_home_env else "")

    found = run_qwen(["config", "path", "--json"], cwd=tmp / layout.cwd)
    assert found.exit_code == 0, found.stderr
    listing = json.loads(found.stdout)
    read = [os.path.relpath(f["path"], tmp) for f in reversed(listing["files"]) if f["role"] == ".env"]
    assert read == layout.expected
    assert listing["home"] == str(tmp / layout.expected_home)

    model = run_qwen(["config", "get", "general.model"], cwd=tmp / layout.cwd)
    assert model.stdout.strip() == os.path.relpath(os.path.realpath(tmp / layout.expected[0]), tmp)


def test_an_empty_variable_is_filled_by_a_dotenv(isolated, monkeypatch):
    """Qwen Code fills unset and empty variables alike (`isEffectivelyUnset`); a set value still stands."""
    (isolated.work / ".env").write_text("QWEN_MODEL=from-dotenv\n")
    monkeypatch.setenv("QWEN_MODEL", "")
    shown = json.loads(run_qwen(["config", "get", "general.model", "--json"]).stdout)
    assert (shown["value"], shown["source"]) == ("from-dotenv", f".env:{isolated.work / '.env'}")
    monkeypatch.setenv("QWEN_MODEL", "from-shell")
    shown = json.loads(run_qwen(["config", "get", "general.model", "--json"]).stdout)
    assert (shown["value"], shown["source"]) == ("from-shell", "env:QWEN_MODEL")
