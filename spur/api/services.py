"""Long-lived resources, owned by the app's lifespan and shared by requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from spur.api.auth import TokenService
from spur.api.settings import Settings
from spur.subscriptions.broker import Broker
from spur.subscriptions.relay import Relay


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class Services:
    """What a request may use beyond the database: settings, broker, relay."""

    settings: Settings
    broker: Broker
    relay: Relay
    tokens: TokenService
    clock: Callable[[], datetime] = field(default=utc_now)
