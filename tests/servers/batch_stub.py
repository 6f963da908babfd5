"""A loopback OpenAI-compatible Batch API for tests (stdlib only), written from the public API reference:
files (upload with purpose=batch, list, content) and batches (create, retrieve, cancel, list).

    stub = BatchStub().start()           # url = http://127.0.0.1:PORT/v1, key "sk-batch-key"
    stub.fail = {"1": (400, "bad input")}  # custom_id -> the status and message of its line in the error file
    ...
    stub.stop()

A batch moves one step each time it is retrieved: validating -> in_progress -> finalizing -> completed
(`hold = True` keeps it in_progress; `outcome = "failed"` or `"expired"` ends it so instead). Cancelling
goes cancelling -> cancelled. When it ends with answers, the output file holds the 2xx lines and the
error file the failed ones, both in the REVERSE of the input order (the API promises no order). An
expired or cancelled batch answers only the first `answered_before_end` requests. Each answer is
"answer: " + the request's last user message. Every request is recorded in `stub.requests`.
"""

from __future__ import annotations

import json
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers.openai_stub import Headers, Recorded

KEY = "sk-batch-key"
STEPS = ("validating", "in_progress", "finalizing", "completed")


class BatchStub:
    def __init__(self) -> None:
        self.accept_tokens = {KEY}
        self.requests: list[Recorded] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.fail: dict[str, tuple[int, str]] = {}
        self.outcome = "completed"
        self.hold = False
        self.answered_before_end = 1
        self.create_status = 200  # another status answers POST /batches with that error
        self._lock = threading.Lock()
        self._count = 0
        self.server: ThreadingHTTPServer | None = None

    # -- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> BatchStub:
        stub = self

        class Handler(_Handler):
            owner = stub

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def _id(self, prefix: str) -> str:
        with self._lock:
            self._count += 1
            return f"{prefix}-{self._count:04d}"

    # -- files ------------------------------------------------------------------------------------------

    def upload(self, content: bytes, purpose: str, filename: str) -> dict[str, Any]:
        fid = self._id("file")
        self.files[fid] = {"content": content, "purpose": purpose, "filename": filename}
        return self._file(fid)

    def _file(self, fid: str) -> dict[str, Any]:
        f = self.files[fid]
        return {
            "id": fid,
            "object": "file",
            "bytes": len(f["content"]),
            "created_at": int(time.time()),
            "filename": f["filename"],
            "purpose": f["purpose"],
        }

    # -- batches ----------------------------------------------------------------------------------------

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        fid = body.get("input_file_id")
        if fid not in self.files or self.files[fid]["purpose"] != "batch":
            return 400, {"error": {"message": f"input_file_id {fid!r} is not a batch file", "type": "invalid_request"}}
        if body.get("completion_window") != "24h":
            return 400, {"error": {"message": "completion_window must be 24h", "type": "invalid_request"}}
        if body.get("endpoint") != "/v1/chat/completions":
            return 400, {"error": {"message": "unsupported endpoint", "type": "invalid_request"}}
        lines = [json.loads(x) for x in self.files[fid]["content"].decode().splitlines() if x.strip()]
        bid = self._id("batch")
        self.batches[bid] = {
            "id": bid,
            "object": "batch",
            "endpoint": body["endpoint"],
            "errors": None,
            "input_file_id": fid,
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(time.time()),
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
            "_lines": lines,
        }
        return 200, self._public(bid)

    def _public(self, bid: str) -> dict[str, Any]:
        return {k: v for k, v in self.batches[bid].items() if not k.startswith("_")}

    def advance(self, bid: str) -> None:
        batch = self.batches[bid]
        status = batch["status"]
        if status == "cancelling":
            self._finish(batch, "cancelled")
        elif status in STEPS[:-1] and not (self.hold and status == "in_progress"):
            following = STEPS[STEPS.index(status) + 1]
            if self.outcome == "failed" and status == "validating":
                batch["status"] = "failed"
                batch["errors"] = {
                    "object": "list",
                    "data": [
                        {"code": "invalid_model", "message": "model x-1 is not supported by the batch API", "line": 1}
                    ],
                }
            elif self.outcome == "expired" and following == "finalizing":
                self._finish(batch, "expired")
            elif following == "completed":
                self._finish(batch, "completed")
            else:
                batch["status"] = following

    def cancel(self, bid: str) -> None:
        batch = self.batches[bid]
        if batch["status"] in ("validating", "in_progress", "finalizing"):
            batch["status"] = "cancelling"

    def _finish(self, batch: dict[str, Any], status: str) -> None:
        lines = batch["_lines"]
        run = lines if status == "completed" else lines[: self.answered_before_end]
        good, bad = [], []
        for line in run:
            cid = line["custom_id"]
            if cid in self.fail:
                code, message = self.fail[cid]
                body = {"error": {"message": message, "type": "invalid_request_error"}}
                bad.append(_output_line(cid, code, body))
            else:
                good.append(_output_line(cid, 200, _answer(line["body"])))
        if status == "expired":  # the API's own way: an error-file line per request that never ran
            bad += [
                {
                    "id": f"req-{x['custom_id']}",
                    "custom_id": x["custom_id"],
                    "response": None,
                    "error": {
                        "code": "batch_expired",
                        "message": "This request could not be executed before the completion window expired.",
                    },
                }
                for x in lines[len(run) :][:1]
            ]
        batch["request_counts"] = {"total": len(lines), "completed": len(good), "failed": len(bad)}
        if good:
            batch["output_file_id"] = self.upload(_jsonl(reversed(good)), "batch_output", "output.jsonl")["id"]
        if bad:
            batch["error_file_id"] = self.upload(_jsonl(reversed(bad)), "batch_output", "errors.jsonl")["id"]
        batch["status"] = status


