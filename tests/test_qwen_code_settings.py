"""The read-only reader of Qwen Code's settings.json: JSONC, $VAR expansion, the keys qwen uses, and the
custom-provider key names (facts §1 and §3)."""

from __future__ import annotations

import hashlib
import json

import pytest

from qwen_cli import qwen_code_settings as qcs


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"a": 1, // a comment\n "b": [1, 2,],}', {"a": 1, "b": [1, 2]}),
        (
            '/* head\n comment */ {"a": "// not a comment", "b": "/* nor this */"}',
            {"a": "// not a comment", "b": "/* nor this */"},
        ),
        ('{"a": "x\\"y", "b": ",}"}', {"a": 'x"y', "b": ",}"}),
        ('{"a": [1, /* c */ ], "b": {"c": 1, /* d */\n}}', {"a": [1], "b": {"c": 1}}),
        ('{"url": "https://h/v1"} // trailing', {"url": "https://h/v1"}),
    ],
)
def test_jsonc_comments_and_trailing_commas(text, expected):
    assert qcs.parse_jsonc(text) == expected


@pytest.mark.parametrize(
    "text, line, column",
    [
        ('{\n  "a": 1\n  "b": 2\n}', 3, 3),
        ('{"a": /* open', 1, 7),
        ('{"a": "open', 1, 7),
        ('{"a": [1 2]}', 1, 10),  # not a doubled comma: where json reports that moved in Python 3.13
    ],
)
def test_jsonc_errors_name_line_and_column(text, line, column):
    with pytest.raises(qcs.JsoncError) as caught:
        qcs.parse_jsonc(text)
    assert (caught.value.line, caught.value.column) == (line, column)


def test_variables_are_expanded_and_unknown_ones_kept():
    env = {"GW": "https://gw.example", "KEY": "sk-1"}
    assert qcs.expand({"u": "$GW/v1", "k": "${KEY}", "x": "$MISSING", "n": [1, "${GW}"]}, env) == {
        "u": "https://gw.example/v1",
        "k": "sk-1",
        "x": "$MISSING",
        "n": [1, "https://gw.example"],
    }


def test_custom_env_key_follows_qwen_codes_scheme():
    digest = hashlib.sha256(b"openai\0https://my-gw.example:8443/api/v1").hexdigest()[:12].upper()
    expected = f"QWEN_CUSTOM_API_KEY_OPENAI_HTTPS_MY_GW_EXAMPLE_8443_API_V1_{digest}"
    assert qcs.custom_env_key("openai", "https://my-gw.example:8443/api/v1/") == expected
    assert qcs.custom_env_key("openai", "https://my-gw.example:8443/api/v1") == expected


def test_the_keys_qwen_uses_are_read(isolated, tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("""{
      "$version": 4,
      // what Qwen Code's /auth writes (providers/install.ts)
      "modelProviders": {
        "openai": [
          {"id": "qwen3.7-plus", "name": "[Coding Plan] qwen3.7-plus",
           "baseUrl": "https://coding.dashscope.aliyuncs.com/v1", "envKey": "BAILIAN_CODING_PLAN_API_KEY"},
          {"id": "my-model", "baseUrl": "$GW/v1"},
        ],
        "anthropic": [{"id": "claude", "baseUrl": "https://api.anthropic.com", "envKey": "ANTHROPIC_API_KEY"}],
      },
      "env": {"BAILIAN_CODING_PLAN_API_KEY": "sk-sp-plain", "NUMBER": 3},
      "security": {"auth": {"selectedType": "openai"}},
      "model": {"name": "my-model"},
      "privacy": {"usageStatisticsEnabled": false},
    }""")
    found = qcs.load(path, {"GW": "https://gw.example"})
    assert found is not None and found.warnings == []
    assert [(p.protocol, p.id, p.base_url) for p in found.providers] == [
        ("openai", "qwen3.7-plus", "https://coding.dashscope.aliyuncs.com/v1"),
        ("openai", "my-model", "https://gw.example/v1"),
    ]
    assert found.env == {"BAILIAN_CODING_PLAN_API_KEY": "sk-sp-plain"}
    assert (found.selected_type, found.model) == ("openai", "my-model")
    assert found.usage_statistics is False
    selected = found.selected_provider()
    assert selected is not None and selected.id == "my-model"
    assert selected.key_variable() == qcs.custom_env_key("openai", "https://gw.example/v1")
    assert found.providers[0].key_variable() == "BAILIAN_CODING_PLAN_API_KEY"


@pytest.mark.parametrize(
    "content, warning",
    [
        (b'{"a": 1 "b": 2}', ":1:9: "),
        (b"\xff\xfe", "not valid UTF-8"),
        (b"[1, 2]", "not a JSON object"),
    ],
)
def test_a_broken_file_is_a_warning_not_a_failure(tmp_path, content, warning):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    found = qcs.load(path, {})
    assert found is not None and found.providers == [] and len(found.warnings) == 1
    assert warning in found.warnings[0] and str(path) in found.warnings[0]


def test_no_file_is_none(tmp_path):
    assert qcs.load(tmp_path / "settings.json", {}) is None


def test_selected_type_qwen_oauth_selects_no_provider(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps(
            {
                "security": {"auth": {"selectedType": "qwen-oauth"}},
                "modelProviders": {"openai": [{"id": "m", "baseUrl": "https://h"}]},
                "model": {"name": "m"},
            }
        )
    )
    found = qcs.load(path, {})
    assert found is not None and found.selected_type == "qwen-oauth" and found.selected_provider() is None
