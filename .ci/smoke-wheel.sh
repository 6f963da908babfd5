#!/usr/bin/env bash
# Packaging smoke test: does `qwen` work when installed from its wheel, away from the checkout?
#
#   .ci/smoke-wheel.sh            (called by .ci/run; needs .venv from `make install`)
#
# 1. builds an sdist, then a wheel from that sdist (python -m build), so a file missing from the sdist fails here;
# 2. installs the wheel into a fresh venv (not editable);
# 3. from a temp directory outside the checkout, with HOME and QWEN_HOME in temp dirs and a scrubbed environment:
#    qwen / qwen-cli / python -m qwen_cli --version, qwen terms show --json (data files are in the wheel),
#    qwen ask against the loopback stub (text through a pipe and -o json), and the completion scripts in share/;
# 4. `pipx install .` into a temp PIPX_HOME, when pipx can be installed (SMOKE_PIPX=0 skips it).
# Everything lives under one temp dir, removed at the end (SMOKE_KEEP=1 keeps it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEV_PY=${DEV_PY:-$ROOT/.venv/bin/python}     # has `build`; serves the stub from tests/servers
BASE_PY=${SMOKE_PYTHON:-python3}              # makes the fresh venv
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qwen-smoke.XXXXXX")
STUB_PID=""

