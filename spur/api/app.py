"""The application: routes, the GraphQL endpoint and the resources it owns."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.unset import UNSET, UnsetType
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.transactions import in_transaction

from spur.api.auth import TokenService, bearer_token, load_viewer
from spur.api.context import Context, Viewer
from spur.api.errors import RateLimited, SpurError
from spur.api.exports import payroll_export
from spur.api.limits import BodyLimit
from spur.api.services import Services, utc_now
from spur.api.settings import Settings
from spur.models.config import tortoise_config
from spur.models.database import migrate_database
from spur.resolvers.alert_rules import DailyAlerts
from spur.resolvers.loaders import Loaders
from spur.resolvers.weekly_best import WeeklyBest
from spur.schema.root import build_schema
from spur.subscriptions.broker import Broker, MemoryBroker
from spur.subscriptions.redis_broker import RedisBroker
from spur.subscriptions.relay import Relay

logger = logging.getLogger(__name__)

MISSING_TOKEN = 4401
TOKEN_EXPIRED = 4403
# RFC 6455 "Try Again Later": the graphql-ws client reconnects after it.
TRY_AGAIN_LATER = 1013
# A \uD800-\uDFFF escape: half of a surrogate pair, or a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


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

    async def close(self, code: int, reason: str) -> None:
        if not self.closed:
            await super().close(code, reason)

    @property
    def closed(self) -> bool:
        return self.ws.application_state is WebSocketState.DISCONNECTED


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """`graphql-transport-ws`, closing the socket (4403) when its token expires.

    Whatever runs on the socket (subscriptions, queries, mutations) was
    authorised by the token of `connection_init`, so the whole connection
    ends with it, not just its subscriptions.
    """

    expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        viewer = self.context.viewer_or_none
        if self.connection_acknowledged and viewer and self.expiry is None:
            self.expiry = asyncio.create_task(self._close_when_expired(viewer))

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
        self.context.loaders = Loaders()
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

    async def shutdown(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
        await super().shutdown()

    async def _close_when_expired(self, viewer: Viewer) -> None:
        await asyncio.sleep(max(0.0, viewer.token_expires_at - time.time()))
        logger.info("closing socket of member %s: token expired", viewer.member_id)
        # The peer may vanish meanwhile; then there is nobody left to tell.
        with contextlib.suppress(WebSocketDisconnect):
            await self.websocket.close(code=TOKEN_EXPIRED, reason="Token expired")


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


class SpurGraphQL(GraphQL[Context, None]):
    """GraphQL over HTTP and `graphql-transport-ws`, authenticated at the edge."""

    websocket_adapter_class = SocketAdapter
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(
            build_schema(settings),
            graphql_ide=None,
            allow_queries_via_get=False,
            keep_alive=True,
            keep_alive_interval=settings.keepalive_seconds,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(
                seconds=settings.connection_init_seconds
            ),
            max_subscriptions_per_connection=20,
        )
        self.services = services
        self.open_sockets = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        self.open_sockets += 1
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.open_sockets -= 1

    def decode_json(self, data: str | bytes) -> object:
        """A request body or socket frame: one JSON object of valid Unicode.

        Anything else is refused as malformed JSON (HTTP 400, socket close
        4400) here, rather than failing deeper down: bytes that are not UTF-8,
        nesting that exhausts the recursion limit, integers too long to
        convert, a lone surrogate (no database can store it) or a top level
        that is not an object.
        """
        try:
            text = data.decode() if isinstance(data, bytes) else data
            decoded = json.loads(text)
            if _SURROGATE_ESCAPE.search(text):
                json.dumps(decoded, ensure_ascii=False).encode()
        except (ValueError, RecursionError) as error:
            raise json.JSONDecodeError(type(error).__name__, "", 0) from None
        if not isinstance(decoded, dict):
            raise json.JSONDecodeError("not a JSON object", "", 0)
        return decoded

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        context = Context(
            request=request,
            response=response,
            services=self.services,
            loaders=Loaders(),
            request_id=uuid.uuid4().hex[:12],
        )
        if isinstance(request, Request):
            header = request.headers.get("authorization")
            await self._authenticate(context, bearer_token(header), header)
        return context

    async def _authenticate(
        self, context: Context, token: str | None, header: str | None
    ) -> None:
        if token is None:
            if header:
                context.auth_error = "Authorization must be 'Bearer <token>'."
            return
        try:
            context.viewer_or_none = await self.viewer_for(token)
        except SpurError as error:
            context.auth_error = error.message
        except Exception:  # the database, say; resolvers answer INTERNAL
            logger.exception("viewer not loaded (request %s)", context.request_id)
            context.viewer_unavailable = True

    async def viewer_for(self, token: str) -> Viewer:
        """The viewer an access token stands for; `UNAUTHENTICATED` otherwise."""
        return await load_viewer(self.services.tokens.decode_access(token))

    async def on_ws_connect(
        self, context: Context
    ) -> UnsetType | dict[str, object] | None:
        params: object = context.connection_params
        raw = params.get("authorization") if isinstance(params, dict) else None
        if not raw:
            # Strawberry closes a rejected socket with 4403; a missing token
            # gets 4401 first, and SocketAdapter makes the second close a no-op.
            if isinstance(context.request, WebSocket):
                await context.request.close(code=MISSING_TOKEN, reason="Unauthorized")
            raise ConnectionRejectionError()
        token = bearer_token(raw) if isinstance(raw, str) else None
        if token is None:
            raise ConnectionRejectionError()
        try:
            context.viewer_or_none = await self.viewer_for(token)
        except SpurError as error:
            raise ConnectionRejectionError({"message": error.message}) from error
        except Exception as error:  # the database, say: the client may retry
            logger.exception(
                "socket viewer not loaded (request %s)", context.request_id
            )
            if isinstance(context.request, WebSocket):
                await context.request.close(TRY_AGAIN_LATER, "Try again later")
            raise ConnectionRejectionError() from error
        acknowledge: UnsetType = UNSET  # an empty connection_ack
        return acknowledge


async def health(request: Request) -> JSONResponse:
    """Liveness and database reachability, for load balancers and Docker.

    With the Redis broker it adds `"broker": "redis"` and whether Redis
    answers. Without Redis the instance still serves (live feeds resume once
    it is back), so that alone does not make it unhealthy.
    """
    try:
        async with in_transaction() as conn:
            await conn.execute_query("SELECT 1")
    except Exception:  # the check itself must answer, whatever the failure
        logger.exception("health check: database unreachable")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    broker = request.app.state.services.broker
    if isinstance(broker, RedisBroker):
        redis = "ok" if await broker.reachable() else "unavailable"
        return JSONResponse({"status": "ok", "broker": "redis", "redis": redis})
    return JSONResponse({"status": "ok"})


async def stats(request: Request) -> JSONResponse:
    """Live counters for tests and operators: what dropped sockets leave behind."""
    services: Services = request.app.state.services
    graphql: SpurGraphQL = request.app.state.graphql
    counters = {
        "sockets": graphql.open_sockets,
        "subscriptions": services.broker.subscriber_count(),
        "tasks": len(asyncio.all_tasks()),
    }
    if isinstance(services.broker, RedisBroker):
        counters["redis_channels"] = services.broker.redis_channels()
    return JSONResponse(counters)


def create_app(settings: Settings, *, demo: bool = False) -> Starlette:
    """The ASGI app; the lifespan migrates, fills the demo and runs the relay.

    `settings.expose_stats` adds `GET /stats` (socket, subscription and task
    counts, for leak checks); it is off by default.
    """
    broker = make_broker(settings)
    services = Services(
        settings=settings,
        broker=broker,
        relay=Relay(broker),
        tokens=TokenService(settings, utc_now),
    )
    graphql = SpurGraphQL(services)
    weekly_best = WeeklyBest(services)
    daily_alerts = DailyAlerts(services)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await migrate_database(settings.database_url)
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            if demo:
                await _fill_demo(services)
            await services.relay.start()
            weekly_best.start()
            daily_alerts.start()
            try:
                yield {}
            finally:
                await daily_alerts.stop()
                await weekly_best.stop()
                await services.relay.stop()
                await broker.close()

    routes = [
        Route("/graphql", graphql, methods=["POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", health, methods=["GET"]),
        Route("/exports/payroll/{month}.csv", payroll_export, methods=["GET"]),
    ]
    if settings.expose_stats:
        routes.append(Route("/stats", stats, methods=["GET"]))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
    )
    app.state.services = services
    app.state.graphql = graphql
    return app


def make_broker(settings: Settings) -> Broker:
    """Redis when `SPUR_REDIS_URL` is set (several instances), else in-memory."""
    if settings.redis_url:
        return RedisBroker(settings.redis_url, prefix=settings.redis_prefix)
    return MemoryBroker()


async def _fill_demo(services: Services) -> None:
    from spur.demo import fill_demo  # the generator is only loaded for demos

    summary = await fill_demo(services.clock())
    logger.info("demo: %s", summary)
