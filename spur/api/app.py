"""The application: routes, the GraphQL endpoint and the resources it owns."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.transactions import in_transaction

from spur.api.auth import TokenService, bearer_token, load_viewer
from spur.api.context import Context, Viewer
from spur.api.errors import SpurError
from spur.api.services import Services, utc_now
from spur.api.settings import Settings
from spur.models.config import tortoise_config
from spur.models.database import migrate_database
from spur.resolvers.loaders import Loaders
from spur.schema.root import build_schema
from spur.subscriptions.broker import MemoryBroker
from spur.subscriptions.relay import Relay

logger = logging.getLogger(__name__)

MISSING_TOKEN = 4401


class SpurGraphQL(GraphQL[Context, None]):
    """GraphQL over HTTP and `graphql-transport-ws`, authenticated at the edge."""

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

    async def viewer_for(self, token: str) -> Viewer:
        """The viewer an access token stands for; `UNAUTHENTICATED` otherwise."""
        return await load_viewer(self.services.tokens.decode_access(token))

    async def on_ws_connect(
        self, context: Context
    ) -> UnsetType | dict[str, object] | None:
        params: object = context.connection_params
        raw = params.get("authorization") if isinstance(params, dict) else None
        token = bearer_token(raw) if isinstance(raw, str) else None
        if token is None:
            if isinstance(context.request, WebSocket):
                await context.request.close(code=MISSING_TOKEN, reason="Unauthorized")
            raise ConnectionRejectionError()
        try:
            context.viewer_or_none = await self.viewer_for(token)
        except SpurError as error:
            raise ConnectionRejectionError({"message": error.message}) from error
        acknowledge: UnsetType = UNSET  # an empty connection_ack
        return acknowledge


async def health(request: Request) -> JSONResponse:
    """Liveness and database reachability, for load balancers and Docker."""
    try:
        async with in_transaction() as conn:
            await conn.execute_query("SELECT 1")
    except Exception:  # the check itself must answer, whatever the failure
        logger.exception("health check: database unreachable")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings, *, demo: bool = False) -> Starlette:
    """The ASGI app; the lifespan migrates, fills the demo and runs the relay."""
    broker = MemoryBroker()
    services = Services(
        settings=settings,
        broker=broker,
        relay=Relay(broker),
        tokens=TokenService(settings, utc_now),
    )
    graphql = SpurGraphQL(services)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await migrate_database(settings.database_url)
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            if demo:
                await _fill_demo(services)
            await services.relay.start()
            try:
                yield {}
            finally:
                await services.relay.stop()
                await broker.close()

    routes = [
        Route("/graphql", graphql, methods=["POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", health, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.services = services
    return app


async def _fill_demo(services: Services) -> None:
    from spur.demo import fill_demo  # the generator is only loaded for demos

    summary = await fill_demo(services.clock())
    logger.info("demo: %s", summary)
