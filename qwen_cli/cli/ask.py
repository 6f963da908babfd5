"""`qwen ask`: one streamed answer, made for shell pipelines.

The command is three steps kept apart so `qwen ask -c/--continue` (the chat issue) can wrap them:
`read_prompt()` builds the user's turn, `ask_messages()` the message list, `answer()` sends and renders.
A continuation prepends the newest chat session's messages to `ask_messages()`'s result and, after
`answer()`, appends the new turn to that session.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

import click

from qwen_cli.cli.common import credentials_for, output_format_option, pass_app, profile_option
from qwen_cli.cli.completers import models as complete_models
from qwen_cli.cli.completers import template_names
from qwen_cli.errors import Interrupted, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.cli.ask_shape import Shape
    from qwen_cli.context import AppContext
    from qwen_cli.local_input import Budget
    from qwen_cli.output.answer import Answer
    from qwen_cli.providers.events import ChatRequest


@click.command(name="ask")
@click.argument("prompt", nargs=-1)
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    metavar="PATH",
    help="Attach a regular file's text (repeatable; -f - reads stdin).",
)
@click.option("-s", "--system", metavar="TEXT", help="System prompt.")
@click.option(
    "-m",
    "--model",
    metavar="MODEL",
    shell_complete=complete_models,
    help="Model id (default: your auth method's model).",
)
@click.option("--temperature", type=click.FloatRange(0, 2), help="Sampling temperature, 0 to 2.")
@click.option("--top-p", type=click.FloatRange(0, 1), help="Nucleus sampling, 0 to 1.")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Upper bound on the answer's tokens.")
@click.option("--seed", type=int, help="Seed, for providers that support reproducible sampling.")
@click.option("--stop", "stop", multiple=True, metavar="TEXT", help="Stop the answer at this text (repeatable).")
@click.option("--no-stream", is_flag=True, help="Wait for the whole answer instead of streaming it.")
@click.option("--usage", "show_usage", is_flag=True, help="Print token counts on stderr.")
@click.option("--show-reasoning", is_flag=True, help="Print the model's reasoning on stderr (hidden otherwise).")
@click.option("--raw", is_flag=True, help="Plain text even on a terminal: no markdown rendering.")
@click.option("--proxy", metavar="URL", help="Proxy for this request (overrides network.proxy and HTTPS_PROXY).")
@click.option("-c", "--continue", "continue_", is_flag=True, help="Add this turn to the newest `qwen chat` session.")
@click.option(
    "-a",
    "--attach",
    "attach",
    multiple=True,
    metavar="PATH|URL|-",
    help="Attach an image (png, jpeg, webp, gif; -a - reads stdin; https:// URLs are passed on). Repeatable.",
)
@click.option(
    "--schema",
    "schema_value",
    metavar="SCHEMA",
    help="Answer with JSON of this shape, printed as one line once it is valid (exit 9 if not). SCHEMA is a "
    "JSON Schema file, inline JSON, or the short form: FIELD [TYPE], comma-separated; TYPE is str (default), "
    "int, float, bool, list or list[int|float|bool|str]; a name ending in ? is optional. "
    "Example: --schema 'name, age int, tags list'.",
)
@click.option("--schema-multi", metavar="SCHEMA", help="Like --schema, for a JSON array of such items.")
@click.option("-t", "--template", metavar="NAME", shell_complete=template_names, help="Use a saved template.")
@click.option(
    "-p",
    "--param",
    "params",
    nargs=2,
    multiple=True,
    metavar="NAME VALUE",
    help="A template parameter: fills $NAME (repeatable).",
)
@click.option("--save", metavar="NAME", help="Save this command line as template NAME instead of asking.")
@click.option(
    "--each",
    metavar="FILE|-",
    help="One request per line of FILE (- for stdin): plain text fills $input, a JSON object's fields fill "
    "$name. Writes one JSON line per input, in input order.",
)
@click.option(
    "-P",
    "--parallel",
    type=int,
    default=4,
    show_default=True,
    help="With --each: requests in flight at once (at most each.max_parallel).",
)
@click.option("--resume", metavar="OUT.jsonl", help="With --each: skip the inputs answered ok in this earlier output.")
@output_format_option
@profile_option
@pass_app
def ask(
    app: AppContext,
    prompt: tuple[str, ...],
    files: tuple[str, ...],
    system: str | None,
    model: str | None,
    temperature: float | None,
    top_p: float | None,
    max_tokens: int | None,
    seed: int | None,
    stop: tuple[str, ...],
    no_stream: bool,
    show_usage: bool,
    show_reasoning: bool,
    raw: bool,
    proxy: str | None,
    continue_: bool,
    attach: tuple[str, ...],
    schema_value: str | None,
    schema_multi: str | None,
    template: str | None,
    params: tuple[tuple[str, str], ...],
    save: str | None,
    each: str | None,
    parallel: int,
    resume: str | None,
    output_format: str,
) -> int | None:
    """Ask one question and stream the answer to stdout.

    The prompt is the arguments. Piped stdin is added after it as context; with no arguments, stdin
    is the prompt. Answers are markdown on a terminal and plain text in a pipe, flushed as tokens arrive.

    \b
    Examples:
      qwen ask "what does the -z flag of tar do?"
      git diff --staged | qwen ask "write a commit message"
      qwen ask -f app.py -f test_app.py "why does the test fail?"
      qwen ask -m qwen3-coder-plus --max-tokens 200 "explain CRDTs"
      qwen ask -o json "one word for happy" | jq -r .content
      qwen ask -c "and in Go?"             # continue the newest chat session
      qwen ask --schema 'name, year int' "the first C compiler" | jq -r .name
      qwen ask -a photo.jpg "what is in this picture?"
      git diff | qwen ask -t review -p focus security
      qwen ask --each questions.txt -P 8 "Answer briefly: $input" > answers.jsonl
    """
    options: dict[str, Any] = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed}
    if save:
        if files or attach or continue_ or template:
            raise UsageError(
                "--save takes a prompt and options, not -f, -a, -c or -t", hint="Give them when you use it."
            )
        from qwen_cli.cli.templates import save_from_ask

        fields = {"system": system, "model": model, "options": options, "defaults": dict(params)}
        fields |= _saved_schema(app, schema_value, schema_multi)
        save_from_ask(app, save, prompt, fields)
        return None
    base = app.cwd
    if template:
        from qwen_cli.cli.templates import use

        tpl = use(app, template)
        system, model = system or tpl.system, model or tpl.model
        options = {k: tpl.options.get(k) if v is None else v for k, v in options.items()}
        if not (schema_value or schema_multi) and tpl.schema:
            schema_value, schema_multi, base = (
                (None, tpl.schema, tpl.path.parent) if tpl.schema_multi else (tpl.schema, None, tpl.path.parent)
            )
    elif params:
        raise UsageError("-p fills a template's parameters: use it with -t NAME", hint="See `qwen templates list`.")
    if each is not None:
        from qwen_cli.fanout.each import Each, run

        given = {"-f": files, "-a": attach, "-c": continue_, "--schema": schema_value or schema_multi}
        given |= {"-o": output_format != "text", "a prompt with -t": template and prompt}
        conflicts = [name for name, value in given.items() if value]
        found = tpl if template else None
        options |= {"stop": list(stop) or None}
        spec = Each(each, parallel, resume, prompt, found, dict(params), system, model, options, not no_stream, proxy)
        return run(app, dataclasses.replace(spec, conflicts=conflicts))
    if resume is not None:
        raise UsageError("--resume goes with --each", hint="qwen ask --each IN.jsonl --resume OUT.jsonl ...")
    shape = _shape(schema_value, schema_multi, base)
    images = _images(app, attach, files)
    if continue_ and images:
        raise UsageError("-a can't be added to a chat session (-c) yet", hint="Ask about the image without -c.")
    user_text = read_prompt(app, prompt, files, stdin_taken="-" in attach, required=not template)
    if template:
        system, user_text = tpl.fill(user_text, dict(params))
    messages = ask_messages(_with_images(user_text, images), system)
    thread = None
    if continue_:
        from qwen_cli.chat.continuation import Continuation

        thread = Continuation.newest(app.settings.home, app.out)
        thread.check_writable()  # before the request: an answer that can't be saved is not sent for
        messages = thread.messages(user_text, system, app.settings.get("chat.max_context_chars"))
    from qwen_cli.providers.events import ChatRequest

    request = ChatRequest(messages=messages, model=model, stop=list(stop) or None, stream=not no_stream, **options)
    result = answer(
        app,
        request,
        model=model,
        proxy=proxy,
        show_reasoning=show_reasoning,
        raw=raw,
        before_send=_before_send(app, shape, images),
        output_format="progress" if shape else None,
    )
    app.usage = result.usage
    if thread is not None and app.credentials is not None:  # answer() resolved them, or raised
        thread.record(app.credentials, user_text, result.text, result.cut, result.error)
    finish_notes(app, result, show_usage)
    result.raise_if_cut()
    if shape is not None:
        from qwen_cli.cli.ask_shape import print_checked

        print_checked(app, result, shape.check(result.text))
    return None


def _shape(single: str | None, multi: str | None, base: Path) -> Shape | None:
    if not (single or multi):
        return None  # plain `ask` imports none of it: its start-up is benchmarked
    from qwen_cli.cli.ask_shape import Shape

    return Shape.from_options(single, multi, base)


def _before_send(
    app: AppContext, shape: Shape | None, images: list
) -> Callable[[Credentials, ChatRequest], None] | None:
    if shape is None and not images:
        return None
    from qwen_cli.cli.ask_shape import before_send

    return before_send(app, shape, images)


def _saved_schema(app: AppContext, single: str | None, multi: str | None) -> dict[str, Any]:
    """--schema as a template keeps it: checked now, and a file's content rather than its path."""
    value = single or multi
    if not value:
        return {}
    from qwen_cli import schema

    loaded = schema.load(value, app.cwd)
    kept = value if value.lstrip().startswith("{") or not (app.cwd / value).is_file() else schema.compact(loaded)
    return {"schema": kept, "schema_multi": bool(multi)}


