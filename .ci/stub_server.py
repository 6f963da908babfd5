"""Serve the test suite's loopback OpenAI-compatible stub until SIGTERM or Ctrl-C.

    python .ci/stub_server.py [URL_FILE]

Prints the base URL ("http://127.0.0.1:PORT/v1") on stdout, and writes it to URL_FILE when one is given.
Any non-empty bearer token is accepted. Used by .ci/smoke-wheel.sh; handy for trying `qwen` offline too.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers.openai_stub import OpenAIStub  # noqa: E402


def main() -> int:
    stub = OpenAIStub(accept_tokens={"*"}).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if len(sys.argv) > 1:
            Path(sys.argv[1]).write_text(stub.url + "\n")
        print(stub.url, flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
