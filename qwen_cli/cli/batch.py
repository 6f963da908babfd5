"""`qwen batch submit|status|results|cancel|list`: many prompts run by the provider's own Batch API.

The inputs and the template are `qwen ask --each`'s (qwen_cli/fanout/inputs.py), and so is the format of
the results (qwen_cli/fanout/lines.py) and their exit code (qwen_cli/fanout/severity.py); qwen_cli/batch/
holds the rest. A batch's record in $QWEN_HOME/batches/ names the login and base URL it was created with:
later commands send that login's key there and nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qwen_cli.cli.common import credentials_for, pass_app, profile_option, use_profile
from qwen_cli.cli.completers import batch_ids, template_names
from qwen_cli.cli.completers import models as complete_models
from qwen_cli.errors import ConfigError, ExitCode, Interrupted, QwenError, RequestError, ServerError, UsageError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.batch.api import BatchAPI
    from qwen_cli.batch.records import Record
    from qwen_cli.context import AppContext

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
_ID = click.argument("batch_id", metavar="[ID]", required=False, shell_complete=batch_ids)
# The server's fields `status --json` passes on (the rest of a batch object is the provider's bookkeeping).
_SHOWN = ("id", "status", "request_counts", "output_file_id", "error_file_id", "errors", "completion_window")


@click.group(name="batch")
def batch() -> None:
    """Hand many prompts to the provider's Batch API (about half price, answered within the window).

    The inputs and the results are those of `qwen ask --each`: one prompt per line (plain text, or a JSON
    object whose fields fill $name), one JSON line per input back, in input order. For OpenAI and
    Alibaba Cloud Model Studio (DashScope) API-key logins; each batch is recorded in $QWEN_HOME/batches/.

    \b
    Examples:
      qwen batch submit questions.txt 'Answer in one sentence: $input'
      qwen batch status --wait
      qwen batch results > answers.jsonl
    """


@batch.command()
@click.argument("input_file", metavar="IN.jsonl|-")
@click.argument("prompt", nargs=-1)
@click.option("-t", "--template", metavar="NAME", shell_complete=template_names, help="Use a saved template.")
@click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE", help="Fills $NAME (repeatable).")
@click.option("-s", "--system", metavar="TEXT", help="System prompt.")
@click.option("-m", "--model", metavar="MODEL", shell_complete=complete_models, help="Model id for every request.")
@click.option("--temperature", type=click.FloatRange(0, 2), help="Sampling temperature, 0 to 2.")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Upper bound on each answer's tokens.")
@click.option("--window", default="24h", show_default=True, help="The completion_window asked for.")
@click.option("--force", is_flag=True, help="Submit even where the catalogue doesn't know of a Batch API.")
@_JSON
@profile_option
@pass_app
def submit(
    app: AppContext,
    input_file: str,
    prompt: tuple[str, ...],
    template: str | None,
    params: tuple[tuple[str, str], ...],
    system: str | None,
    model: str | None,
    temperature: float | None,
    max_tokens: int | None,
    window: str,
    force: bool,
    as_json: bool,
) -> None:
    """Build one request per input line, upload them and start a batch; prints its id.

    Every line is read and filled before anything is sent (a missing field is a usage error naming the
    line). The batch id goes to stdout, so `id=$(qwen batch submit ...)` keeps it.

    \b
    Examples:
      qwen batch submit questions.txt 'Answer in one sentence: $input'
      qwen batch submit people.jsonl -t bio -p tone warm -m qwen-plus
      cut -f2 titles.tsv | qwen batch submit - 'In German: $input' --json
    """
    from qwen_cli.batch import build, records, support
    from qwen_cli.batch.api import BatchAPI
    from qwen_cli.fanout import inputs

    tpl = _template(app, template, prompt, params, system)
    options: dict[str, Any] = {**{k: tpl.options.get(k) for k in ("temperature", "top_p", "max_tokens", "seed")}}
    options.update({k: v for k, v in {"temperature": temperature, "max_tokens": max_tokens}.items() if v is not None})
    model = model or tpl.model
    if input_file == inputs.STDIN and app.stdin_isatty:
        raise UsageError("- reads the inputs from stdin, which is a terminal", hint="Pipe the lines in.")
    items = inputs.read(input_file, app.stdin, app.settings.get("input.max_bytes"), command="batch submit")
    inputs.fill(items, tpl, dict(params), inputs.where(input_file, "batch submit"))
    creds = credentials_for(app, model=model)
    support.check(creds, force)  # before anything leaves
    api = BatchAPI(creds, _network(app, creds))
    uploaded = api.upload(build.request_lines(items, creds, model, options))
    file_id = _text(uploaded.get("id"), "the uploaded file's id")
    created = api.create(file_id, build.ENDPOINT, window, {})
    record = records.Record(
        id=records.check_id(_text(created.get("id"), "the batch id"), given_by_user=False),
        method=creds.method,
        provider=creds.provider,
        profile=creds.profile,
        origin=creds.base_url,
        model=model or creds.model,
        input=input_file,
        input_file_id=file_id,
        total=len(items),
        ids=[item.id for item in items],
        status=str(created.get("status") or ""),
        request_counts=_counts(created),
    )
    records.save(app.settings.home, record)
    if as_json:
        _json(app, record.summary())
        return
    app.out.answer(record.id)
    app.out.info(f"Submitted {len(items)} requests to {_host(creds.base_url)}. Next: qwen batch status --wait")


@batch.command()
@_ID
@click.option("--wait", is_flag=True, help="Poll until the batch ends (every batch.poll_interval seconds).")
@_JSON
@pass_app
def status(app: AppContext, batch_id: str | None, wait: bool, as_json: bool) -> int:
    """Show a batch's status and request counts (the newest batch without an ID).

    With --wait it polls until the batch has ended, with a progress bar on a terminal; Ctrl-C stops
    waiting (exit 130) and leaves the batch running. The exit code is then 0 once it completed, 4 if it
    failed validation, 5 if it expired or was cancelled.

    \b
    Examples:
      qwen batch status
      qwen batch status batch_abc123 --json | jq .request_counts
      qwen batch status --wait && qwen batch results > answers.jsonl
    """
    from qwen_cli.batch import wait as waiting

    record, api = _open(app, batch_id)
    found = _refresh(app, record, api)
    if wait:
        found = _wait(app, record, api, found)
    if as_json:
        _json(app, {**{k: found.get(k) for k in _SHOWN}, "record": record.summary()})
    else:
        app.out.answer(f"{record.id}  {record.status}  {_progress(record)}")
    if wait and found.get("status") != "completed" and found.get("status") in waiting.ENDED:
        raise _ended(record, found)
    return int(ExitCode.OK)


@batch.command()
@_ID
@click.option("--json", "as_json", is_flag=True, help="Accepted like every subcommand's: the lines are JSON already.")
@pass_app
def results(app: AppContext, batch_id: str | None, as_json: bool) -> int:
    """Write a finished batch's answers: one `qwen ask --each` line per input, in input order.

    `{"index", "id", "ok", "content" | "error", "usage"}` on stdout; a request that failed (in the output
    or the error file, or never run before the batch expired) is `"ok": false` with its error. The exit
    code is 0 only if every input was answered, else the most severe failure's, as for `--each`.

    \b
    Examples:
      qwen batch results > answers.jsonl
      qwen batch results batch_abc123 | jq -r 'select(.ok) | .content'
    """
    from qwen_cli.batch import results as batch_results
    from qwen_cli.batch import wait as waiting

    record, api = _open(app, batch_id)
    found = _refresh(app, record, api)
    state = found.get("status")
    if state not in waiting.ENDED:
        raise UsageError(
            f"batch {record.id} is {state or 'in an unknown state'}: its results are not ready yet",
            hint=f"Wait for it: qwen batch status {record.id} --wait",
        )
    if state == "failed":
        raise _ended(record, found)
    file_ids = [found.get("output_file_id"), found.get("error_file_id")]
    files = [api.content(fid) for fid in file_ids if isinstance(fid, str) and fid]
    by_id = batch_results.by_custom_id(*files)
    out = batch_results.in_input_order(record, by_id, str(state), api.creds)
    for line in out:
        _json(app, line, pretty=False)
    if not record.in_ledger:
        _record_usage(app, record, api.creds, out, by_id)
    return _summary(app, out)


def _record_usage(app: AppContext, record: Record, creds: Credentials, out: list[dict], by_id: dict) -> None:
    """The batch's requests into the usage ledger, once: each one that ran (an input the batch never reached
    made no request), with the provider's token counts. The provider reports no time per request: 0 ms."""
    from qwen_cli.batch import records
    from qwen_cli.batch.build import custom_id
    from qwen_cli.errors import class_of
    from qwen_cli.providers.events import Usage
    from qwen_cli.usage import hook

    entries = []
    for index, line in enumerate(out):
        if custom_id(index) not in by_id:
            continue
        counts = line.get("usage") or {}
        usage = Usage(counts.get("prompt_tokens"), counts.get("completion_tokens"), counts.get("total_tokens"))
        status = "ok" if line["ok"] else class_of(str(line["error"]["type"])).__name__  # as a live request's
        entries.append(hook.record_of(app, creds, record.model, usage, status, 0))
    if entries and hook.record_all(app, entries):
        record.in_ledger = True
        records.save(app.settings.home, record)