def _images(app: AppContext, attach: tuple[str, ...], files: tuple[str, ...]) -> list:
    if not attach:
        return []
    from qwen_cli import attachments

    if attach.count(attachments.STDIN) > 1 or (attachments.STDIN in attach and "-" in files):
        raise UsageError("stdin can be read only once: one of -a - and -f -", hint="Attach the other as a file.")
    cap = app.settings.get(attachments.SETTING)
    return [attachments.load(value, cap, app.stdin) for value in attach]


def _with_images(user_text: str, images: list) -> Any:
    if not images:
        return user_text
    from qwen_cli.attachments import with_images

    return with_images(user_text, images)


def read_prompt(
    app: AppContext,
    words: tuple[str, ...],
    files: tuple[str, ...] = (),
    stdin_taken: bool = False,
    required: bool = True,
) -> str:
    """The user's turn: arguments, then piped stdin as context, then attached files (`-f -` is stdin, in its
    place among them). All of it together is capped at input.max_bytes. Empty is a usage error when
    `required` (a template may need no input). `stdin_taken`: stdin is an image (-a -), not text."""
    from qwen_cli.local_input import STDIN, Budget

    if files.count(STDIN) > 1:
        raise UsageError("-f - (stdin) can be given only once", hint="Stdin can be read only once.")
    budget = Budget(app.settings.get("input.max_bytes"))
    parts = []
    prompt = " ".join(words).strip()
    if prompt:
        parts.append(prompt)
    if not app.stdin_isatty and STDIN not in files and not stdin_taken:
        piped = _read_stdin(app, budget)
        if piped.strip():
            parts.append(piped.rstrip("\n"))
    for path in files:
        parts.append(_attachment(app, path, budget))
    if not parts and required:
        raise UsageError(
            "nothing to ask: give a prompt as arguments or on stdin",
            hint='Example: qwen ask "explain this error"  or  some-command | qwen ask "explain"',
        )
    return "\n\n".join(parts)


