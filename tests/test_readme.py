"""The README, followed literally: its quick start and its cookbook run against a loopback stub, and every
`qwen ...` command line it shows names real commands and options. So the README can't drift from the code.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from qwen_cli.cli.root import root

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
ANSWER = "Hello from stub"  # the stub's default reply


# -- reading the README -------------------------------------------------------------------------------------------


def sections(text: str, level: str) -> dict[str, str]:
    parts = re.split(rf"^{level} (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def section(title_start: str) -> str:
    for title, body in sections(README, "##").items():
        if title.split(". ", 1)[-1].startswith(title_start):
            return body
    raise AssertionError(f"README has no section starting {title_start!r}")


QUICK_START = sh_blocks(section("Quick start"))[0]
RECIPES = {title: sh_blocks(body)[0] for title, body in sections(section("Pipelines cookbook"), "###").items()}


def test_readme_sections_come_in_the_promised_order():
    titles = [t.split(". ", 1)[-1] for t in sections(README, "##")]
    wanted = [
        "Set up",
        "Quick start",
        "Authentication",
        "Pipelines cookbook",
        "Configuration",
        "Exit codes",
        "Privacy",
        "Troubleshooting",
    ]
    found = [next(i for i, t in enumerate(titles) if t.startswith(w)) for w in wanted]
    assert found == sorted(found), titles
    setup = sh_blocks(section("Set up"))[0]
    assert [line.split("#")[0].strip() for line in setup.splitlines()[:2]] == ["make run", "make test"]


def test_cookbook_has_the_six_required_recipes():
    text = "\n".join(RECIPES.values())
    for needle in ("git diff", ".log", "Translate", "jq", "ask -c", "xargs -0 -P"):
        assert needle in text, needle
    assert len(RECIPES) >= 6


# -- running it ---------------------------------------------------------------------------------------------------


@pytest.fixture
def shell(openai_server, isolated, tmp_path):
    """bash with the venv's qwen on PATH and OPENAI_* pointing at the stub; returns run(script) -> result."""
    openai_server.accept_tokens = {"*"}
    bin_dir = Path(sys.executable).parent
    path = [str(bin_dir)]
    if not shutil.which("jq"):
        path.insert(0, str(_jq_shim(tmp_path / "shim")))
    env = dict(os.environ, PATH=os.pathsep.join(path + [os.environ.get("PATH", "/usr/bin:/bin")]))
    env.update(
        OPENAI_API_KEY="sk-readme-test",
        OPENAI_BASE_URL=openai_server.url,
        OPENAI_MODEL="test-model",
        GIT_AUTHOR_NAME="Reader",
        GIT_AUTHOR_EMAIL="reader@example.invalid",
        GIT_COMMITTER_NAME="Reader",
        GIT_COMMITTER_EMAIL="reader@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
    )

    def run(script: str, env_overrides: dict | None = None):
        proc = subprocess.run(
            ["bash", "-c", "set -eo pipefail\n" + script],
            cwd=isolated.work,
            env={**env, **(env_overrides or {})},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert proc.returncode == 0, f"exit {proc.returncode}\n--- script\n{script}\n--- stderr\n{proc.stderr}"
        return proc

    run.stub = openai_server
    run.work = isolated.work
    return run


def _jq_shim(directory: Path) -> Path:
    """A stand-in for jq where it isn't installed: `[-r] .a.b` paths on JSON lines (and `select(.ok) | .a`)."""
    directory.mkdir()
    shim = directory / "jq"
    shim.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import json, sys
        args = [a for a in sys.argv[1:] if a not in ("-r", "-j")]
        path, ok_only = args[0], args[0].startswith("select(.ok) | ")  # the --each recipe's filter too
        path = path.removeprefix("select(.ok) | ")
        stream = open(args[1]) if len(args) > 1 else sys.stdin
        for line in [line for line in stream.read().splitlines() if line.strip()]:
            value = json.loads(line)
            if ok_only and not value.get("ok"):
                continue
            for key in [k for k in path.split(".") if k]:
                value = value[key]
            print(value if isinstance(value, str) and ("-r" in sys.argv or "-j" in sys.argv) else json.dumps(value))
        """)
    )
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return directory


def test_quick_start_as_written_reaches_a_streamed_and_a_json_answer(shell):
    activate = Path(sys.executable).parent / "activate"
    script = QUICK_START.replace("https://api.openai.com/v1", shell.stub.url)
    script = script.replace(
        "source .venv/bin/activate", f"source {shlex.quote(str(activate))}" if activate.exists() else ":"
    )
    assert "OPENAI_API_KEY" in script and shell.stub.url in script
    # The README's own exports win over the fixture's; only the endpoint was swapped for the stub.
    result = shell(script, {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "OPENAI_MODEL": ""})
    lines = result.stdout.splitlines()
    assert lines.count(ANSWER) == 3, result.stdout  # plain ask, the ask in the pipe (via tee), jq -r .content
    assert (shell.work / "answer.txt").read_text() == ANSWER + "\n"
    chats = shell.stub.chat_requests
    assert len(chats) == 3
    assert all(r.bearer == "sk-your-key" for r in chats)
    assert chats[0].json["stream"] is True and chats[0].json["model"] == "gpt-4o-mini"
    assert "Which of these files is the largest?" in chats[1].json["messages"][-1]["content"]


def _prepare_workspace(work: Path, run) -> None:
    (work / "app.log").write_text("".join(f"2026-11-26 ERROR disk {i} full\n" for i in range(20)))
    (work / "README.md").write_text("# Hallo\n\nA small file to translate.\n")
    (work / "src" / "pkg").mkdir(parents=True)
    (work / "src" / "a.py").write_text("print('a')\n")
    (work / "src" / "pkg" / "b.py").write_text("print('b')\n")
    run("git init -q . && git add README.md && git commit -qm init && echo more >> README.md && git add README.md")


def recipe(word: str) -> str:
    found = [body for title, body in RECIPES.items() if word.lower() in title.lower()]
    assert len(found) == 1, (word, list(RECIPES))
    return found[0]


@pytest.mark.skipif(not shutil.which("git"), reason="git is not installed")
def test_recipe_commit_message(shell):
    _prepare_workspace(shell.work, shell)
    shell(recipe("commit message"))
    message = subprocess.run(["git", "log", "-1", "--format=%B"], cwd=shell.work, capture_output=True, text=True)
    assert message.stdout.strip() == ANSWER
    assert "+more" in shell.stub.chat_requests[-1].json["messages"][-1]["content"]


def test_recipe_summarise_a_log(shell):
    (shell.work / "app.log").write_text("2026-11-26 ERROR disk full\n" * 3)
    result = shell(recipe("log"))
    assert result.stdout == ANSWER + "\n"
    assert "ERROR disk full" in shell.stub.chat_requests[-1].json["messages"][-1]["content"]


def test_recipe_translate_a_file(shell):
    (shell.work / "README.md").write_text("# Hallo\n\nA small file to translate.\n")
    shell(recipe("translate"))
    assert (shell.work / "README.de.md").read_text() == ANSWER + "\n"
    assert "A small file to translate." in shell.stub.chat_requests[-1].json["messages"][-1]["content"]


@pytest.mark.skipif(not shutil.which("jq"), reason="jq is not installed (the recipe uses select())")
def test_recipe_json_into_jq(shell):
    result = shell(recipe("jq"))
    first, second, third = result.stdout.split("\n", 2)
    assert first == ANSWER
    assert int(second) > 0  # usage.total_tokens
    assert third == ANSWER  # the deltas joined by jq -j


def test_recipe_continue_a_conversation(shell):
    result = shell(recipe("continue"))
    sessions = list((Path(os.environ["QWEN_HOME"]) / "sessions").glob("*.jsonl"))
    assert len(sessions) == 1
    second = shell.stub.chat_requests[-1].json["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[-1]["content"] == "Shorter, please."
    assert sessions[0].stem in result.stdout  # qwen chat --list shows it


def test_recipe_batch_over_files(shell):
    (shell.work / "src" / "pkg").mkdir(parents=True)
    (shell.work / "src" / "a.py").write_text("print('a')\n")
    (shell.work / "src" / "pkg" / "b.py").write_text("print('b')\n")
    shell(recipe("batch over files"))
    for name in ("src/a.py.summary", "src/pkg/b.py.summary"):
        assert (shell.work / name).read_text() == ANSWER + "\n"
    assert len(shell.stub.chat_requests) == 2


def test_recipe_system_prompt_model_and_budget(shell):
    result = shell(recipe("system prompt"))
    assert result.stdout == ANSWER + "\n"
    sent = shell.stub.chat_requests[-1].json
    assert sent["messages"][0] == {"role": "system", "content": "Answer in one sentence."}
    assert sent["model"] == "qwen3-coder-plus" and sent["max_tokens"] == 200
    assert re.search(r"\d", result.stderr)  # --usage: token counts on stderr


@pytest.mark.skipif(not shutil.which("jq"), reason="jq is not installed (the recipe uses .[])")
def test_recipe_structured_answers(shell):
    from tests.servers.openai_stub import stream_reply

    shell.stub.script(
        stream_reply(['{"name": "Guido van Rossum",', ' "year": 1991}']),
        stream_reply(['{"items": [{"code": 400, "meaning": "Bad Request"}, {"code": 404, "meaning": "Not Found"}]}']),
    )
    result = shell(recipe("schema"))
    assert result.stdout.splitlines() == ["Guido van Rossum", "400", "404"]
    first = shell.stub.chat_requests[0].json
    assert first["response_format"] == {"type": "json_object"} and '"year":{"type":"integer"}' in str(first["messages"])


def test_recipe_a_saved_template(shell):
    (shell.work / "app.log").write_text("2026-11-26 ERROR disk full\n")
    result = shell(recipe("template"))
    assert result.stdout == ANSWER + "\n"
    assert len(shell.stub.chat_requests) == 1  # --save sends nothing
    sent = shell.stub.chat_requests[0].json["messages"]
    assert sent == [
        {"role": "system", "content": "Answer in one line."},
        {"role": "user", "content": "Summarise this for a manager: 2026-11-26 ERROR disk full"},
    ]


def test_recipe_ask_about_an_image(shell):
    (shell.work / "screenshot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    result = shell(recipe("image"))
    assert result.stdout == ANSWER + "\n"
    image = shell.stub.chat_requests[0].json["messages"][0]["content"][1]
    assert image["image_url"]["url"].startswith("data:image/png;base64,")


def test_every_recipe_is_covered_by_a_test():
    tested = (
        "commit message",
        "log",
        "translate",
        "jq",
        "continue",
        "batch",
        "batch engine",
        "system prompt",
        "schema",
        "template",
        "image",
        "--each",
    )
    for title in RECIPES:
        assert any(word in title.lower() for word in tested), f"recipe {title!r} has no test in tests/test_readme.py"


# -- every qwen command line in the README exists --------------------------------------------------------------


def qwen_command_lines(text: str) -> list[str]:
    """`qwen ...` invocations in code blocks and inline code, cut at the first shell operator."""
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    snippets = [re.split(r"(?:^|\s)#", line)[0] for block in blocks for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    snippets += re.findall(r"`([^`\n]+)`", prose)
    found = []
    for snippet in snippets:
        for match in re.finditer(r"""(?:^|[\s|;&('])qwen((?:[ \t]+(?:'[^']*'|"[^"]*"|[^\s|;&<>#)`'"]+))*)""", snippet):
            found.append(match.group(1).strip())
    return found


def _option_names(command: click.Command) -> dict[str, click.Parameter]:
    names = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for name in param.opts + param.secondary_opts:
                names[name] = param
    names.update({"--help": None, "-h": None})
    return names


def check_command_line(args: str) -> None:
    tokens = shlex.split(args)
    command: click.Command = root
    ctx = click.Context(root, info_name="qwen")
    path = ["qwen"]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("-") and token != "-":
            name = token.split("=", 1)[0]
            options = _option_names(command)
            if command is root:
                options.update({"--version": None, "-V": None})
            assert name in options, f"`{' '.join(path)}` has no option {name} (README: qwen {args})"
            param = options[name]
            if param is not None and not param.is_flag and not param.count and "=" not in token:
                i += 1  # its value
        elif isinstance(command, click.Group):
            sub = command.get_command(ctx, token)
            assert sub is not None, f"`{' '.join(path)}` has no command {token!r} (README: qwen {args})"
            command, path = sub, path + [token]
        i += 1


def test_every_qwen_command_line_in_the_readme_is_real():
    lines = qwen_command_lines(README)
    assert len(lines) > 40
    for args in lines:
        check_command_line(args)


def test_the_checker_catches_a_wrong_flag():
    with pytest.raises(AssertionError):
        check_command_line("ask --no-such-flag hi")
    with pytest.raises(AssertionError):
        check_command_line("auth sign-in")
    check_command_line("auth login --method api-key --provider openrouter --key-stdin")


# -- the set-up commands --------------------------------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_test_installs_first_when_the_venv_is_missing(tmp_path):
    venv = tmp_path / "no-venv-yet"
    plan = subprocess.run(["make", "-n", "-C", str(ROOT), "test", f"VENV={venv}"], capture_output=True, text=True)
    assert plan.returncode == 0, plan.stderr
    assert "-m venv" in plan.stdout and "pip install" in plan.stdout and "-e '.[test]'" in plan.stdout
    assert plan.stdout.index("pip install") < plan.stdout.index("/bin/pytest")
    assert not venv.exists()


def test_makefile_has_the_documented_targets():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("install", "run", "test", "lint", "completions", "bench", "smoke", "clean"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target
    assert "ruff check" in makefile


def test_recipe_each(shell):
    result = shell(recipe("--each"))
    assert result.stdout == f"{ANSWER}\n{ANSWER}\n"
    answers = [json.loads(line) for line in (shell.work / "answers.jsonl").read_text().splitlines()]
    assert [(a["index"], a["ok"], a["content"]) for a in answers] == [(0, True, ANSWER), (1, True, ANSWER)]
    sent = sorted(r.json["messages"][-1]["content"] for r in shell.stub.chat_requests)
    assert sent == ["Answer in one sentence: What is a mutex?", "Answer in one sentence: What is a semaphore?"]


def test_recipe_the_providers_batch_engine(shell, batch_server):
    from tests.batch.conftest import login

    login(batch_server.url)  # a stored OpenAI API-key login, pointing at the loopback Batch API
    (shell.work / "questions.txt").write_text("What is a mutex?\nWhat is a semaphore?\n")
    no_env_login = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "OPENAI_MODEL": ""}
    result = shell(recipe("batch engine"), {**no_env_login, "QWEN_BATCH_POLL_INTERVAL": "0.02"})
    batch_id = next(iter(batch_server.batches))
    assert result.stdout.splitlines() == [
        batch_id,  # submit prints the id
        f"{batch_id}  completed  2/2 done, 0 failed",  # status --wait
        "answer: Answer in one sentence: What is a mutex?",  # jq over the results, in input order
        "answer: Answer in one sentence: What is a semaphore?",
    ]
    answers = [json.loads(line) for line in (shell.work / "answers.jsonl").read_text().splitlines()]
    assert [(a["index"], a["ok"]) for a in answers] == [(0, True), (1, True)]
    assert shell.stub.chat_requests == []  # nothing went to the chat endpoint: the batch engine did the work
