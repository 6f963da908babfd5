"""Benchmarks for `qwen` against a local stub server, each figure beside floors measured in the same run.

    make bench                      # or: .venv/bin/python bench/run.py --runs 15

Floors: `python -c "import click"`, `python -c "import click, requests"` and `curl` to the stub.
Prints a table and saves JSON under bench/results/. Uses wall-clock medians (time.perf_counter).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.openai_stub import OpenAIStub, call, stream_reply  # noqa: E402

PY = sys.executable
QWEN = str(Path(PY).with_name("qwen")) if Path(PY).with_name("qwen").exists() else None


def qwen_cmd(*args: str) -> list[str]:
    return [QWEN, *args] if QWEN else [PY, "-m", "qwen_cli", *args]


def timed(cmd: list[str], env: dict, runs: int, stdout=subprocess.PIPE, setup=None) -> list[float]:
    times = []
    for _ in range(runs):
        if setup:
            setup()
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=stdout() if callable(stdout) else stdout,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode()}")
    return times


def peak_rss_mb(cmd: list[str], env: dict) -> float:
    """Peak RSS of one child, via a fresh helper whose only child is the measured command."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([PY, "-c", code, *cmd], env=env, capture_output=True, text=True, check=True).stdout
    kb = int(out.strip())
    return kb / 1024 if platform.system() != "Darwin" else kb / 1024 / 1024


def token_latencies(stub: OpenAIStub, env: dict, tokens: int, gap: float) -> list[float]:
    """Seconds from the server writing each token to the reader of qwen's stdout pipe seeing it."""
    sent: dict[int, float] = {}

    def reply(h, rec):
        out = h.begin_body(200, {"Content-Type": "text/event-stream"})
        for i in range(tokens):
            if i:
                time.sleep(gap)
            delta = {"choices": [{"index": 0, "delta": {"content": f"<{i}>"}, "finish_reason": None}]}
            sent[i] = time.monotonic()
            out.write(f"data: {json.dumps(delta)}\n\n".encode())
        out.write(b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
        out.finish()

    stub.script(call(reply))
    proc = subprocess.Popen(qwen_cmd("ask", "latency"), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    seen: dict[int, float] = {}
    buf = b""
    while True:
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        now = time.monotonic()
        buf += chunk
        while b">" in buf:
            head, _, buf = buf.partition(b">")
            index = int(head.rsplit(b"<", 1)[1])
            seen[index] = now
    proc.wait()
    return [seen[i] - sent[i] for i in sorted(seen) if i in sent]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per figure (at least 10 for the medians)")
    args = parser.parse_args()
    runs = max(10, args.runs)

    stub = OpenAIStub().start()
    work = Path(tempfile.mkdtemp(prefix="qwen-bench-"))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "QWEN_HOME": str(work / ".qwen"),
        "OPENAI_API_KEY": "sk-test-key",
        "OPENAI_BASE_URL": stub.url,
        "OPENAI_MODEL": "test-model",
        "NO_COLOR": "1",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    twenty = [f" t{i}" for i in range(20)]
    big = [f" w{i}" for i in range(2000)]

    def script(tokens):
        return lambda: stub.script(stream_reply(tokens))

    median = statistics.median
    results: dict[str, dict] = {}
    try:
        floor_click = median(timed([PY, "-c", "import click"], env, runs))
        floor_requests = median(timed([PY, "-c", "import click, requests"], env, runs))
        curl = shutil.which("curl")
        floor_curl = None
        if curl:
            body = json.dumps({"model": "test-model", "stream": True, "messages": [{"role": "user", "content": "q"}]})
            floor_curl = median(timed(
                [curl, "-sS", "-N", "-H", "Authorization: Bearer sk-test-key", "-H", "Content-Type: application/json",
                 "-d", body, stub.url + "/chat/completions"],
                env, runs, setup=script(twenty),
            ))

        version = median(timed(qwen_cmd("--version"), env, runs))
        one_shot = median(timed(qwen_cmd("ask", "q"), env, runs, setup=script(twenty)))
        out_file = work / "answer.txt"
        big_stream = median(timed(qwen_cmd("ask", "q"), env, runs, setup=script(big),
                                  stdout=lambda: open(out_file, "wb")))
        latencies = []
        for _ in range(max(3, runs // 5)):
            latencies += token_latencies(stub, env, 20, 0.020)
        stub.script(stream_reply(twenty))
        rss = peak_rss_mb(qwen_cmd("ask", "q"), env)
    finally:
        stub.stop()
        shutil.rmtree(work, ignore_errors=True)

    ms = 1000
    curl_floor = floor_curl or 0.0
    rows = [
        ("qwen --version", version * ms, f"import click {floor_click * ms:.0f} ms", "<= 1.5x floor",
         version <= 1.5 * floor_click),
        ("ask one-shot, 20 tokens, pipe", one_shot * ms,
         f"click+requests {floor_requests * ms:.0f} + curl {curl_floor * ms:.0f} ms", "<= 1.3x (sum)",
         one_shot <= 1.3 * (floor_requests + curl_floor)),
        ("ask 2,000-token stream to a file", big_stream * ms, f"click+requests {floor_requests * ms:.0f} ms",
         "<= floor + 150 ms", big_stream <= floor_requests + 0.150),
        ("per-token latency, 20 ms gaps (median)", median(latencies) * ms, "", "each <= 50 ms",
         max(latencies) <= 0.050),
        ("per-token latency, 20 ms gaps (max)", max(latencies) * ms, f"{len(latencies)} tokens", "", None),
        ("peak RSS of a one-shot (MB)", rss, "", "<= 40 MB", rss <= 40),
    ]
    print(f"qwen benchmarks: {runs} runs per figure, medians; python {platform.python_version()}, "
          f"{platform.system()} {platform.machine()}")
    print(f"{'figure':42} {'value':>10}  {'floor (same run)':38} {'target':18} ok")
    for name, value, floor, target, ok in rows:
        unit = "" if "MB" in name else " ms"
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:42} {value:>7.1f}{unit:3}  {floor:38} {target:18} {mark}")
        results[name] = {"value": round(value, 2), "floor": floor, "target": target, "ok": ok}
    results["_floors_ms"] = {
        "import click": round(floor_click * ms, 2),
        "import click, requests": round(floor_requests * ms, 2),
        "curl": round(curl_floor * ms, 2) if floor_curl else None,
    }
    results["_meta"] = {"runs": runs, "python": platform.python_version(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
                        "machine": platform.machine(), "system": platform.system()}
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
