"""The provider adapter: `stream()` yields typed events, `list_models()` lists model ids, on every protocol.

Contract: events are TextDelta / ReasoningDelta as they arrive, then at most one Usage, then one Finish.
A failure raises a QwenError. Nothing is retried once the first event has been yielded. The wire format
(OpenAI chat completions, Anthropic Messages, Gemini) is `credentials.protocol`'s module in protocols/; the
transport, retries, limits, SSE parsing and error model here are the same for all of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from qwen_cli.errors import AuthError, NetworkError, QwenError, RequestError, ServerError
from qwen_cli.providers import failures, http, limits, protocols
from qwen_cli.providers.events import ChatRequest, Event, Finish, NetworkOptions, Usage
from qwen_cli.providers.sse import EventTooLarge, SSEEvent, SSEParser

if TYPE_CHECKING:
    from requests import Response

    from qwen_cli.auth.credentials import Credentials

Notify = Callable[[str], None]
Send = Callable[["Credentials"], "Response"]


def protocol_of(credentials: Credentials) -> ModuleType:
    return protocols.get(getattr(credentials, "protocol", None))


def chat_url(credentials: Credentials, request: ChatRequest | None = None) -> str:
    url: str = protocol_of(credentials).chat_url(credentials, request)
    return url


def request_body(credentials: Credentials, request: ChatRequest, usage_option: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = protocol_of(credentials).request_body(credentials, request, usage_option)
    return body


def response_error(response: Response, credentials: Credentials, url: str) -> QwenError:
    """An HTTP error in the protocol's own words: its error type decides the status where it names one."""
    status = protocol_of(credentials).error_status(_peek_json(response))
    return failures.response_error(response, credentials, url, status=status)


def stream(
    credentials: Credentials,
    request: ChatRequest,
    network: NetworkOptions | None = None,
    notify: Notify | None = None,
) -> Iterator[Event]:
    """POST /chat/completions and yield its events, streamed (SSE) or from one JSON body."""
    network = network or NetworkOptions()
    request_body(credentials, request)  # an option the protocol has no field for is refused before sending
    response, credentials = _open_chat(credentials, request, network, notify)
    model = request.model or credentials.model
    with response:
        if request.stream and _content_type(response) not in ("json", "html"):
            yield from _sse_events(response, credentials, network, model)
        else:
            if request.stream:  # a JSON or HTML answer to a stream request: read it as a whole, capped
                http.read_body(response, network, chat_url(credentials, request))
            yield from _json_events(response, credentials, model)


def list_models(
    credentials: Credentials, network: NetworkOptions | None = None, retries: int | None = None
) -> list[str]:
    """GET /models: the ids the provider offers, sorted."""
    network = network or NetworkOptions()
    protocol = protocol_of(credentials)
    url = protocol.models_url(credentials)

    def send(creds: Credentials) -> Response:
        http.check_transport(creds, network)
        headers = http.build_headers(creds, network, auth=protocol.protocol_headers(creds))
        return http.send("GET", url, headers=headers, network=network, retries=retries)

    response, credentials = _with_refresh(credentials, send)
    with response:
        if response.status_code >= 400:
            raise response_error(response, credentials, url)
        data = _parse_json(response, url, protocol.BASE_HINT)
    ids = protocol.model_ids(data)
    if ids is None:
        raise ServerError(f"{failures.host_of(url)} answered /models without a model list")
    return sorted({i for i in ids if isinstance(i, str) and i})


# -- opening the request -----------------------------------------------------------------------------


def _open_chat(
    credentials: Credentials, request: ChatRequest, network: NetworkOptions, notify: Notify | None
) -> tuple[Response, Credentials]:
    url = chat_url(credentials, request)
    protocol = protocol_of(credentials)
    usage_option = True

    def should_retry(response: Response) -> bool:
        if response.status_code != 429:
            return True
        data = _peek_json(response)
        message = failures.message_from_body(response.content or b"")
        return not failures.is_quota(message, failures.error_code(data))

    while True:

        def send(creds: Credentials, usage_option: bool = usage_option) -> Response:
            http.check_transport(creds, network)
            accept = "text/event-stream" if request.stream else "application/json"
            return http.send(
                "POST",
                url,
                headers=http.build_headers(creds, network, accept=accept, auth=protocol.protocol_headers(creds)),
                json_body=request_body(creds, request, usage_option),
                network=network,
                stream=request.stream,
                should_retry=should_retry,
                notify=notify,
            )

        response, credentials = _with_refresh(credentials, send)
        if response.status_code < 400:
            return response, credentials
        with response:
            status = response.status_code
            error = response_error(response, credentials, url)
            if usage_option and request.stream and status in (400, 422) and _mentions(response, "stream_options"):
                usage_option = False  # an older server that rejects stream_options: ask again without it
                continue
            if failures.is_missing_model(status, response.content):
                error = _model_not_found(credentials, request, network, error)
        raise error


def _with_refresh(credentials: Credentials, send: Send) -> tuple[Response, Credentials]:
    """Send; after a 401/403 refresh the credentials once (if they can be refreshed) and send once more."""
    response = send(credentials)
    if response.status_code not in (401, 403) or credentials.refresh is None:
        return response, credentials
    response.close()
    fresh = credentials.refresh()
    if fresh is None:
        raise AuthError(
            "the login was rejected and could not be refreshed",
            hint="Log in again with `qwen auth login`.",
        )
    return send(fresh), fresh


