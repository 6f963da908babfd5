"""`qwen ask --each`: read and fill every input, then answer them through the pool and say how it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_cli.errors import ExitCode, Interrupted, QwenError, UsageError
from qwen_cli.fanout import severity
from qwen_cli.fanout.inputs import STDIN, Item, fill, read, where

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.fanout.run import Outcome
    from qwen_cli.templates import Template

MAX_PARALLEL_KEY = "each.max_parallel"


@dataclass
class Each:
    """What `qwen ask --each` was asked to do: the inputs, the pool size and the request options."""

    source: str  # a file, or - for stdin
    parallel: int = 4
    resume: str | None = None
    words: tuple[str, ...] = ()  # the prompt arguments: the template when there is no -t
    template: Template | None = None
    params: dict[str, str] = field(default_factory=dict)
    system: str | None = None
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # temperature, top_p, max_tokens, seed
    stream: bool = True
    proxy: str | None = None
    conflicts: list[str] = field(default_factory=list)  # options given that --each can't combine


def run(app: AppContext, each: Each) -> int:
    """Answer every input; returns the exit code (0 only when every line was answered)."""
    _check(app, each)
    template = each.template or _prompt_template(each)
    items = read(each.source, app.stdin, app.settings.get("input.max_bytes"))
    fill(items, template, each.params, where(each.source))
    if each.resume:
        items = _not_answered(items, each.resume)
    if not items:
        return int(ExitCode.OK)
    outcome = _answer_all(app, each, items)
    return _report(app, outcome, len(items))


def _check(app: AppContext, each: Each) -> None:
    if each.conflicts:
        raise UsageError(
            f"--each can't be combined with {each.conflicts[0]}",
            hint="--each takes its inputs from the lines; every answer is a JSON line on stdout.",
        )
    cap = app.settings.get(MAX_PARALLEL_KEY)
    if not 1 <= each.parallel <= cap:
        raise UsageError(
            f"-P {each.parallel} is outside 1 to {cap} ({MAX_PARALLEL_KEY})",
            hint=f"Use -P 1 to -P {cap}, or raise the cap: qwen config set {MAX_PARALLEL_KEY} N",
        )
    if each.source == STDIN and app.stdin_isatty:
        raise UsageError("--each - reads the inputs from stdin, which is a terminal", hint="Pipe the lines in.")


def _prompt_template(each: Each) -> Template:
    from qwen_cli.templates import Template

    prompt = " ".join(each.words).strip()
    return Template(name="--each", path=Path("--each"), origin="user", prompt=prompt, system=each.system)


def _not_answered(items: list[Item], path: str) -> list[Item]:
    from qwen_cli.fanout.resume import answered_ids, key

    done = answered_ids(path)
    return [item for item in items if key(item.id) not in done]


def _answer_all(app: AppContext, each: Each, items: list[Item]) -> Outcome:
    from qwen_cli.cli.common import credentials_for
    from qwen_cli.fanout.gate import Gate, SharedRefresh
    from qwen_cli.fanout.run import Pool
    from qwen_cli.providers import http
    from qwen_cli.providers.events import NetworkOptions
    from qwen_cli.providers.transport import Reuse
    from qwen_cli.usage import hook

    shared = SharedRefresh(credentials_for(app, model=each.model))
    network = NetworkOptions.from_settings(app.settings, shared.current.provider)
    if each.proxy:
        network.proxy = each.proxy
    gate = Gate()
    records = hook.Batch(app)  # every request's ledger record, appended together from this thread
    bar = None
    if app.stderr_isatty:
        from qwen_cli.fanout.progress import Bar

        bar = Bar(app.stderr, len(items))

    def tick(outcome: Outcome) -> None:
        records.tick()
        if bar is not None:
            bar(outcome)

    pool = Pool(
        ask=lambda item: _ask_one(app, item, each, shared, network),
        write=lambda lines: _write(app, lines),
        parallel=each.parallel,
        on_stop=gate.release,
        progress=tick,
    )
    http.pacer, http.reuse, hook.batch = gate, Reuse(), records
    try:
        outcome = pool.run(items)
    finally:
        http.pacer = http.reuse = hook.batch = None
        records.close()
    if bar is not None:
        bar.finish(outcome)
    return outcome


def _ask_one(app: AppContext, item: Item, each: Each, shared: Any, network: Any) -> tuple[str, dict[str, Any] | None]:
    from qwen_cli.cli.ask import ask_messages
    from qwen_cli.providers.events import ChatRequest, TextDelta, Usage
    from qwen_cli.usage.hook import recorded_stream

    request = ChatRequest(
        messages=ask_messages(item.prompt, item.system), model=each.model, stream=each.stream, **each.options
    )
    parts: list[str] = []
    usage = None
    for event in recorded_stream(app, shared.current, request, network, notify=_quiet):
        if isinstance(event, TextDelta):
            parts.append(event.text)
        elif isinstance(event, Usage):
            usage = event.as_dict()
    return "".join(parts), usage


def _quiet(_note: str) -> None:
    """Retry notes are not printed during a fan-out: they would break the progress bar."""


def _write(app: AppContext, lines: list[dict[str, Any]]) -> None:
    app.out.json_lines(lines)  # every string redacted and made terminal-safe there


def _report(app: AppContext, outcome: Outcome, total: int) -> int:
    """The summary line on stderr, and the exit code: the most severe failure's (severity.py)."""
    counts = f"{outcome.answered} of {total} answered, {outcome.failed} failed"
    if outcome.not_sent:
        counts += f", {outcome.not_sent} not sent"
    counts += f" in {outcome.elapsed:.1f}s"
    if outcome.interrupted:
        app.out.error(Interrupted(f"interrupted: {counts}", hint=_resume_hint()))
        return int(ExitCode.INTERRUPTED)
    if outcome.stopped_by is not None:
        stop = outcome.stopped_by  # the provider's own words about the quota, and its hint
        error = _with_code(f"{stop.message}; stopped: {counts}", stop)
        error.hint = f"{stop.hint} Then run again with --resume OUT.jsonl." if stop.hint else error.hint
        app.out.error(error)
        return int(stop.exit_code)
    if outcome.failed:
        code = severity.most_severe(outcome.failure_codes)
        kinds = ", ".join(f"{n} exit {c}" for c, n in sorted(_tally(outcome.failure_codes).items()))
        app.out.error(_with_code(f"{counts} ({kinds})", None, code))
        return code
    return int(ExitCode.OK)


def _tally(codes: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for code in codes:
        out[code] = out.get(code, 0) + 1
    return out


def _with_code(message: str, like: QwenError | None, code: int | None = None) -> QwenError:
    error = QwenError(message, hint=_resume_hint())
    error.exit_code = ExitCode(code if code is not None else like.exit_code if like else ExitCode.INTERNAL)
    return error


def _resume_hint() -> str:
    return 'Failed lines have "ok": false; run again with --resume OUT.jsonl to ask only the inputs not answered.'