cleanup() {
  if [ -n "$STUB_PID" ]; then kill "$STUB_PID" 2>/dev/null || true; wait "$STUB_PID" 2>/dev/null || true; fi
  if [ "${SMOKE_KEEP:-0}" = 1 ]; then echo "smoke: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

step() { echo "== smoke: $*"; }
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
expect() { # expect WHAT ACTUAL WANTED
  [ "$2" = "$3" ] || fail "$1: got [$2], wanted [$3]"
}

[ -x "$DEV_PY" ] || fail "$DEV_PY missing: run \`make install\` first"
VERSION=$("$DEV_PY" -c "import re,sys; print(re.search(r'__version__ = \"(.+?)\"', open(sys.argv[1]).read()).group(1))" \
  "$ROOT/qwen_cli/__init__.py")

step "build sdist and wheel ($VERSION)"
"$DEV_PY" -m build --outdir "$WORK/dist" "$ROOT" >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; fail "build"; }
SDIST=$(ls "$WORK"/dist/*.tar.gz)
WHEEL=$(ls "$WORK"/dist/*.whl)
LISTING=$(tar tzf "$SDIST")
for f in completions/qwen.bash completions/_qwen completions/qwen.fish qwen_cli/data/providers.toml \
         qwen_cli/data/terms.toml setup.cfg README.md; do
  grep -q "/$f\$" <<<"$LISTING" || fail "sdist lacks $f"
done
echo "   $(basename "$SDIST"), $(basename "$WHEEL")"

step "install the wheel into a fresh venv"
"$BASE_PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --disable-pip-version-check "$WHEEL" >"$WORK/pip.log" 2>&1 \
  || { tail -30 "$WORK/pip.log"; fail "pip install $(basename "$WHEEL")"; }
BIN="$WORK/venv/bin"

mkdir -p "$WORK/outside" "$WORK/home"
cd "$WORK/outside"
# A scrubbed environment: no provider keys, proxies or QWEN_* from the caller; never the real ~/.qwen.
q() {
  env -i PATH="$BIN:/usr/bin:/bin" HOME="$WORK/home" QWEN_HOME="$WORK/home/.qwen" LANG=C.UTF-8 NO_COLOR=1 \
    TMPDIR="${TMPDIR:-/tmp}" "${@}"
}

LOCATION=$(q "$BIN/python" -c "import qwen_cli, os; print(os.path.dirname(qwen_cli.__file__))")
case "$LOCATION" in "$WORK/venv/"*) ;; *) fail "qwen_cli imported from $LOCATION, not the fresh venv";; esac
PIPSHOW=$("$BIN/python" -m pip show qwen-cli 2>/dev/null)
grep -qi "^Editable project location" <<<"$PIPSHOW" && fail "install is editable"

step "--version three ways"
expect "qwen --version" "$(q "$BIN/qwen" --version)" "qwen $VERSION"
expect "qwen-cli --version" "$(q "$BIN/qwen-cli" --version)" "qwen $VERSION"
expect "python -m qwen_cli --version" "$(q "$BIN/python" -m qwen_cli --version)" "qwen $VERSION"
q "$BIN/qwen" --help >/dev/null || fail "qwen --help"

step "qwen terms show --json (data files inside the wheel)"
q "$BIN/qwen" terms show --json >"$WORK/terms.json" || fail "qwen terms show --json exited $?"
q "$BIN/python" - "$WORK/terms.json" <<'PY' || fail "terms show --json output"
import json, sys
doc = json.load(open(sys.argv[1]))
methods = [row["method"] for row in doc["overview"]]
assert methods == ["qwen-oauth", "coding-plan", "api-key"], methods
assert "qwen.ai/termsservice" in json.dumps(doc), "Qwen's terms URL is missing"
PY
q "$BIN/qwen" terms show --provider openrouter >/dev/null || fail "qwen terms show --provider openrouter"

step "qwen ask against the loopback stub"
"$DEV_PY" "$ROOT/.ci/stub_server.py" "$WORK/stub-url" >/dev/null &
STUB_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/stub-url" ] && break; sleep 0.1; done
[ -s "$WORK/stub-url" ] || fail "the stub server did not start"
URL=$(cat "$WORK/stub-url")
API=(OPENAI_API_KEY=sk-smoke-test OPENAI_BASE_URL="$URL" OPENAI_MODEL=test-model)
expect "qwen ask (piped)" "$(echo "say hello" | q "${API[@]}" "$BIN/qwen" ask | cat)" "Hello from stub"
expect "qwen ask -o json" "$(q "${API[@]}" "$BIN/qwen" ask -o json "say hello" \
  | q "$BIN/python" -c "import json,sys; print(json.load(sys.stdin)['content'])")" "Hello from stub"
set +e
q "$BIN/qwen" ask "no credentials here" >/dev/null 2>"$WORK/noauth.err"
rc=$?
set -e
expect "qwen ask without credentials (exit code)" "$rc" "3"

step "completion scripts in the venv's share/"
for f in bash-completion/completions/qwen.bash zsh/site-functions/_qwen fish/vendor_completions.d/qwen.fish; do
  cmp -s "$WORK/venv/share/$f" "$ROOT/completions/$(basename "$f")" || fail "share/$f missing or different"
done
if command -v bash >/dev/null; then
  got=$(q bash -c "source '$WORK/venv/share/bash-completion/completions/qwen.bash'
    COMP_WORDS=(qwen auth login --provider open); COMP_CWORD=4; _qwen_completion qwen; echo \${COMPREPLY[*]}")
  expect "installed bash completion" "$got" "openai openrouter"
fi

[ -e "$WORK/home/.qwen" ] || [ -e "$WORK/home" ] || fail "temp HOME vanished"

if [ "${SMOKE_PIPX:-1}" = 1 ]; then
  step "pipx install . (pipx from PyPI into a temp venv)"
  "$BASE_PY" -m venv "$WORK/pipx-tool"
  if "$WORK/pipx-tool/bin/python" -m pip install --quiet --disable-pip-version-check pipx >"$WORK/pipx.log" 2>&1; then
    export PIPX_HOME="$WORK/pipx" PIPX_BIN_DIR="$WORK/pipx-bin" PIPX_MAN_DIR="$WORK/pipx-man"
    (cd "$ROOT" && "$WORK/pipx-tool/bin/pipx" install --python "$BASE_PY" . >"$WORK/pipx.log" 2>&1) \
      || { tail -30 "$WORK/pipx.log"; fail "pipx install ."; }
    expect "pipx: qwen --version" "$(q "$WORK/pipx-bin/qwen" --version)" "qwen $VERSION"
    expect "pipx: qwen-cli --version" "$(q "$WORK/pipx-bin/qwen-cli" --version)" "qwen $VERSION"
    q "$WORK/pipx-bin/qwen" terms show --json >/dev/null || fail "pipx: qwen terms show --json"
  else
    echo "   pipx could not be installed (offline?); skipped"
  fi
fi

echo "smoke: OK (wheel $(basename "$WHEEL"))"
