"""One error policy: stable codes for the client, details only in the log."""

from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"


class SpurError(Exception):
    """An error the client may see: a message and a stable `extensions.code`."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        # GraphQL errors copy `extensions` from the exception they wrap.
        self.extensions: dict[str, Any] = {"code": str(self.code), **details}


class Unauthenticated(SpurError):
    """No valid credentials came with the request."""

    code = ErrorCode.UNAUTHENTICATED


class Forbidden(SpurError):
    """The caller is known but may not do this."""

    code = ErrorCode.FORBIDDEN


class BadUserInput(SpurError):
    """The input is invalid; nothing was written."""

    code = ErrorCode.BAD_USER_INPUT


class NotFound(SpurError):
    """No such object in the caller's company (or one the caller may not see)."""

    code = ErrorCode.NOT_FOUND


class Conflict(SpurError):
    """The request clashes with the current state."""

    code = ErrorCode.CONFLICT


class RateLimited(SpurError):
    """Too many requests or subscriptions."""

    code = ErrorCode.RATE_LIMITED