def _output_line(cid: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"req-{cid}",
        "custom_id": cid,
        "response": {"status_code": status, "request_id": f"r-{cid}", "body": body},
        "error": None,
    }


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    question = body["messages"][-1]["content"]
    return {
        "id": "chatcmpl-batch",
        "object": "chat.completion",
        "model": body.get("model"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"answer: {question}"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }


def _jsonl(items: Any) -> bytes:
    return "".join(json.dumps(i) + "\n" for i in items).encode()


class _Handler(BaseHTTPRequestHandler):
    owner: BatchStub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _record(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        rec = Recorded(self.command, self.path, Headers(self.headers.items()), body)
        self.owner.requests.append(rec)
        return rec

    def _reply(self, status: int, payload: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if raw is not None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self, rec: Recorded) -> bool:
        if rec.bearer in self.owner.accept_tokens or "*" in self.owner.accept_tokens:
            return True
        self._reply(401, {"error": {"message": "Invalid API key", "code": "invalid_api_key"}})
        return False

    def do_GET(self) -> None:
        rec = self._record()
        if not self._authorised(rec):
            return
        stub, path = self.owner, self.path.split("?")[0]
        parts = path.strip("/").split("/")
        if path == "/v1/models":  # what a login checks the key with
            self._reply(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})
        elif path == "/v1/files":
            self._reply(200, {"object": "list", "data": [stub._file(f) for f in stub.files]})
        elif len(parts) == 4 and parts[:2] == ["v1", "files"] and parts[3] == "content" and parts[2] in stub.files:
            self._reply(200, None, raw=stub.files[parts[2]]["content"])
        elif path == "/v1/batches":
            data = [stub._public(b) for b in reversed(list(stub.batches))]
            self._reply(200, {"object": "list", "data": data, "has_more": False})
        elif len(parts) == 3 and parts[:2] == ["v1", "batches"] and parts[2] in stub.batches:
            stub.advance(parts[2])
            self._reply(200, stub._public(parts[2]))
        else:
            self._reply(404, {"error": {"message": f"no route {path}", "type": "not_found"}})

    def do_POST(self) -> None:
        rec = self._record()
        if not self._authorised(rec):
            return
        stub, path = self.owner, self.path.split("?")[0]
        parts = path.strip("/").split("/")
        if path == "/v1/files":
            fields = _multipart(rec)
            if "file" not in fields or fields.get("purpose", (b"",))[0] != b"batch":
                self._reply(400, {"error": {"message": "purpose must be batch, with a file", "type": "invalid"}})
                return
            content, filename = fields["file"]
            self._reply(200, stub.upload(content, "batch", filename or "upload.jsonl"))
        elif path == "/v1/batches":
            if stub.create_status != 200:
                self._reply(stub.create_status, {"error": {"message": "batch creation is down", "type": "server"}})
                return
            self._reply(*stub.create(rec.json or {}))
        elif len(parts) == 4 and parts[:2] == ["v1", "batches"] and parts[3] == "cancel" and parts[2] in stub.batches:
            stub.cancel(parts[2])
            self._reply(200, stub._public(parts[2]))
        else:
            self._reply(404, {"error": {"message": f"no route {path}", "type": "not_found"}})


def _multipart(rec: Recorded) -> dict[str, tuple[bytes, str | None]]:
    """multipart/form-data fields: name -> (content, filename)."""
    head = f"Content-Type: {rec.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + rec.body)
    fields = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        fields[str(name)] = (part.get_payload(decode=True) or b"", part.get_filename())
    return fields
