"""`--debug` logging to stderr. Every record passes through redaction and termsafe before it is written."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qwen_cli.context import AppContext


class RedactingFormatter(logging.Formatter):
    def __init__(self, app: AppContext) -> None:
        super().__init__("debug: %(name)s: %(message)s")
        self.app = app

    def format(self, record: logging.LogRecord) -> str:
        from qwen_cli.secrets import redact
        from qwen_cli.termsafe import clean

        return clean(redact(super().format(record), self.app.secrets))


def enable_debug_logging(app: AppContext) -> None:
    handler = logging.StreamHandler(app.stderr)
    handler.setFormatter(RedactingFormatter(app))
    logger = logging.getLogger("qwen_cli")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