def ask_messages(user_text: str | list[dict[str, Any]], system: str | None = None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user_text})
    return messages


def answer(
    app: AppContext,
    request: ChatRequest,
    *,
    model: str | None = None,
    proxy: str | None = None,
    show_reasoning: bool = False,
    raw: bool = False,
    before_send: Callable[[Credentials, ChatRequest], None] | None = None,
    output_format: str | None = None,
) -> Answer:
    """Resolve credentials and network options, send, and render. Returns the output.answer.Answer.
    `before_send(credentials, request)` may adjust the request or refuse it (raise) before anything is sent;
    `output_format="progress"` prints nothing on stdout (the caller prints the checked answer)."""
    import time

    from qwen_cli.providers.events import NetworkOptions
    from qwen_cli.usage.hook import recorded_stream

    started = time.monotonic()
    creds = credentials_for(app, model=model)
    if before_send is not None:
        before_send(creds, request)
    network = NetworkOptions.from_settings(app.settings, creds.provider)
    if proxy:
        network.proxy = proxy
    events = recorded_stream(app, creds, request, network)
    result = app.out.render(
        events,
        output_format=output_format,
        markdown=False if raw else None,
        show_reasoning=show_reasoning,
        model=request.model or creds.model,
        started=started,
        resolution=creds.resolution(),
    )
    if isinstance(result.error, KeyboardInterrupt) and app.output_format != "text":
        result.error = Interrupted("interrupted; the answer is incomplete")
    return result


def finish_notes(app: AppContext, result: Answer, show_usage: bool) -> None:
    """Lines after the answer, on stderr: why an answer stopped early, and usage when asked."""
    if result.error is not None:
        return
    from qwen_cli.output import messages

    stopped = messages.stopped_early(result.finish_reason)
    if stopped:
        app.out.warn(stopped)
    if show_usage:
        from qwen_cli.output.answer import usage_line

        app.out.info(usage_line(result.usage))


def _read_stdin(app: AppContext, budget: Budget) -> str:
    from qwen_cli.local_input import read_stream

    return _decode(app, read_stream(getattr(app.stdin, "buffer", app.stdin), budget), "stdin")


def _attachment(app: AppContext, path: str, budget: Budget) -> str:
    from qwen_cli.local_input import STDIN, read_file

    if path == STDIN:
        text, name = _read_stdin(app, budget), "stdin"
    else:
        text, name = _decode(app, read_file(path, budget), path), os.path.basename(path) or path
    fence = "````" if "```" in text else "```"
    return f"File: {name}\n{fence}\n{text.rstrip()}\n{fence}"


def _decode(app: AppContext, data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        app.out.warn(f"{where} is not valid UTF-8; undecodable bytes were replaced with U+FFFD")
        return data.decode("utf-8", "replace")
