"""The parts of `qwen ask` that depend on what the model can take: `--schema` and `-a` images.

`Shape` is the schema an answer must have. `before_send()` runs once the credentials are known and before
anything is sent: it refuses images for a model the catalogue says is text-only (and on the native
protocols), and asks for the schema as json_schema, or as JSON mode plus an instruction (on Anthropic's
protocol, which has no JSON mode, the instruction alone). The answer is checked against the schema on every
protocol. `print_checked()` prints an answer that passed the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.attachments import Attachment
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.context import AppContext
    from qwen_cli.output.answer import Answer
    from qwen_cli.providers.events import ChatRequest


@dataclass(frozen=True)
class Shape:
    schema: dict[str, Any]
    multi: bool = False

    @classmethod
    def from_options(cls, single: str | None, multi: str | None, base: Path) -> Shape | None:
        if single and multi:
            raise UsageError(
                "give --schema or --schema-multi, not both", hint="--schema-multi asks for a list of them."
            )
        if not (single or multi):
            return None
        from qwen_cli import schema

        return cls(schema.load(single or multi or "", base), multi=bool(multi))

    def check(self, text: str) -> Any:
        from qwen_cli import schema

        return schema.check(text, self.schema, self.multi)


def before_send(
    app: AppContext, shape: Shape | None, images: list[Attachment]
) -> Callable[[Credentials, ChatRequest], None]:
    def check(creds: Credentials, request: ChatRequest) -> None:
        from qwen_cli import catalogue

        model = request.model or creds.model
        if images and creds.protocol != "openai":  # image_url parts are the OpenAI protocol's
            raise UsageError(
                f"-a works with OpenAI-compatible providers only; this login speaks {creds.protocol}",
                hint="Use an OpenAI-compatible login for it (qwen auth switch), or leave it out.",
            )
        facts = catalogue.model_facts(app.settings, creds.provider, model)
        if images and facts.image_input is False:
            raise UsageError(
                f"model {model!r} does not take images ({facts.source or 'catalogue'}); nothing was sent",
                hint="Choose a vision model with -m MODEL (see `qwen models`), or describe the image in words.",
            )
        if shape is not None:
            from qwen_cli import schema

            native = creds.protocol == "openai" and facts.json_schema is True
            if creds.protocol == "openai":
                request.extra_body.update(schema.request_fields(shape.schema, shape.multi, json_schema=native))
            else:  # Gemini's JSON mode; the Anthropic Messages API has none, so the instruction alone asks
                request.json_answer = True
            if not native:
                request.messages = schema.with_instruction(
                    request.messages, schema.instruction(shape.schema, shape.multi)
                )

    return check


def print_checked(app: AppContext, result: Answer, value: Any) -> None:
    """A checked answer: one line of compact JSON, or the usual result object with it as `json`."""
    from qwen_cli.schema import compact

    line = compact(value)
    if app.output_format == "text":
        app.out.answer(line)
        return
    payload = {**result.result(), "content": line, "json": value}
    if app.output_format == "stream-json":
        payload = {"type": "result", **payload}
    app.out.json(payload, pretty=False)