@batch.command()
@_ID
@_JSON
@pass_app
def cancel(app: AppContext, batch_id: str | None, as_json: bool) -> None:
    """Ask the provider to cancel a batch (the newest without an ID); answers already done are kept.

    \b
    Examples:
      qwen batch cancel
      qwen batch cancel batch_abc123 --json
    """
    from qwen_cli.batch import records

    record, api = _open(app, batch_id)
    found = api.cancel(record.id)
    _remember(record, found)
    records.save(app.settings.home, record)
    if as_json:
        _json(app, {**{k: found.get(k) for k in _SHOWN}, "record": record.summary()})
        return
    app.out.answer(f"{record.id}  {record.status}  {_progress(record)}")
    app.out.info("Answers finished before the cancel are kept: qwen batch results, once it is cancelled.")


@batch.command(name="list")
@click.option("--refresh", is_flag=True, help="Ask the provider for each batch's current status first.")
@_JSON
@pass_app
def list_(app: AppContext, refresh: bool, as_json: bool) -> None:
    """The batches submitted from here, newest first (from $QWEN_HOME/batches/).

    \b
    Examples:
      qwen batch list
      qwen batch list --refresh --json | jq -r '.batches[].status'
    """
    from qwen_cli.batch import records

    found = records.all_records(app.settings.home)
    if refresh:
        for record in found:
            try:
                _refresh(app, record, _api_for(app, record))
            except QwenError as exc:
                app.out.warn(f"{record.id}: {exc.message}")
    if as_json:
        _json(app, {"batches": [r.summary() for r in found]})
        return
    if not found:
        app.out.info("No batches yet. Submit one with: qwen batch submit IN.jsonl 'PROMPT with $input'")
        return
    width = max(len("ID"), *(len(r.id) for r in found))
    done = max(len(_progress(r)) for r in found)
    app.out.answer(f"{'ID':<{width}}  {'STATUS':<11}  {'DONE':<{done}}  {'CREATED':<20}  PROVIDER")
    for r in found:
        created = r.summary()["created_at"]
        app.out.answer(f"{r.id:<{width}}  {r.status or '?':<11}  {_progress(r):<{done}}  {created:<20}  {r.provider}")


