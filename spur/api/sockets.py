"""`graphql-transport-ws` sockets: auth expiry, limits, one outgoing queue each,
and live subscriptions handed to the fan-out hub.

Each socket writes through one bounded `Sink`. Every operation runs with a
fan-out `Ticket` in `spur.subscriptions.fanout.LIVE`; a live feed replays
through Strawberry as usual, then hands its operation over to the hub, whose
group sends the shared `next` frames. The operation stays registered here
(limits, duplicate ids, `complete`) without a task of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields, replace
from typing import TYPE_CHECKING, Any, Final

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema import Schema
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from spur.api.context import Context, Viewer
from spur.api.errors import RateLimited
from spur.resolvers.loaders import Loaders
from spur.subscriptions.fanout import LIVE, FanoutHub, Ticket
from spur.subscriptions.shape import document_shape
from spur.subscriptions.sink import DEFAULT_FRAMES, Sink

if TYPE_CHECKING:
    from collections.abc import Hashable

logger = logging.getLogger(__name__)

MISSING_TOKEN: Final = 4401
TOKEN_EXPIRED: Final = 4403
# RFC 6455 "Try Again Later": the graphql-ws client reconnects after it.
TRY_AGAIN_LATER: Final = 1013


class SocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's socket, inert once the server has closed it.

    `on_ws_connect` closes a token-less socket with 4401 and then rejects it,
    after which Strawberry closes it again (4403); operations still running
    when an expired token closes the socket send `next` or `complete`. On a
    closed socket both would raise and be logged as server faults, yet there
    is nothing left to do: the peer can receive nothing more.
    """

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.closed:
            return
        try:
            await super().send_json(message)
        except WebSocketDisconnected:
            # The peer vanished mid-send (no close frame); the receive loop
            # sees the same and ends the connection and its operations.
            logger.debug("dropped a message for a socket that went away")

    async def send_text(self, frame: str) -> None:
        """One pre-encoded text frame (the sink's writer sends these)."""
        if not self.closed:
            await self.ws.send_text(frame)

    async def close(self, code: int, reason: str) -> None:
        if not self.closed:
            await super().close(code, reason)

    @property
    def closed(self) -> bool:
        return self.ws.application_state is WebSocketState.DISCONNECTED


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """`graphql-transport-ws` with Spur's socket rules.

    The socket closes (4403) when its token expires: whatever runs on it was
    authorised by the token of `connection_init`. Everything it sends goes
    through one bounded queue; when the fan-out hub finds that queue full,
    the socket is closed with 1013 and its client resumes by cursor.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A timer, not a sleeping task: an idle socket then costs no task.
        self.expiry: asyncio.TimerHandle | None = None
        self.sink = Sink(self._send_frame, self._give_up, self._frame_limit())
        # Operations with a fan-out ticket, by id.
        self.tickets: dict[str, Ticket] = {}
        # Handed-over operations whose stream-end `complete` is not sent.
        self._quiet: set[str] = set()
        self._closing: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        viewer = self.context.viewer_or_none
        if self.connection_acknowledged and viewer and self.expiry is None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, viewer.token_expires_at - time.time())
            self.expiry = loop.call_later(delay, self._expired, viewer)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Refuse malformed messages and one operation too many, with codes.

        Each operation also gets fresh loaders: the socket's context lives for
        hours, and a loader keeps what it loaded (or failed to load) for good.
        """
        if not _well_formed(message):
            await self.handle_invalid_message("Invalid subscribe message")
            return
        if self._one_too_many(message):
            refusal = RateLimited("Too many operations on this socket.")
            error = GraphQLError(refusal.message, extensions=refusal.extensions)
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        self.context.loaders = LazyLoaders()
        await super().handle_subscribe(message)

    def _one_too_many(self, message: SubscribeMessage) -> bool:
        # Strawberry's own refusal carries no code; the checks it makes
        # first (acknowledged, a new id) keep their close codes.
        limit = self.max_subscriptions_per_connection
        return (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and limit is not None
            and len(self.operations) >= limit
        )

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Run as Strawberry does, with the operation's fan-out ticket set."""
        ticket = self._ticket(operation)
        if ticket is not None:
            self.tickets[operation.id] = ticket
        LIVE.set(ticket)
        try:
            await super().run_operation(operation)
        finally:
            if ticket is not None and not ticket.handed_over:
                self._drop_ticket(operation.id)
            if not self._others_running():
                # What the replay primed would otherwise stay for hours.
                self.context.loaders = LazyLoaders()

    def _others_running(self) -> bool:
        current = asyncio.current_task()
        return any(
            op.task is not None and not op.task.done() and op.task is not current
            for op in self.operations.values()
        )

    def forget_id(self, id: str) -> None:
        # Strawberry completes an operation whose stream ended; a handed-over
        # one lives on in its group, so it stays registered and quiet.
        ticket = self.tickets.get(id)
        if ticket is not None and ticket.handed_over:
            self._quiet.add(id)
            return
        super().forget_id(id)

    async def send_message(self, message: Message) -> None:
        operation_id = message.get("id")
        if message["type"] == "complete" and operation_id in self._quiet:
            self._quiet.discard(str(operation_id))
            return
        await self.sink.put(self.view.encode_json_string(message))

    async def cleanup_operation(self, operation_id: str) -> None:
        self._drop_ticket(operation_id)
        await super().cleanup_operation(operation_id)

    async def shutdown(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
        await super().shutdown()
        for operation_id in list(self.tickets):
            self._drop_ticket(operation_id)
        self.sink.kill()

    def _ticket(self, operation: Operation[Context, None]) -> Ticket | None:
        viewer = self.context.viewer_or_none
        hub: FanoutHub | None = getattr(self.view, "hub", None)
        if viewer is None or hub is None:
            return None
        return Ticket(
            hub=hub,
            sink=self.sink,
            operation_id=operation.id,
            document=operation.query,
            variables=operation.variables,
            operation_name=operation.operation_name,
            company_id=viewer.company_id,
            member_id=viewer.member_id,
            key=self._sharing_key(operation, viewer),
            context=lambda: replace(self.context, loaders=Loaders()),
            finish=self._finish,
        )

    def _sharing_key(
        self, operation: Operation[Context, None], viewer: Viewer
    ) -> Hashable:
        """What the payload depends on besides the event and its audience."""
        schema = self.schema
        assert isinstance(schema, Schema)
        shape = document_shape(schema._schema, operation.query)
        variables = {
            name: value
            for name, value in (operation.variables or {}).items()
            if name not in shape.cursor_variables
        }
        visibility: tuple[object, ...] = (
            viewer.company_id,
            viewer.role,
            viewer.language,
            viewer.timezone.key,
            viewer.currency,
            viewer.team_id,
            viewer.managed_team_ids,
        )
        if not shape.class_only:
            visibility += (viewer.member_id,)
        encoded = json.dumps(variables, sort_keys=True, default=str)
        return (operation.query, operation.operation_name, encoded, visibility)

    def _drop_ticket(self, operation_id: str) -> None:
        ticket = self.tickets.pop(operation_id, None)
        if ticket is not None:
            ticket.leave()

    def _finish(self, operation_id: str) -> None:
        """The hub ended a handed-over operation: complete it for the client."""
        self.tickets.pop(operation_id, None)
        self.operations.pop(operation_id, None)
        complete = {"id": operation_id, "type": "complete"}
        self.sink.offer(self.view.encode_json_string(complete))

    def _give_up(self) -> None:
        """The socket's queue overflowed or its feed was lost: close it, 1013."""
        hub: FanoutHub | None = getattr(self.view, "hub", None)
        if hub is not None:
            hub.counters.given_up += 1
        for operation_id in list(self.tickets):
            self._drop_ticket(operation_id)
        if self._closing is None:
            self._closing = asyncio.create_task(self._close_for_retry())

    async def _close_for_retry(self) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(TRY_AGAIN_LATER, "Try again later")

    async def _send_frame(self, frame: str) -> None:
        adapter = self.websocket
        assert isinstance(adapter, SocketAdapter)
        await adapter.send_text(frame)

    def _frame_limit(self) -> int:
        services = getattr(self.context, "services", None)
        settings = getattr(services, "settings", None)
        limit = getattr(settings, "ws_queue_frames", DEFAULT_FRAMES)
        return int(limit)

    def _expired(self, viewer: Viewer) -> None:
        logger.info("closing socket of member %s: token expired", viewer.member_id)
        self._closing = asyncio.create_task(self._close_expired())

    async def _close_expired(self) -> None:
        # The peer may vanish meanwhile; then there is nobody left to tell.
        with contextlib.suppress(WebSocketDisconnect):
            await self.websocket.close(code=TOKEN_EXPIRED, reason="Token expired")


class LazyLoaders(Loaders):
    """Loaders made on first use, so an idle socket's context holds none.

    A full set is about 15 kB; a socket keeps its context for hours.
    """

    def __init__(self) -> None:
        # Deliberately not the dataclass's __init__: nothing is built yet.
        pass

    def __getattr__(self, name: str) -> Any:
        factory = _LOADER_FACTORIES.get(name)
        if factory is None:
            raise AttributeError(name)
        loader = factory()
        setattr(self, name, loader)
        return loader


_LOADER_FACTORIES: Final[dict[str, Callable[[], Any]]] = {
    found.name: found.default_factory
    for found in fields(Loaders)
    if found.default_factory is not MISSING
}


def _well_formed(message: Mapping[str, Any]) -> bool:
    """A `subscribe` message with the field types the protocol prescribes."""
    payload = message.get("payload")
    if not isinstance(message.get("id"), str) or not isinstance(payload, dict):
        return False
    optional = {"variables": dict, "operationName": str, "extensions": dict}
    return isinstance(payload.get("query"), str) and all(
        payload.get(key) is None or isinstance(payload[key], kind)
        for key, kind in optional.items()
    )
