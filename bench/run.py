"""Benchmarks for `qwen` against a local stub server, each figure beside floors measured in the same run.

    make bench                      # or: .venv/bin/python bench/run.py --runs 15

Floors: `python -c "import click"`, `python -c "import click, requests"` and `curl` to the stub, run in
the same rounds as qwen (one run of each per round, the order flipped every round), so the machine's load
at the time reaches both. The one-shot target is a ratio: qwen ask <= 1.15 x (import click, requests + curl).
qwen_cli is byte-compiled first. Prints a table and saves JSON under bench/results/. Wall-clock medians
(time.perf_counter).

The fan-out section (`--only-each` runs it alone, `--skip-each` leaves it out): 1,000 short prompts through
`qwen ask --each -P 16` against the stub answering each request after 50 ms, beside the ideal
(1,000 x 50 ms / 16) and beside `xargs -P 16 qwen ask` doing the same work (on fewer prompts, scaled up to
1,000, as one process per prompt makes it slow). Targets: <= 1.3 x the ideal, >= 5 x faster than xargs.
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

from tests.servers.anthropic_stub import AnthropicStub, message_stream  # noqa: E402
from tests.servers.gemini_stub import GeminiStub, gemini_stream  # noqa: E402
from tests.servers.openai_stub import OpenAIStub, call, stream_reply  # noqa: E402

PY = sys.executable
QWEN = str(Path(PY).with_name("qwen")) if Path(PY).with_name("qwen").exists() else None


def qwen_cmd(*args: str) -> list[str]:
    return [QWEN, *args] if QWEN else [PY, "-m", "qwen_cli", *args]


def run_once(cmd: list[str], env: dict, stdout=subprocess.PIPE, setup=None) -> float:
    """Wall-clock seconds of one run of `cmd`; a failing command ends the benchmark."""
    if setup:
        setup()
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, stdout=stdout() if callable(stdout) else stdout, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.decode()}")
    return elapsed


def interleaved(figures: dict[str, dict], env: dict, runs: int) -> dict[str, list[float]]:
    """Each round runs every figure once, floors and qwen alternating, and the order flips every round, so
    a load change on this shared machine reaches floors and qwen alike."""
    times: dict[str, list[float]] = {name: [] for name in figures}
    order = list(figures)
    for round_no in range(runs):
        for name in order if round_no % 2 == 0 else reversed(order):
            times[name].append(run_once(**{"env": env, **figures[name]}))
    return times


def compile_package() -> str:
    """Byte-compile the qwen_cli that PY imports, so qwen is measured as a wheel user gets it.

    With PYTHONDONTWRITEBYTECODE set (as on the machine this was written on) an editable install has no
    .pyc files, and every run would compile qwen's modules again.
    """
    where = subprocess.run(
        [PY, "-c", "import qwen_cli, os; print(os.path.dirname(qwen_cli.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run([PY, "-m", "compileall", "-q", where], check=True, stdout=subprocess.DEVNULL)
    return where


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
    proc = subprocess.Popen(
        qwen_cmd("ask", "latency"), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
    )
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


ONE_SHOT_RATIO = 1.15  # qwen ask / (python -c "import click, requests" + curl), issue 13


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="rounds: one run of each figure per round (at least 15)")
    parser.add_argument("--only-each", action="store_true", help="run only the --each fan-out section")
    parser.add_argument("--skip-each", action="store_true", help="leave the --each fan-out section out")
    args = parser.parse_args()
    runs = max(15, args.runs)
    if args.only_each:
        compile_package()
        fanout_section()
        return

    compiled = compile_package()
    stub = OpenAIStub().start()
    anthropic = AnthropicStub().start()
    gemini = GeminiStub().start()
    work = Path(tempfile.mkdtemp(prefix="qwen-bench-"))
    (work / ".qwen").mkdir(mode=0o700)
    # The gemini figure alone needs a config file (its base URL); its own QWEN_HOME keeps the other figures
    # from paying for reading it.
    gemini_home = work / ".qwen-gemini"
    gemini_home.mkdir(mode=0o700)
    (gemini_home / "config.toml").write_text(f'[providers.gemini]\nbase_url = "{gemini.url}"\n')
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
    out_file = work / "answer.txt"
    # The native protocols, selected by their own variables (no OpenAI ones, which would come first).
    plain = {k: v for k, v in env.items() if not k.startswith("OPENAI_")}
    anthropic_env = {
        **plain,
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_MODEL": "claude-test",
        "ANTHROPIC_BASE_URL": anthropic.url,
    }
    gemini_env = {
        **plain,
        "QWEN_HOME": str(gemini_home),
        "GEMINI_API_KEY": "gm-test-key",
        "GEMINI_MODEL": "gemini-test",
    }

    def script(tokens):
        return lambda: stub.script(stream_reply(tokens))

    figures: dict[str, dict] = {
        "import click": {"cmd": [PY, "-c", "import click"]},
        "--version": {"cmd": qwen_cmd("--version")},
        "--help": {"cmd": qwen_cmd("--help")},
        "import click, requests": {"cmd": [PY, "-c", "import click, requests"]},
        "ask": {"cmd": qwen_cmd("ask", "q"), "setup": script(twenty)},
        "stream": {"cmd": qwen_cmd("ask", "q"), "setup": script(big), "stdout": lambda: open(out_file, "wb")},
        "stream anthropic": {
            "cmd": qwen_cmd("ask", "q"),
            "env": anthropic_env,
            "setup": lambda: anthropic.script(message_stream(big)),
            "stdout": lambda: open(out_file, "wb"),
        },
        "stream gemini": {
            "cmd": qwen_cmd("ask", "q"),
            "env": gemini_env,
            "setup": lambda: gemini.script(gemini_stream(big)),
            "stdout": lambda: open(out_file, "wb"),
        },
    }
    curl = shutil.which("curl")
    if curl:
        body = json.dumps({"model": "test-model", "stream": True, "messages": [{"role": "user", "content": "q"}]})
        figures["curl"] = {
            "cmd": [
                curl,
                "-sS",
                "-N",
                "-H",
                "Authorization: Bearer sk-test-key",
                "-H",
                "Content-Type: application/json",
                "-d",
                body,
                stub.url + "/chat/completions",
            ],
            "setup": script(twenty),
        }

    median = statistics.median
    results: dict[str, dict] = {}
    try:
        times = interleaved(figures, env, runs)
        latencies = []
        for _ in range(max(3, runs // 5)):
            latencies += token_latencies(stub, env, 20, 0.020)
        stub.script(stream_reply(twenty))
        rss = peak_rss_mb(qwen_cmd("ask", "q"), env)
    finally:
        stub.stop()
        anthropic.stop()
        gemini.stop()
        shutil.rmtree(work, ignore_errors=True)

    m = {name: median(values) for name, values in times.items()}
    floor_click, floor_requests, floor_curl = m["import click"], m["import click, requests"], m.get("curl", 0.0)
    floor_sum = floor_requests + floor_curl
    ratio = m["ask"] / floor_sum
    ms = 1000
    curl_text = f"curl {floor_curl * ms:.0f} ms" if curl else "no curl here"
    rows = [
        (
            "qwen --version",
            m["--version"] * ms,
            f"import click {floor_click * ms:.0f} ms",
            "<= 1.5x floor",
            m["--version"] <= 1.5 * floor_click,
        ),
        (
            "qwen --help",
            m["--help"] * ms,
            f"import click {floor_click * ms:.0f} ms",
            "<= 3.5x floor",
            m["--help"] <= 3.5 * floor_click,
        ),  # 3.2x when this figure was added (rich-click renders all of it)
        (
            "ask one-shot, 20 tokens, pipe",
            m["ask"] * ms,
            f"click+requests {floor_requests * ms:.0f} + {curl_text}",
            "ratio, next line",
            None,
        ),
        (
            "  one-shot / (click+requests + curl)",
            ratio,
            f"sum {floor_sum * ms:.0f} ms",
            f"<= {ONE_SHOT_RATIO}",
            ratio <= ONE_SHOT_RATIO,
        ),
        (
            "ask 2,000-token stream to a file",
            m["stream"] * ms,
            f"click+requests {floor_requests * ms:.0f} ms",
            "<= floor + 150 ms",
            m["stream"] <= floor_requests + 0.150,
        ),
        *(
            (
                f"  the same, {protocol} protocol",
                m[f"stream {protocol}"] * ms,
                f"openai {m['stream'] * ms:.0f} ms",
                "<= floor + 150 ms",
                m[f"stream {protocol}"] <= floor_requests + 0.150,
            )
            for protocol in ("anthropic", "gemini")
        ),
        (
            "per-token latency, 20 ms gaps (median)",
            median(latencies) * ms,
            "",
            "each <= 50 ms",
            max(latencies) <= 0.050,
        ),
        ("per-token latency, 20 ms gaps (max)", max(latencies) * ms, f"{len(latencies)} tokens", "", None),
        ("peak RSS of a one-shot (MB)", rss, "", "<= 40 MB", rss <= 40),
    ]
    print(
        f"qwen benchmarks: {runs} interleaved rounds (each figure once per round, floors and qwen alternating, "
        f"order flipped every round), medians; python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )
    print(f"bytecode: compiled {compiled} first (compileall), as a wheel install has it")
    print(f"{'figure':42} {'value':>10}  {'floor (same run)':38} {'target':18} ok")
    for name, value, floor, target, ok in rows:
        unit = " MB" if "MB" in name else ("" if "/" in name else " ms")
        mark = "" if ok is None else ("PASS" if ok else "FAIL")
        shown = f"{value:>8.3f}" if "/" in name else f"{value:>7.1f}"
        print(f"{name:42} {shown}{unit:3}  {floor:38} {target:18} {mark}")
        results[name] = {"value": round(value, 3), "floor": floor, "target": target, "ok": ok}
    results["_floors_ms"] = {
        "import click": round(floor_click * ms, 2),
        "import click, requests": round(floor_requests * ms, 2),
        "curl": round(floor_curl * ms, 2) if curl else None,
    }
    results["_runs_ms"] = {name: [round(t * ms, 2) for t in values] for name, values in times.items()}
    results["_meta"] = {
        "runs": runs,
        "interleaved": True,
        "compiled": compiled,
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": platform.machine(),
        "system": platform.system(),
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {path.relative_to(ROOT)}")
    if not args.skip_each:
        fanout_section()


EACH_PROMPTS = 1000
EACH_PARALLEL = 16
EACH_LATENCY = 0.050
EACH_RUNS = 3  # the median of these is the figure: the machine may be shared
XARGS_PROMPTS = 160  # one process per prompt: scaled to EACH_PROMPTS
EACH_RATIO = 1.3
XARGS_SPEEDUP = 5.0


def fanout_section() -> None:
    """`ask --each -P 16` on 1,000 prompts with 50 ms per request, beside the ideal and the xargs recipe."""

    def children_cpu() -> float:
        times = os.times()
        return times.children_user + times.children_system

    stub = OpenAIStub()
    stub.nodelay = True  # a real server's answer is not held back by Nagle's algorithm either
    stub.latency = EACH_LATENCY
    stub.start()
    work = Path(tempfile.mkdtemp(prefix="qwen-bench-each-"))
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
    prompts = work / "prompts.txt"
    prompts.write_text("".join(f"short question {i}\n" for i in range(EACH_PROMPTS)))
    few = work / "few.txt"
    few.write_text("".join(f"short question {i}\n" for i in range(XARGS_PROMPTS)))
    each_cmd = qwen_cmd("ask", "--each", str(prompts), "-P", str(EACH_PARALLEL), "Answer: $input")
    runs: list[dict] = []  # wall s, CPU s, TCP connections and load average of each --each run
    try:
        for _ in range(EACH_RUNS):
            served, connections, cpu_before = len(stub.chat_requests), stub.connections, children_cpu()
            wall = run_once(each_cmd, env)
            runs.append(
                {
                    "wall_s": round(wall, 3),
                    "cpu_s": round(children_cpu() - cpu_before, 3),
                    "served": len(stub.chat_requests) - served,
                    "connections": stub.connections - connections,
                    "loadavg": os.getloadavg()[0],
                }
            )
        xargs = shutil.which("xargs")
        if xargs:
            with open(few, "rb") as lines:
                start = time.perf_counter()
                proc = subprocess.run(
                    [xargs, "-d", "\n", "-P", str(EACH_PARALLEL), "-n", "1", *qwen_cmd("ask")],
                    stdin=lines,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env=env,
                )
                xargs_time = (time.perf_counter() - start) * EACH_PROMPTS / XARGS_PROMPTS
            if proc.returncode != 0:
                raise SystemExit(f"the xargs recipe failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    finally:
        stub.stop()
        shutil.rmtree(work, ignore_errors=True)
    ideal = EACH_PROMPTS * EACH_LATENCY / EACH_PARALLEL
    each = statistics.median(run["wall_s"] for run in runs)
    cpu = statistics.median(run["cpu_s"] for run in runs)
    print()
    print(
        f"fan-out: {EACH_PROMPTS} prompts, -P {EACH_PARALLEL}, {EACH_LATENCY * 1000:.0f} ms per request at the stub, "
        f"median of {EACH_RUNS} runs; {os.cpu_count()} CPUs"
    )
    for n, run in enumerate(runs, 1):
        print(
            f"  run {n}: {run['wall_s']:.2f} s, CPU {run['cpu_s']:.2f} s, {run['served']} requests on "
            f"{run['connections']} TCP connections, load average {run['loadavg']:.1f}"
        )
    print(f"{'ask --each wall time':42} {each:8.2f} s  ideal {ideal:.3f} s, ratio {each / ideal:.2f} (<= {EACH_RATIO})")
    print(f"{'  its CPU time (user + system)':42} {cpu:8.2f} s  ({cpu / EACH_PROMPTS * 1000:.2f} ms a prompt)")
    if xargs:
        print(
            f"{'xargs -P 16 qwen ask (scaled)':42} {xargs_time:8.2f} s  {XARGS_PROMPTS} prompts x "
            f"{EACH_PROMPTS / XARGS_PROMPTS:.2f}; --each is {xargs_time / each:.1f}x faster (>= {XARGS_SPEEDUP})"
        )
    results = {
        "prompts": EACH_PROMPTS,
        "parallel": EACH_PARALLEL,
        "latency_ms": EACH_LATENCY * 1000,
        "each_s": round(each, 3),
        "ideal_s": round(ideal, 3),
        "ratio": round(each / ideal, 3),
        "ratio_ok": each / ideal <= EACH_RATIO,
        "each_cpu_s": round(cpu, 3),
        "each_cpu_ms_per_prompt": round(cpu / EACH_PROMPTS * 1000, 3),
        "runs": runs,
        "xargs_scaled_s": round(xargs_time, 3) if xargs else None,
        "xargs_prompts": XARGS_PROMPTS,
        "speedup": round(xargs_time / each, 2) if xargs else None,
        "speedup_ok": (xargs_time / each >= XARGS_SPEEDUP) if xargs else None,
        "loadavg": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-each-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
