"""`qwen ask -a` as a real process: images by content, the size cap, URLs, and text-only models."""

from __future__ import annotations

import base64

import pytest

from tests.helpers import run_qwen

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24
GIF = b"GIF89a" + b"\x00" * 32


@pytest.fixture
def env(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


def ask(args, env, **kw):
    return run_qwen(["ask", *args], env=env, **kw)


def content(server):
    return server.chat_requests[-1].json["messages"][-1]["content"]


def config(isolated, text):
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(text)


@pytest.mark.parametrize(("data", "mime"), [(PNG, "png"), (JPEG, "jpeg"), (WEBP, "webp"), (GIF, "gif")])
def test_an_image_is_sent_as_a_data_url_typed_by_its_bytes(openai_server, env, isolated, data, mime):
    (isolated.work / "picture.txt").write_bytes(data)  # the name says text; the bytes decide
    result = ask(["-a", "picture.txt", "what is this?"], env, cwd=isolated.work)
    assert result.exit_code == 0, result.stderr
    text, image = content(openai_server)
    assert text == {"type": "text", "text": "what is this?"}
    assert image == {
        "type": "image_url",
        "image_url": {"url": f"data:image/{mime};base64," + base64.b64encode(data).decode()},
    }


def test_an_image_on_stdin(openai_server, env):
    result = ask(["-a", "-", "describe"], env, input=PNG)
    assert result.exit_code == 0, result.stderr
    assert content(openai_server)[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content(openai_server)[0]["text"] == "describe"  # stdin was the image, not text


def test_text_files_still_go_with_f(openai_server, env, isolated):
    (isolated.work / "notes.txt").write_text("hello\n")
    (isolated.work / "shot.png").write_bytes(PNG)
    ask(["-f", "notes.txt", "-a", "shot.png", "compare"], env, cwd=isolated.work)
    text = content(openai_server)[0]["text"]
    assert text.startswith("compare\n\nFile: notes.txt\n```\nhello")


def test_an_https_url_is_passed_as_a_url(openai_server, env):
    ask(["-a", "https://example.invalid/cat.png", "what?"], env)
    assert content(openai_server)[1] == {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}}


def test_an_http_url_is_refused(openai_server, env):
    result = ask(["-a", "http://example.invalid/cat.png", "what?"], env)
    assert result.exit_code == 2 and "only https:// URLs" in result.stderr
    assert openai_server.chat_requests == []


def test_a_file_that_is_not_an_image_is_refused(openai_server, env, isolated):
    (isolated.work / "fake.png").write_text("just text with a .png name")
    result = ask(["-a", "fake.png", "what?"], env, cwd=isolated.work)
    assert result.exit_code == 2 and openai_server.chat_requests == []
    assert (
        result.stderr.splitlines()[0]
        == "Error: -a fake.png: not a png, jpeg, webp or gif image (checked by its content, not its name)"
    )
    assert "-f" in result.stderr.splitlines()[1]


def test_an_image_over_the_cap_is_refused_with_the_setting_named(openai_server, env, isolated):
    (isolated.work / "big.png").write_bytes(PNG + b"\x00" * 2000)
    config(isolated, "[input]\nmax_image_bytes = 1000\n")
    result = ask(["-a", "big.png", "what?"], env, cwd=isolated.work)
    assert result.exit_code == 2 and openai_server.chat_requests == []
    assert "larger than input.max_image_bytes (1000 bytes)" in result.stderr
    assert "qwen config set input.max_image_bytes" in result.stderr
    piped = ask(["-a", "-", "what?"], env, input=PNG + b"\x00" * 2000)
    assert piped.exit_code == 2 and "-a stdin: the image is larger" in piped.stderr


def test_a_text_only_model_is_refused_before_anything_is_sent(openai_server, env, isolated):
    (isolated.work / "shot.png").write_bytes(PNG)
    config(isolated, '[models."test-model"]\nimage_input = false\n')
    result = ask(["-a", "shot.png", "what?"], env, cwd=isolated.work)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("Error: model 'test-model' does not take images")
    assert openai_server.requests == []


def test_a_vision_model_or_an_unknown_one_gets_the_image(openai_server, env, isolated):
    (isolated.work / "shot.png").write_bytes(PNG)
    config(isolated, '[models."other-model"]\nimage_input = true\n')
    for model in ("other-model", "test-model"):  # known to take images; unknown (sent, with no claim)
        result = ask(["-m", model, "-a", "shot.png", "what?"], env, cwd=isolated.work)
        assert result.exit_code == 0 and result.stderr == "", result.stderr
    assert len(openai_server.chat_requests) == 2


def test_a_missing_file(openai_server, env):
    result = ask(["-a", "nope.png", "what?"], env)
    assert result.exit_code == 2 and "-a nope.png: no such file" in result.stderr
