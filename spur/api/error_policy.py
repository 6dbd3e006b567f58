"""The schema extension that gives every error a stable code.

Errors we raise on purpose (`SpurError`) keep their message and code. Syntax,
validation and variable errors become `BAD_USER_INPUT`. Anything else is a
bug: it is logged with the request id and the client sees only that id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError

from spur.api.errors import ErrorCode, SpurError

logger = logging.getLogger(__name__)


class ErrorPolicy(SchemaExtension):
    """Registered as a class, so each operation gets its own instance."""

    def __init__(self, *, execution_context: Any = None) -> None:
        super().__init__(execution_context=execution_context)
        self._rewritten: set[int] = set()

    def on_operation(self) -> Iterator[None]:
        yield
        self._rewrite(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result of a subscription, before it is sent on the socket."""
        self._rewrite(result)
        yield

    def _rewrite(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        # A subscription's last result may pass through both hooks.
        if not errors or id(result) in self._rewritten:
            return
        result.errors = [self._coded(error) for error in errors]
        self._rewritten.add(id(result))

    def _coded(self, error: GraphQLError) -> GraphQLError:
        original = _root_cause(error)
        if isinstance(original, CannotGetOperationTypeError):
            # An operationName the document does not define (sockets; HTTP
            # answers 400 before executing).
            reason = original.as_http_error_reason()
            return _with_code(error, reason, ErrorCode.BAD_USER_INPUT)
        if isinstance(original, SpurError):
            return _with_code(error, error.message, original.code, **original.details)
        if original is None:
            return _with_code(error, error.message, ErrorCode.BAD_USER_INPUT)
        request_id = _request_id(self.execution_context.context)
        logger.error(
            "unexpected error in %s (request %s)",
            self.execution_context.operation_name,
            request_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        message = f"Internal error. Reference: {request_id}."
        return _with_code(error, message, ErrorCode.INTERNAL, request_id=request_id)


def _root_cause(error: GraphQLError) -> Exception | None:
    """The exception behind an error; `None` for GraphQL's own (syntax, types).

    Variable coercion wraps a scalar's exception in a GraphQLError of its own,
    so the chain is followed to its end.
    """
    cause = error.original_error
    while isinstance(cause, GraphQLError):
        if cause.original_error is None:
            return None
        cause = cause.original_error
    return cause


def _with_code(
    error: GraphQLError, message: str, code: ErrorCode, **details: object
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": str(code), **details},
    )


def _request_id(context: object) -> str:
    return str(getattr(context, "request_id", "") or "unknown")
