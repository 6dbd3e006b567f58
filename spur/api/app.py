"""The application: routes, the GraphQL endpoint and the resources it owns."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.transactions import in_transaction

from spur.api.auth import TokenService, bearer_token, load_viewer
from spur.api.context import Context, Viewer
from spur.api.errors import SpurError
from spur.api.exports import payroll_export
from spur.api.limits import BodyLimit
from spur.api.services import Services, utc_now
from spur.api.settings import Settings
from spur.api.sockets import (
    MISSING_TOKEN,
    TRY_AGAIN_LATER,
    SocketAdapter,
    TransportWSHandler,
)
from spur.models.config import tortoise_config
from spur.models.database import migrate_database
from spur.resolvers.alert_rules import DailyAlerts, evaluate_all
from spur.resolvers.loaders import Loaders
from spur.resolvers.weekly_best import WeeklyBest
from spur.schema.root import build_schema
from spur.subscriptions.broker import Broker, MemoryBroker
from spur.subscriptions.fanout import FanoutHub
from spur.subscriptions.redis_broker import RedisBroker
from spur.subscriptions.relay import Relay

logger = logging.getLogger(__name__)

# A \uD800-\uDFFF escape: half of a surrogate pair, or a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


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
        self.hub = FanoutHub(
            services.broker,
            self._execute,
            per_member=settings.ws_live_per_member,
        )

    async def _execute(
        self,
        document: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
    ) -> Any:
        """A fan-out group's one execution of its subscription document."""
        return await self.schema.stream(
            document,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
            allowed_operation_types=(OperationType.SUBSCRIPTION,),
        )

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
    answers. Without Redis the instance still serves (live feeds poll the
    event table until it is back), so that alone does not make it unhealthy.
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
    live = graphql.hub.gauges()
    counters = {
        "sockets": graphql.open_sockets,
        # Live subscriptions: members of the fan-out hub's groups, plus
        # broker subscriptions held outside the hub (one per hub feed).
        "subscriptions": live["members"]
        + services.broker.subscriber_count()
        - live["feeds"],
        "groups": live["groups"],
        "feeds": live["feeds"],
        # Feeds reading the event table while the broker is unavailable.
        "polling_feeds": live["polling"],
        "tasks": len(asyncio.all_tasks()),
        "counters": vars(graphql.hub.counters),
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
                await graphql.hub.close()
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
    if not summary.skipped:
        # The history's alerts, as the daily pass would have raised them.
        raised = await evaluate_all(services, services.clock())
        logger.info("demo: %s manager alerts", raised)
