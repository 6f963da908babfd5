"""`qwen ask -t/--save` and `qwen templates` as real processes: files, parameters, trust, names."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_qwen
from tests.servers.openai_stub import stream_reply


@pytest.fixture
def env(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


def qwen(args, env, **kw):
    return run_qwen(args, env=env, **kw)


def sent(server) -> dict:
    return server.chat_requests[-1].json


def write_template(directory, name, text):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.toml").write_text(text)


def test_save_then_use_with_parameters_and_stdin(openai_server, env, isolated):
    saved = qwen(
        [
            "ask",
            "--save",
            "summary",
            "-s",
            "Be brief.",
            "-m",
            "other-model",
            "--max-tokens",
            "50",
            "-p",
            "n",
            "3",
            "Summarise in $n bullets: $input",
        ],
        env,
    )
    assert saved.exit_code == 0, saved.stderr
    assert openai_server.chat_requests == []  # --save sends nothing
    assert (isolated.qwen_home / "templates" / "summary.toml").is_file()
    used = qwen(["ask", "-t", "summary", "-p", "n", "5"], env, input="the log\n")
    assert used.exit_code == 0 and used.stdout == "Hello from stub\n", used.stderr
    body = sent(openai_server)
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Summarise in 5 bullets: the log"},
    ]
    assert body["model"] == "other-model" and body["max_tokens"] == 50
    qwen(["ask", "-t", "summary", "-m", "test-model", "the diff"], env)  # defaults fill $n; the flag wins
    assert sent(openai_server)["messages"][-1]["content"] == "Summarise in 3 bullets: the diff"
    assert sent(openai_server)["model"] == "test-model"


def test_a_missing_parameter_is_a_usage_error_naming_it(openai_server, env, isolated):
    write_template(isolated.qwen_home / "templates", "tr", 'prompt = "Translate into $lang: $input"\n')
    result = qwen(["ask", "-t", "tr", "hello"], env)
    assert result.exit_code == 2 and openai_server.chat_requests == []
    assert result.stderr.splitlines()[0] == "Error: template 'tr' needs the parameter 'lang'"
    assert "-p lang VALUE" in result.stderr
    no_input = qwen(["ask", "-t", "tr", "-p", "lang", "German"], env)
    assert no_input.exit_code == 2 and "needs its input ($input)" in no_input.stderr
    typo = qwen(["ask", "-t", "tr", "-p", "lnag", "German", "hi"], env)
    assert typo.exit_code == 2 and "has no parameter 'lnag'" in typo.stderr


def test_a_template_without_input_is_sent_as_is(openai_server, env, isolated):
    write_template(
        isolated.qwen_home / "templates", "joke", 'prompt = "Tell a ${kind} joke."\n[defaults]\nkind = "short"\n'
    )
    assert qwen(["ask", "-t", "joke"], env).exit_code == 0
    assert sent(openai_server)["messages"][-1]["content"] == "Tell a short joke."


def test_a_template_schema_is_used(openai_server, env, isolated):
    write_template(isolated.qwen_home / "templates", "who", 'prompt = "Who wrote $input?"\nschema = "name, year int"\n')
    openai_server.script(stream_reply(['{"name": "Knuth", "year": 1968}']))
    result = qwen(["ask", "-t", "who", "TAOCP"], env)
    assert result.stdout == '{"name":"Knuth","year":1968}\n', result.stderr
    assert sent(openai_server)["response_format"] == {"type": "json_object"}


def test_list_show_path_rm_and_json(openai_server, env, isolated):
    qwen(["ask", "--save", "a", "First: $input"], env)
    qwen(["ask", "--save", "b", "-s", "Sys $tone", "Second"], env)
    listed = qwen(["templates", "list", "--json"], env)
    rows = {t["name"]: t for t in json.loads(listed.stdout)["templates"]}
    assert set(rows) == {"a", "b"} and rows["a"]["params"] == ["input"] and rows["b"]["params"] == ["tone"]
    assert rows["a"]["origin"] == "user"
    text = qwen(["templates", "list"], env).stdout.splitlines()
    assert text[0].split() == ["a", "user", "$input"]
    shown = json.loads(qwen(["templates", "show", "b", "--json"], env).stdout)
    assert shown["system"] == "Sys $tone" and shown["prompt"] == "Second"
    assert 'prompt = "First: $input"' in qwen(["templates", "show", "a"], env).stdout
    folder = qwen(["templates", "path"], env).stdout.strip()
    assert folder == str(isolated.qwen_home / "templates")
    assert qwen(["templates", "path", "a"], env).stdout.strip() == folder + "/a.toml"
    assert qwen(["templates", "rm", "a"], env).exit_code == 0
    assert not (isolated.qwen_home / "templates" / "a.toml").exists()
    gone = qwen(["templates", "rm", "a"], env)
    assert gone.exit_code == 2 and "no user template named 'a'" in gone.stderr


def test_edit_runs_the_editor_on_the_file(env, isolated):
    editor = isolated.work / "ed.sh"
    editor.write_text('#!/bin/sh\nprintf \'prompt = "Edited $input"\\n\' > "$1"\n')
    editor.chmod(0o755)
    result = qwen(["templates", "edit", "new"], {**env, "EDITOR": str(editor)})
    assert result.exit_code == 0, result.stderr
    assert (isolated.qwen_home / "templates" / "new.toml").read_text() == 'prompt = "Edited $input"\n'


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "..", "x" * 65, "a\\b"])
def test_names_that_are_paths_are_refused(openai_server, env, isolated, name):
    for args in (["ask", "--save", name, "hi"], ["ask", "-t", name, "hi"], ["templates", "rm", name]):
        result = qwen(args, env)
        assert result.exit_code == 2 and "is not a template name" in result.stderr, (args, result.stderr)
    assert not (isolated.qwen_home.parent / "evil.toml").exists()
    assert openai_server.chat_requests == []


def test_project_templates_only_when_the_folder_is_trusted(openai_server, env, isolated):
    project = isolated.work / "proj"
    write_template(project / ".qwen" / "templates", "review", 'prompt = "Project review: $input"\n')
    skipped = qwen(["ask", "-t", "review", "code"], env, cwd=project)
    assert skipped.exit_code == 2 and openai_server.chat_requests == []
    assert "not trusted" in skipped.stderr and "qwen trust" in skipped.stderr
    listed = qwen(["templates", "list", "--json"], env, cwd=project)
    assert json.loads(listed.stdout)["templates"] == []
    assert listed.stderr.startswith("Notice: skipped 1 project template(s)")

    assert qwen(["trust", str(project)], env).exit_code == 0
    used = qwen(["ask", "-t", "review", "code"], env, cwd=project)
    assert used.exit_code == 0, used.stderr
    assert sent(openai_server)["messages"][-1]["content"] == "Project review: code"
    assert (
        json.loads(qwen(["templates", "list", "--json"], env, cwd=project).stdout)["templates"][0]["origin"]
        == "project"
    )

    (project / ".qwen" / "templates" / "review.toml").write_text(
        'prompt = "Changed: $input"\n'
    )  # edited: untrusted again
    again = qwen(["ask", "-t", "review", "code"], env, cwd=project)
    assert again.exit_code == 2 and "not trusted" in again.stderr


def test_a_user_template_wins_over_a_project_one(openai_server, env, isolated):
    project = isolated.work / "proj"
    write_template(project / ".qwen" / "templates", "review", 'prompt = "Project: $input"\n')
    write_template(isolated.qwen_home / "templates", "review", 'prompt = "Mine: $input"\n')
    assert qwen(["trust", str(project)], env).exit_code == 0
    qwen(["ask", "-t", "review", "x"], env, cwd=project)
    assert sent(openai_server)["messages"][-1]["content"] == "Mine: x"


def test_unknown_template_names_the_ones_there_are(openai_server, env, isolated):
    write_template(isolated.qwen_home / "templates", "one", 'prompt = "1"\n')
    result = qwen(["ask", "-t", "two", "x"], env)
    assert result.exit_code == 2 and "no template named 'two'" in result.stderr and "Templates: one." in result.stderr


def test_completion_offers_template_names(isolated):
    from tests.cli.test_completion import bash_complete

    write_template(isolated.qwen_home / "templates", "summary", 'prompt = "$input"\n')
    write_template(isolated.qwen_home / "templates", "sql", 'prompt = "$input"\n')
    assert bash_complete(["qwen", "ask", "-t", "s"]) == ["sql", "summary"]
    assert bash_complete(["qwen", "templates", "show", "su"]) == ["summary"]


def test_qwen_trust_with_no_folder_finds_a_project_with_only_templates(openai_server, env, isolated):
    project = isolated.work / "proj"
    write_template(project / ".qwen" / "templates", "review", 'prompt = "Project review: $input"\n')
    trusted = qwen(["trust"], env, cwd=project)
    assert trusted.exit_code == 0, trusted.stderr
    assert ".qwen/templates/review.toml" in trusted.stderr
    assert qwen(["ask", "-t", "review", "code"], env, cwd=project).exit_code == 0
