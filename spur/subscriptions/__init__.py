"""Live achievement events: broker, outbox relay and subscription feeds."""

from spur.subscriptions.broker import (
    Broker,
    BrokerClosed,
    BrokerUnavailable,
    MemoryBroker,
    SubscriberOverflow,
    Subscription,
    company_channel,
)
from spur.subscriptions.relay import Relay, publish_progress

__all__ = [
    "Broker",
    "BrokerClosed",
    "BrokerUnavailable",
    "MemoryBroker",
    "Relay",
    "SubscriberOverflow",
    "Subscription",
    "company_channel",
    "publish_progress",
]
