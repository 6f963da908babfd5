"""The OpenAI-compatible Batch API of one login: files and batches, through the adapter's transport.

Every request goes to the login's own base URL (already checked against where its key may go when the
login was resolved), with the same headers, proxy, CA, limits, retries and error model as `qwen ask`.
Creating a batch is never retried: a retry after a lost answer could start (and bill) the work twice.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from qwen_cli.errors import ServerError

if TYPE_CHECKING:
    from requests import Response

    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.providers.events import NetworkOptions

UPLOAD_NAME = "qwen-batch.jsonl"


class BatchAPI:
    def __init__(self, creds: Credentials, network: NetworkOptions) -> None:
        self.creds = creds
        self.network = network

    # -- files ------------------------------------------------------------------------------------------

    def upload(self, content: bytes) -> dict[str, Any]:
        """POST /files (multipart: purpose=batch and the file); the file object."""
        boundary = secrets.token_hex(16)
        body = _multipart(boundary, {"purpose": "batch"}, ("file", UPLOAD_NAME, "application/jsonl", content))
        return self._json("POST", "/files", data=body, content_type=f"multipart/form-data; boundary={boundary}")

    def content(self, file_id: str) -> bytes:
        """GET /files/{id}/content: the file's bytes (capped at network.max_response_bytes)."""
        response = self._send("GET", f"/files/{quote(file_id, safe='')}/content")
        with response:
            return response.content or b""

    # -- batches ----------------------------------------------------------------------------------------

    def create(self, input_file_id: str, endpoint: str, window: str, metadata: dict[str, str]) -> dict[str, Any]:
        body: dict[str, Any] = {"input_file_id": input_file_id, "endpoint": endpoint, "completion_window": window}
        if metadata:
            body["metadata"] = metadata
        return self._json("POST", "/batches", json_body=body, retries=0)

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        return self._json("GET", f"/batches/{quote(batch_id, safe='')}")

    def cancel(self, batch_id: str) -> dict[str, Any]:
        return self._json("POST", f"/batches/{quote(batch_id, safe='')}/cancel")

    def list(self, limit: int = 100) -> list[dict[str, Any]]:
        data = self._json("GET", f"/batches?limit={limit}")
        items = data.get("data")
        return [b for b in items if isinstance(b, dict)] if isinstance(items, list) else []

    # -- plumbing ---------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.creds.base_url.rstrip("/") + path

    def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        retries: int | None = None,
    ) -> Response:
        from qwen_cli.providers import http, openai_compat

        url = self._url(path)
        http.check_transport(self.creds, self.network)
        headers = http.build_headers(self.creds, self.network)
        if content_type:
            headers["Content-Type"] = content_type
        response = http.send(
            method, url, headers=headers, network=self.network, json_body=json_body, data=data, retries=retries
        )
        if response.status_code >= 300:
            with response:
                raise openai_compat.response_error(response, self.creds, url)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        from qwen_cli.providers.failures import host_of

        response = self._send(method, path, **kwargs)
        with response:
            try:
                data = json.loads(response.content or b"")
            except ValueError:
                data = None
        if not isinstance(data, dict):
            raise ServerError(
                f"{host_of(self._url(path))} answered {method} {path.split('?')[0]} with something that is not a "
                "JSON object",
                hint="Check that the base URL points at an OpenAI-compatible API with the Batch API (it usually "
                "ends in /v1).",
            )
        return data


def _multipart(boundary: str, fields: dict[str, str], file: tuple[str, str, str, bytes]) -> bytes:
    name, filename, kind, content = file
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {kind}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()
