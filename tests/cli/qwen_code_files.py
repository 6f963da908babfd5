"""Qwen Code settings.json files as Qwen Code 0.24.4 writes them (facts §1 and §3: `providers/install.ts`
puts the key in plain text under `env`, the entry under `modelProviders.openai[]`, and `selectedType` and
`model.name`), with the comments and trailing commas a hand-edited file has."""

from __future__ import annotations

import json
from pathlib import Path

GW_MODEL = "gw-coder-1"
GW_KEY_VAR = "GW_PROXY_API_KEY"


def realistic(
    base_url: str,
    *,
    key: str | None = "sk-test-key",
    key_var: str | None = GW_KEY_VAR,
    model: str = GW_MODEL,
    extra_entries: str = "",
    privacy: str = "",
) -> str:
    """A user settings.json whose selected entry is a custom OpenAI-compatible provider at `base_url`."""
    env_key = f'"envKey": {json.dumps(key_var)},' if key_var else ""
    env = f"{json.dumps(key_var)}: {json.dumps(key)}," if key and key_var else ""
    return f"""{{
  "$version": 4,
  // Written by Qwen Code's /auth (Custom Provider), then edited by hand.
  "modelProviders": {{
    "openai": [
      {{
        "id": {json.dumps(model)},
        "name": "[Custom] {model}",
        "baseUrl": {json.dumps(base_url)},
        {env_key}
        "generationConfig": {{
          "extra_body": {{"enable_thinking": false}},
          "contextWindowSize": 131072, /* the gateway's limit */
          "modalities": {{"image": false,}},
        }},
      }},
      {extra_entries}
    ],
  }},
  "env": {{
    {env}
  }},
  "security": {{"auth": {{"selectedType": "openai",}},}},
  "model": {{"name": {json.dumps(model)}}},
  "ui": {{"theme": "GitHub"}},
  {privacy}
}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