# -- the steps -------------------------------------------------------------------------------------------------


def _template(app: AppContext, name: str | None, prompt: tuple[str, ...], params: Any, system: str | None) -> Any:
    from qwen_cli.templates import Template

    if name:
        if prompt:
            raise UsageError("give either a prompt or -t NAME, not both", hint="The template holds the prompt.")
        from qwen_cli.cli.templates import use

        tpl = use(app, name)
        if system:
            tpl.system = system
        return tpl
    if params:
        raise UsageError("-p fills a template's parameters: use it with -t NAME", hint="See `qwen templates list`.")
    return Template(name="batch", path=Path("batch"), origin="user", prompt=" ".join(prompt).strip(), system=system)


def _open(app: AppContext, batch_id: str | None) -> tuple[Record, BatchAPI]:
    from qwen_cli.batch import records

    home = app.settings.home
    record = records.load(home, batch_id) if batch_id else records.newest(home)
    return record, _api_for(app, record)


def _api_for(app: AppContext, record: Record) -> BatchAPI:
    """The client for the login that created the batch, and only if it still points where the batch is."""
    from qwen_cli.auth.binding import normal
    from qwen_cli.batch.api import BatchAPI

    use_profile(app, record.profile or "default")
    creds = credentials_for(app, method=record.method, provider=record.provider)
    if normal(creds.base_url) != normal(record.origin):
        raise ConfigError(
            f"batch {record.id} was created at {_host(record.origin)}, but the {record.provider} login now points "
            f"at {_host(creds.base_url)}; nothing was sent",
            hint="Only the server that holds a batch can answer for it: point the login back at "
            f"{_host(record.origin)} (qwen auth status shows where it points).",
        )
    return BatchAPI(creds, _network(app, creds))


