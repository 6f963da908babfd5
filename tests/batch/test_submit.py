"""`qwen batch submit`: the request file built from the `--each` inputs, the upload, the batch, the record;
and the logins it refuses before anything is sent."""

from __future__ import annotations

import json
import stat

from tests.batch.conftest import login, qwen, submitted
from tests.helpers import login_second_api_key
from tests.servers.batch_stub import KEY, BatchStub


def request_file(stub: BatchStub) -> list[dict]:
    upload = next(f for f in stub.files.values() if f["purpose"] == "batch")
    return [json.loads(line) for line in upload["content"].decode().splitlines()]


def test_one_request_line_per_input_uploaded_as_a_batch_file_and_recorded(logged_in, isolated):
    text = 'What is a mutex?\n\n{"id": "sem", "input": "What is a semaphore?"}\n'
    batch_id = submitted(text)
    assert [(r.method, r.path) for r in logged_in.requests] == [("POST", "/v1/files"), ("POST", "/v1/batches")]
    assert all(r.bearer == KEY for r in logged_in.requests)
    upload = logged_in.requests[0]
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="purpose"\r\n\r\nbatch\r\n' in upload.body
    assert request_file(logged_in) == [
        {
            "custom_id": "0",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "test-model",
                "messages": [{"role": "user", "content": "Q: What is a mutex?"}],
                "stream": False,
            },
        },
        {
            "custom_id": "1",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "test-model",
                "messages": [{"role": "user", "content": "Q: What is a semaphore?"}],
                "stream": False,
            },
        },
    ]
    create = logged_in.requests[1].json
    assert create["completion_window"] == "24h" and create["endpoint"] == "/v1/chat/completions"
    assert create["input_file_id"] in logged_in.files and batch_id in logged_in.batches

    path = isolated.qwen_home / "batches" / f"{batch_id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    record = json.loads(path.read_text())
    assert record["origin"] == logged_in.url and record["provider"] == "openai" and record["total"] == 2
    assert record["ids"] == [0, "sem"] and record["input_file_id"] == create["input_file_id"]
    assert KEY not in path.read_text()


def test_a_template_its_params_options_and_model(logged_in, isolated):
    templates = isolated.qwen_home / "templates"
    templates.mkdir(parents=True)
    (templates / "bio.toml").write_text(
        'system = "Be $tone."\nprompt = "Describe $name in one line."\nmodel = "tpl-model"\n'
        "[options]\ntemperature = 0.2\n"
    )
    text = '{"name": "Ada"}\n{"name": "Grace"}\n'
    result = qwen("submit", "-", "-t", "bio", "-p", "tone", "warm", "--max-tokens", "50", "--json", input=text)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["model"] == "tpl-model"
    bodies = [line["body"] for line in request_file(logged_in)]
    assert bodies[1] == {
        "model": "tpl-model",
        "messages": [
            {"role": "system", "content": "Be warm."},
            {"role": "user", "content": "Describe Grace in one line."},
        ],
        "temperature": 0.2,
        "max_tokens": 50,
        "stream": False,
    }


def test_a_line_missing_a_field_stops_before_anything_is_sent(logged_in):
    result = qwen("submit", "-", "Describe $name", input='{"name": "Ada"}\n{"nom": "Grace"}\n')
    assert result.exit_code == 2 and result.stdout == ""
    assert "Error: batch submit stdin line 2 has no field 'name'" in result.stderr and "Hint:" in result.stderr
    assert logged_in.requests == []


def test_a_provider_without_the_batch_flag_is_refused_before_any_request(batch_server):
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": batch_server.url, "OPENAI_MODEL": "test-model"}
    result = qwen("submit", "-", "Q: $input", input="hi\n", env=env)
    assert result.exit_code == 8 and result.stdout == ""
    err = result.stderr.splitlines()
    assert err[0].startswith("Error: custom at 127.0.0.1:") and "not known to offer" in err[0]
    assert err[1].startswith("Hint:") and "--force" in err[1] and len(err) == 2
    assert batch_server.requests == []
    forced = qwen("submit", "-", "Q: $input", "--force", input="hi\n", env=env)
    assert forced.exit_code == 0, forced.stderr
    assert [r.path for r in batch_server.requests] == ["/v1/files", "/v1/batches"]


def test_a_stored_openrouter_login_is_refused_too(openai_server):
    login_second_api_key(openai_server, {})
    openai_server.requests.clear()
    result = qwen("submit", "-", "Q: $input", input="hi\n")
    assert result.exit_code == 8 and "openrouter" in result.stderr and "Hint:" in result.stderr
    assert openai_server.requests == []


def test_qwen_oauth_is_refused_even_with_force(isolated, oauth_server):
    from tests.auth.helpers import seed_oauth

    seeded = seed_oauth(oauth_server, isolated.qwen_home)
    env = {"QWEN_OAUTH_BASE_URL": oauth_server.base_url, "QWEN_AUTH_METHOD": "qwen-oauth"}
    oauth_server.openai.requests.clear()
    result = qwen("submit", "-", "Q: $input", "--force", input="hi\n", env=env)
    assert result.exit_code == 8 and "Qwen OAuth has no Batch API" in result.stderr
    assert oauth_server.openai.requests == []
    assert seeded["access_token"] not in result.stdout + result.stderr


def test_the_key_reaches_only_the_stored_origin_and_never_the_output(batch_server, isolated):
    canary = "sk-canary-b19-0123456789abcdef"
    batch_server.accept_tokens = {canary}
    login(batch_server.url, key=canary)
    batch_id = submitted("a\nb\n")
    runs = [qwen("status", "--wait", "--json"), qwen("results"), qwen("list", "--refresh", "--json"), qwen("status")]
    for result in runs:
        assert result.exit_code == 0, result.stderr
        assert canary not in result.stdout + result.stderr
    assert {r.bearer for r in batch_server.requests} == {canary}
    assert all(canary not in p.read_text() for p in (isolated.qwen_home / "batches").iterdir())
    assert batch_id in runs[3].stdout


def test_a_server_error_on_create_is_one_line_and_its_exit_code(logged_in):
    logged_in.create_status = 500
    result = qwen("submit", "-", "Q: $input", input="hi\n", env={"QWEN_NETWORK_MAX_RETRIES": "3"})
    assert result.exit_code == 5 and result.stdout == ""
    assert result.stderr.startswith("Error: 127.0.0.1:") and "Traceback" not in result.stderr
    assert [r.path for r in logged_in.requests].count("/v1/batches") == 1  # creating is never retried


def test_the_completion_window_is_sent_as_given(logged_in):
    result = qwen("submit", "-", "Q: $input", "--window", "48h", input="hi\n")
    assert result.exit_code == 4 and result.stdout == ""
    assert logged_in.requests[-1].json["completion_window"] == "48h"
    assert "completion_window must be 24h" in result.stderr and "Hint:" in result.stderr


def test_batch_ids_complete_from_the_records(logged_in):
    from tests.cli.test_completion import bash_complete

    first, second = submitted("a\n"), submitted("b\n")
    seen = len(logged_in.requests)
    assert bash_complete(["qwen", "batch", "status", "batch-"]) == [second, first]
    assert len(logged_in.requests) == seen  # local records only