def _model_not_found(
    credentials: Credentials, request: ChatRequest, network: NetworkOptions, error: QwenError
) -> QwenError:
    model = request.model or credentials.model
    try:
        models = list_models(credentials, network, retries=0)
    except QwenError:
        return error
    if model in models:
        return error
    shown = ", ".join(models[:30]) + (f" (and {len(models) - 30} more)" if len(models) > 30 else "")
    return RequestError(
        f"model {model!r} was not found at {failures.host_of(credentials.base_url)}",
        hint=f"Available models: {shown}. Choose one with {request.model_choice}."
        if models
        else f"Choose another with {request.model_choice}.",
    )


def _mentions(response: Response, word: str) -> bool:
    return word in (response.content or b"").decode("utf-8", "replace")


def _content_type(response: Response) -> str:
    value: str = response.headers.get("Content-Type", "").lower()
    return "json" if "json" in value else "html" if "html" in value else value


def _peek_json(response: Response) -> Any:
    try:
        return json.loads(response.content or b"")
    except ValueError:
        return None


def _parse_json(response: Response, url: str, hint: str | None = None) -> Any:
    body = response.content or b""
    try:
        return json.loads(body)
    except ValueError:
        line = failures.first_line(body.decode("utf-8", "replace")) or "an empty body"
        raise ServerError(
            f"{failures.host_of(url)} answered HTTP {response.status_code} with something that is not JSON: "
            f"{failures._clip(line)}",
            hint=hint or protocols.get("openai").BASE_HINT,
        ) from None


# -- reading the answer ------------------------------------------------------------------------------


def _json_events(response: Response, credentials: Credentials, model: str | None) -> Iterator[Event]:
    protocol = protocol_of(credentials)
    data = _parse_json(response, chat_url(credentials), protocol.BASE_HINT)
    yield from protocol.json_events(data, credentials, model)


def _sse_events(
    response: Response, credentials: Credentials, network: NetworkOptions, model: str | None
) -> Iterator[Event]:
    import requests
    import urllib3

    url = chat_url(credentials)
    host = failures.host_of(url)
    protocol = protocol_of(credentials)
    decoder = protocol.Decoder(credentials, host)
    stream = _EventStream(response, network, host)
    finish_reason = None
    usage = None
    done = shown = False
    failure: QwenError | None = None
    try:
        for event in stream:
            if not event.complete:
                # The body ended before this event's blank line. Servers often omit the last one after
                # [DONE]; anything else unterminated was cut, unless the answer had finished already.
                done = done or event.data.strip() == "[DONE]"
                continue
            result = decoder.feed(event)
            if result is None:
                done = True
                break
            for item in result:
                if isinstance(item, Usage):
                    usage = item
                elif isinstance(item, Finish):
                    finish_reason = item.reason or finish_reason
                    model = item.model or model
                else:
                    shown = True
                    yield item
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        failure = failures.exception_error(exc, url, network)
    except failures.StreamTimeout as exc:
        failure = exc
    if not done and finish_reason is None:
        if failure is None and not stream.received:
            raise ServerError(f"{host} sent an empty response", hint="Try again; check the base URL if it persists.")
        if failure is None and stream.truncated:
            failure = NetworkError(f"{host} closed the connection in the middle of an event")
        elif failure is None:
            failure = NetworkError(f"the stream from {host} ended without {protocol.END_MARKER}")
        raise _cut_off(failure, shown)
    if usage is not None:
        yield usage
    yield Finish(finish_reason, model)
    if done:  # after the end marker: the connection can serve the next request once the body is read to its end
        http.finish_body(response, stream.chunks)


def _cut_off(error: QwenError, shown: bool) -> QwenError:
    if shown:
        hint = "The text so far is incomplete; try again."
        return NetworkError(f"the answer was cut off: {error.message}", hint=hint)
    if isinstance(error, failures.StreamTimeout):
        return error  # nothing was cut: nothing came, and its own hint says what to do
    return NetworkError(f"the answer was cut off: {error.message}", hint="No text had arrived yet; try again.")


class _EventStream:
    """The body as SSE events, within network.max_event_bytes and network.idle_timeout."""

    def __init__(self, response: Response, network: NetworkOptions, host: str) -> None:
        self.response = response
        self.network = network
        self.host = host
        self.parser = SSEParser(network.max_event_bytes)
        self.received = False
        self.chunks = http.iter_body(response)  # one generator: what is left of it after the end marker is drained

    @property
    def truncated(self) -> bool:
        return self.parser.truncated

    def __iter__(self) -> Iterator[SSEEvent]:
        idle = self.network.idle_timeout
        last_data = time.monotonic()
        try:
            for chunk in self.chunks:
                self.received = True
                for event in self.parser.feed(chunk):
                    yield event
                    if event.data.strip():
                        last_data = time.monotonic()
                if idle and time.monotonic() - last_data > idle:
                    raise failures.StreamTimeout(
                        f"{self.host} sent keep-alives but no data for {idle:g}s (network.idle_timeout)",
                        hint="The model may be stuck; try again, or raise network.idle_timeout for very slow models.",
                    )
            yield from self.parser.close()
        except EventTooLarge as exc:
            raise limits.too_large(self.host, exc.limit, "a stream event", "network.max_event_bytes") from None