def _network(app: AppContext, creds: Credentials) -> Any:
    from qwen_cli.providers.events import NetworkOptions

    return NetworkOptions.from_settings(app.settings, creds.provider)


def _refresh(app: AppContext, record: Record, api: BatchAPI) -> dict[str, Any]:
    from qwen_cli.batch import records

    found = api.retrieve(record.id)
    _remember(record, found)
    records.save(app.settings.home, record)
    return found


def _remember(record: Record, found: dict[str, Any]) -> None:
    record.status = str(found.get("status") or record.status)
    record.request_counts = _counts(found) or record.request_counts


def _wait(app: AppContext, record: Record, api: BatchAPI, found: dict[str, Any]) -> dict[str, Any]:
    from qwen_cli.batch import wait as waiting

    if found.get("status") in waiting.ENDED:
        return found
    bar = waiting.Bar(lambda text: app.out._write(app.stderr, text)) if app.stderr_isatty else None
    try:
        return waiting.until_ended(
            lambda: _refresh(app, record, api),
            app.settings.get("batch.poll_interval"),
            app.settings.get("batch.wait_timeout"),
            bar or (lambda _batch: None),
        )
    except KeyboardInterrupt:
        raise Interrupted(
            f"stopped waiting: batch {record.id} is still {record.status or 'running'} on the provider",
            hint=f"`qwen batch status {record.id} --wait` waits again; `qwen batch cancel {record.id}` stops it.",
        ) from None
    finally:
        if bar is not None:
            bar.finish()


def _ended(record: Record, found: dict[str, Any]) -> QwenError:
    """The error of a batch that ended without completing: failed (validation: 4), expired or cancelled (5)."""
    state = found.get("status")
    if state == "failed":
        from qwen_cli.providers.failures import message_from_json

        errors = found.get("errors")
        reason = message_from_json(errors.get("data") if isinstance(errors, dict) else errors) or "no reason given"
        return RequestError(
            f"batch {record.id} failed validation, so none of its requests ran: {reason}",
            hint="Fix the inputs or the model and submit them again.",
        )
    return ServerError(
        f"batch {record.id} ended {state} ({_progress(record)})",
        hint=f"The answers it finished are in `qwen batch results {record.id}`; submit the rest again.",
    )


def _summary(app: AppContext, out: list[dict[str, Any]]) -> int:
    from qwen_cli.fanout import severity

    codes = [line["error"]["exit_code"] for line in out if not line["ok"]]
    if not codes:
        return int(ExitCode.OK)
    code = severity.most_severe(codes)
    tally = ", ".join(f"{codes.count(c)} exit {c}" for c in sorted(set(codes)))
    error = QwenError(
        f"{len(out) - len(codes)} of {len(out)} answered, {len(codes)} failed ({tally})",
        hint='Failed lines have "ok": false with the reason; submit those inputs again.',
    )
    error.exit_code = ExitCode(code)
    app.out.error(error)
    return code


# -- small helpers ---------------------------------------------------------------------------------------------


def _json(app: AppContext, payload: Any, pretty: bool = True) -> None:
    app.out.json(payload, pretty=pretty)  # server text is data: redacted and made terminal-safe there


def _counts(found: dict[str, Any]) -> dict[str, int]:
    counts = found.get("request_counts")
    if not isinstance(counts, dict):
        return {}
    return {k: v for k, v in counts.items() if k in ("total", "completed", "failed") and isinstance(v, int)}


def _progress(record: Record) -> str:
    c = record.request_counts
    total = c.get("total") or record.total
    return f"{c.get('completed', 0)}/{total} done, {c.get('failed', 0)} failed"


def _text(value: Any, what: str) -> str:
    if isinstance(value, str) and value:
        return value
    raise ServerError(f"the provider's answer has no {what}", hint="Check that the base URL serves the Batch API.")


def _host(url: str) -> str:
    from qwen_cli.providers.failures import host_of

    return host_of(url)
