"""The `alerts` subscription under the same per-member limit as every live
feed (found by the breaker pass of 2026-12-04: it bypasses the hub's count)."""

from __future__ import annotations

import json

from tests.e2e.client import Api, subscribe_message, wait_for_subscriptions
from tests.e2e.conftest import StartServer
from tests.e2e.seed import seed_world
from tests.e2e.test_fanout import next_payload, signed_in

MANAGER = "manager@example.com"
ALERTS = "subscription { alerts { id rule } }"


async def test_alert_subscriptions_count_toward_the_per_member_limit(
    start: StartServer,
) -> None:
    server = await start(SPUR_WS_LIVE_PER_MEMBER="3")
    await seed_world(server.database_url)
    api = Api(server)
    try:
        manager = await api.login(MANAGER)
        first, second = (
            await signed_in(server, manager),
            await signed_in(server, manager),
        )
        for n in range(2):
            await first.send(subscribe_message(str(n), ALERTS))
        await second.send(subscribe_message("a", ALERTS))
        await wait_for_subscriptions(server, 3)
        await second.send(subscribe_message("b", ALERTS))
        refusal = await next_payload(second)
        assert (await server.stats())["subscriptions"] == 3
        # Completing one gives its place back.
        await first.send(json.dumps({"id": "0", "type": "complete"}))
        await wait_for_subscriptions(server, 2)
        await second.send(subscribe_message("c", ALERTS))
        await wait_for_subscriptions(server, 3)
    finally:
        await api.close()
    errors = refusal["payload"].get("errors") or refusal["payload"]
    assert errors[0]["extensions"]["code"] == "RATE_LIMITED", refusal
    assert errors[0]["extensions"]["reason"] == "TOO_MANY_LIVE_SUBSCRIPTIONS"
