"""Fuzzing with hypothesis: the SSE parser and stream reader, the settings loader, the credentials-file
readers and `.env` discovery. Every test counts the examples it ran into the survival figures."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qwen_cli.errors import AuthError, ConfigError, QwenError
from tests.conftest import FUZZ_PROFILE
from tests.helpers import invoke
from tests.survival.registry import CANARY_KEY, REGISTRY

# 300 examples (120 for the file-system one) in the full suite, a third of that in the fast one
# (`-m "not slow"`): the profile is tests/conftest.py's.
FUZZ = settings(
    settings.get_profile(FUZZ_PROFILE), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FUZZ_FS = settings(FUZZ, max_examples=FUZZ.max_examples * 2 // 5)


@pytest.fixture
def count(request):
    """count() once per example; the total goes to the figures as fuzz_examples_<test> and fuzz_examples_total."""
    seen = [0]

    def tick():
        seen[0] += 1

    yield tick
    name = request.node.name.removeprefix("test_")
    REGISTRY.set(f"fuzz_examples_{name}", seen[0])
    REGISTRY.add("fuzz_examples_total", seen[0])


# -- SSE ------------------------------------------------------------------------------------------------


class _Raw:
    chunked = False

    def __init__(self, chunks):
        self.chunks = list(chunks)

    def read1(self, n, decode_content=True):
        return self.chunks.pop(0) if self.chunks else b""


class _Response:
    def __init__(self, chunks):
        self.raw = _Raw(chunks)


def _credentials():
    from qwen_cli.auth.credentials import Credentials

    return Credentials("api-key", "custom", "http://127.0.0.1:9/v1", "m", token=CANARY_KEY)


def read_stream(chunks) -> tuple[str, list]:
    """Run bytes through the adapter's SSE reader exactly as a response body would arrive."""
    from qwen_cli.providers.events import NetworkOptions, TextDelta
    from qwen_cli.providers.openai_compat import _sse_events

    network = NetworkOptions(
        max_retries=0,
        connect_timeout=1,
        read_timeout=1,
        proxy=None,
        ca_bundle=None,
        allow_insecure_http=False,
        extra_headers={},
    )
    events = list(_sse_events(_Response(chunks), _credentials(), network, "m"))
    return "".join(e.text for e in events if isinstance(e, TextDelta)), events


def _chunk(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for p in points:
        if p > last:
            out.append(data[last:p])
            last = p
    out.append(data[last:])
    return [c for c in out if c]


def encode_stream(tokens, crlf, keepalive, split_data, done, bom) -> bytes:
    nl = "\r\n" if crlf else "\n"
    parts = ["\ufeff" if bom else ""]
    for i, tok in enumerate(tokens):
        if keepalive:
            parts.append(": keep-alive" + nl + nl)
        payload = json.dumps(
            {"choices": [{"index": 0, "delta": {"content": tok}, "finish_reason": None}]}, ensure_ascii=bool(i % 2)
        )
        if split_data and len(payload) > 2:
            parts.append("data: {" + nl + "data: " + payload[1:] + nl + nl)
        else:
            parts.append("data: " + payload + nl + nl)
    parts.append("data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) + nl + nl)
    if done:
        parts.append("data: [DONE]" + nl + nl)
    return "".join(parts).encode("utf-8")


@FUZZ
@given(
    tokens=st.lists(st.text(max_size=12), max_size=8),
    crlf=st.booleans(),
    keepalive=st.booleans(),
    split_data=st.booleans(),
    done=st.booleans(),
    bom=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
)
def test_any_chunking_of_a_valid_stream_gives_the_same_text(
    count, tokens, crlf, keepalive, split_data, done, bom, cuts
):
    count()
    data = encode_stream(tokens, crlf, keepalive, split_data, done, bom)
    whole, _ = read_stream([data])
    assert whole == "".join(tokens)
    pieces, _ = read_stream(_chunk(data, cuts))
    assert pieces == whole
    bytewise, _ = read_stream([data[i : i + 1] for i in range(len(data))]) if len(data) < 600 else (whole, None)
    assert bytewise == whole


SSE_PIECES = [
    b"data: ",
    b"data:",
    b"event: error\n",
    b"\n",
    b"\r\n",
    b"\r",
    b": ping\n",
    b"[DONE]",
    b"{",
    b"}",
    b'{"choices":[{"delta":{"content":"x"}}]}',
    b'{"error":{"message":"boom"}}',
    b'{"choices":',
    b'"finish_reason":"stop"',
    b"null",
    b"[]",
    b"\xff",
    b"\xe4\xb8",
    b"\xad",
    b"\x00",
    b"id: 1\n",
    b'{"choices":[{"index":0,"delta":{"content":null},"finish_reason":"length"}],"usage":{"total_tokens":"x"}}',
]
sse_garbage = st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from(SSE_PIECES), max_size=40).map(b"".join),
)


