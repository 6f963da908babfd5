"""The models a provider offers, and the one message for a model it doesn't offer (see auth/models.py):
kept here for chat's /model, which asks with the app it has."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qwen_cli.auth.models import not_offered

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials

__all__ = ["not_offered", "offered"]


def offered(app: Any, credentials: Credentials) -> list[str]:
    from qwen_cli.auth import models

    return models.offered(app.settings, credentials)