@FUZZ
@given(data=sse_garbage, cuts=st.lists(st.integers(min_value=0, max_value=2_000), max_size=20))
def test_arbitrary_bytes_raise_nothing_but_our_own_errors(count, data, cuts):
    from qwen_cli.providers.sse import SSEParser

    count()
    parser = SSEParser()
    for chunk in _chunk(data, cuts):
        parser.feed(chunk)  # the parser itself never raises
    parser.close()
    try:
        read_stream(_chunk(data, cuts))
    except QwenError as exc:
        assert exc.exit_code in (4, 5, 6, 7) and exc.message and "\n" not in exc.message.strip()
        assert CANARY_KEY not in exc.message


# -- settings -------------------------------------------------------------------------------------------

toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(max_size=20),
    st.datetimes(),
    st.dates(),
    st.times(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def _key_names():
    from qwen_cli.settings import KEYS

    return [k.name for k in KEYS] + ["providers", "providers.custom", "general", "auth.qwen_oauth", "nonsense.key"]


@st.composite
def config_documents(draw) -> bytes:
    kind = draw(st.sampled_from(["structured", "structured", "text", "bytes"]))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8")
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    import tomli_w

    doc: dict = {}
    for name in draw(st.lists(st.sampled_from(_key_names()), max_size=6)):
        node = doc
        parts = name.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = draw(toml_values)
    try:
        return tomli_w.dumps(doc).encode("utf-8")
    except (TypeError, ValueError):
        return b"[general]\nmodel = 1\n"


env_values = st.dictionaries(
    st.sampled_from(
        [
            "QWEN_NETWORK_MAX_RETRIES",
            "QWEN_NETWORK_READ_TIMEOUT",
            "QWEN_AUTH_METHOD",
            "QWEN_MODEL",
            "QWEN_PRIVACY_USAGE_STATISTICS",
            "QWEN_NETWORK_ALLOW_INSECURE_HTTP",
            "QWEN_AUTH_STORE",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    max_size=3,
)


@FUZZ
@given(user=config_documents(), project=st.one_of(st.none(), config_documents()), env=env_values)
def test_settings_loader_gives_a_value_or_a_config_error(count, isolated, user, project, env):
    from qwen_cli.settings import KEYS, Settings

    count()
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_bytes(user)
    project_file = isolated.work / ".qwen" / "config.toml"
    if project is None:
        project_file.unlink(missing_ok=True)
    else:
        project_file.parent.mkdir(exist_ok=True)
        project_file.write_bytes(project)
    environ = dict(os.environ, **env)
    try:
        loaded = Settings.load(env=environ, cwd=isolated.work)
        for key in KEYS:
            loaded.get(key.name)
            loaded.source(key.name)
        loaded.table("providers")
    except ConfigError as exc:
        assert exc.exit_code == 8 and exc.message
    result = invoke(["config", "get", "network.max_retries"], env=env)
    assert result.exit_code in (0, 8), result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    if result.exit_code == 8:
        assert result.stderr.startswith("Error: ")


@FUZZ
@given(key=st.sampled_from(_key_names()), value=st.text(max_size=30))
def test_config_set_takes_any_value_or_refuses_it_cleanly(count, isolated, key, value):
    count()
    assume("\x00" not in value and "internal error" not in value)  # a refused value is quoted back
    result = invoke(["config", "set", key, value])
    assert result.exit_code in (0, 2, 8), result.output
    assert "internal error" not in result.output
    if result.exit_code == 0:  # what was stored loads again
        assert invoke(["config", "show", "--json"]).exit_code == 0


# -- credentials files ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)
FIELD_NAMES = ["access_token", "refresh_token", "token_type", "resource_url", "expiry_date", "id_token"]


@st.composite
def creds_documents(draw) -> bytes:
    kind = draw(st.sampled_from(["near", "near", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=120))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    doc = {
        name: draw(st.one_of(json_values, st.just("x"), st.integers(min_value=0, max_value=2**41)))
        for name in draw(st.lists(st.sampled_from(FIELD_NAMES), unique=True))
    }
    text = json.dumps(doc)
    if draw(st.booleans()):
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]  # truncated
    return text.encode()


@FUZZ
@given(doc=creds_documents())
def test_oauth_creds_reader_gives_a_token_or_an_auth_error(count, isolated, doc):
    from qwen_cli.auth import token_store

    count()
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "oauth_creds.json").write_bytes(doc)
    try:
        token = token_store.read_token(isolated.qwen_home)
        assert token is not None and isinstance(token.access_token, str)
        token.needs_refresh()
    except AuthError as exc:
        assert exc.exit_code == 3 and "qwen auth login" in (exc.hint or "")
    result = invoke(["auth", "status", "--json"], env={"QWEN_AUTH_METHOD": "qwen-oauth"})
    assert result.exit_code in (0, 3), result.output
    assert "internal error" not in result.output


@FUZZ
@given(
    doc=config_documents(),
    plan=st.dictionaries(st.sampled_from(["key", "region", "model", "base_url", "store"]), toml_scalars, max_size=5),
)
def test_credentials_toml_reader_gives_an_entry_or_a_clean_error(count, isolated, doc, plan):
    import tomli_w

    count()
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    path = isolated.qwen_home / "credentials.toml"
    try:
        path.write_bytes(tomli_w.dumps({"coding-plan": plan, "api-key": {"openai": plan}}).encode())
    except (TypeError, ValueError):
        path.write_bytes(doc)
    for method in ("coding-plan", "api-key"):
        result = invoke(["auth", "status", "--json"], env={"QWEN_AUTH_METHOD": method, "QWEN_AUTH_PROVIDER": "openai"})
        assert result.exit_code in (0, 2, 3, 8), result.output
        assert "internal error" not in result.output
    path.write_bytes(doc)
    result = invoke(["auth", "status"], env={"QWEN_AUTH_METHOD": "coding-plan"})
    assert result.exit_code in (0, 2, 3, 8), result.output
    assert "internal error" not in result.output


# -- .env discovery -------------------------------------------------------------------------------------

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
# chmod 000 does not stop root, so as root the unreadable cases are made another way: a directory named
# .env, a dangling symlink, a symlink loop and a symlink to a directory. mode 000 stays in the mix, expected
# readable as root and skipped otherwise.
KINDS = [
    "absent",
    "absent",
    "absent",
    "file",
    "empty",
    "dir",
    "dangling",
    "loop",
    "link_file",
    "link_dir",
    "mode000",
    "not_utf8",
]


def _make(path: Path, kind: str, value: int, outside: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "file":
        path.write_text(f"# level {value}\nQWEN_NETWORK_MAX_RETRIES={value}\n")
    elif kind == "empty":
        path.write_text("")
    elif kind == "dir":
        path.mkdir()
        (path / "QWEN_NETWORK_MAX_RETRIES").write_text("99")
    elif kind == "dangling":
        path.symlink_to(outside / "missing" / ".env")
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "link_file":
        target = outside / f"target-{value}-{path.parent.name}.env"
        target.write_text(f"QWEN_NETWORK_MAX_RETRIES={value}\n")
        path.symlink_to(target)
    elif kind == "link_dir":
        path.symlink_to(outside)
    elif kind == "mode000":
        path.write_text(f"QWEN_NETWORK_MAX_RETRIES={value}\n")
        path.chmod(0)
    elif kind == "not_utf8":
        path.write_bytes(b"QWEN_MODEL=\xff\xfe\n\xc3(")


def _readable(kind: str) -> bool:
    return kind in ("file", "empty", "link_file", "not_utf8") or (kind == "mode000" and IS_ROOT)


def _carries_value(kind: str) -> bool:
    return kind in ("file", "link_file", "mode000")


@FUZZ_FS
@given(
    depth=st.integers(min_value=0, max_value=3),
    levels=st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(KINDS)), min_size=4, max_size=4),
    home_kinds=st.tuples(st.sampled_from(KINDS), st.sampled_from(KINDS)),
)
def test_dotenv_discovery_matches_qwen_code_0_24(count, isolated, depth, levels, home_kinds):
    from qwen_cli import paths
    from qwen_cli.settings import Settings

    count()
    base = Path(tempfile.mkdtemp(dir=isolated.tmp))
    try:
        outside = base / "outside"
        outside.mkdir()
        root = base / "tree"
        dirs = [root]
        for i in range(depth):
            dirs.append(dirs[-1] / f"d{i}")
        dirs[-1].mkdir(parents=True)
        cwd = dirs[-1]
        home = base / "home"
        qwen_home = home / ".qwen"
        qwen_home.mkdir(parents=True)
        candidates = []  # (path, kind, value) in discovery order
        for value, directory in reversed(list(enumerate(dirs))):
            qkind, kind = levels[value]
            candidates.append((directory / ".qwen" / ".env", qkind, value))
            candidates.append((directory / ".env", kind, value))
        candidates.append((qwen_home / ".env", home_kinds[0], 50))
        candidates.append((home / ".env", home_kinds[1], 60))
        for path, kind, value in candidates:
            if kind != "absent":
                _make(path, kind, value, outside)
        assume(not any((p / ".env").exists() or (p / ".qwen" / ".env").exists() for p in base.parents))
        expected = next(((p, k, v) for p, k, v in candidates if _readable(k)), None)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_")}
        env.update(HOME=str(home), QWEN_HOME=str(qwen_home))
        found = paths.find_dotenv(cwd, qwen_home, env)
        assert found == (expected[0] if expected else None), (found, expected)
        # Qwen Code 0.24: the first project file found walking up, then $QWEN_HOME/.env and ~/.env, each
        # filling only what the earlier ones left unset.
        walk_hit = next(((p, k, v) for p, k, v in candidates if v < 50 and _readable(k)), None)
        in_play = [walk_hit] if walk_hit else []
        in_play += [(p, k, v) for p, k, v in candidates if v >= 50 and _readable(k)]
        assert paths.find_dotenv_files(cwd, qwen_home, env) == [p for p, _, _ in in_play]
        carrier = next((c for c in in_play if _carries_value(c[1])), None)
        loaded = Settings.load(env=env, cwd=cwd)
        if carrier:
            assert loaded.get("network.max_retries") == carrier[2]
            assert loaded.source("network.max_retries") == f".env:{carrier[0]}"
        else:
            assert loaded.source("network.max_retries") == "default"
    finally:
        for p in base.rglob("*"):
            if not p.is_symlink() and p.is_file():
                p.chmod(0o600)
        shutil.rmtree(base, ignore_errors=True)
    REGISTRY.set("dotenv_fuzz_running_as_root", IS_ROOT)
