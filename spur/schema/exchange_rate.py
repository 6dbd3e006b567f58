"""Exchange rates by date: what converts foreign-currency orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any, Self

import strawberry
from strawberry import relay

from spur.api.context import Context
from spur.models import ExchangeRate
from spur.resolvers import exchange_rate as rates
from spur.resolvers.ids import row_key
from spur.resolvers.permissions import CanAdministerIncentives, CanReadIncentives
from spur.resolvers.plan import READERS
from spur.schema.pagination import Connection, connection, page_bounds


@strawberry.type(
    name="ExchangeRate",
    description="Units of the company currency that one unit of a currency "
    "buys on a date.",
)
class ExchangeRateNode(relay.Node):
    id: relay.NodeID[int]
    row: strawberry.Private[ExchangeRate]

    @classmethod
    def of(cls, row: ExchangeRate) -> Self:
        return cls(id=row.id, row=row)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info[Context, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        viewer = info.context.viewer
        keys = [row_key(k) for k in node_ids]
        found: dict[int, ExchangeRate] = {}
        if viewer.role in READERS:
            rows = ExchangeRate.filter(id__in=keys, company_id=viewer.company_id)
            found = {row.id: row for row in await rows}
        return [cls.of(found[key]) if key in found else None for key in keys]

    @strawberry.field(description="The foreign currency, an ISO 4217 code.")
    def currency(self) -> str:
        return self.row.currency

    @strawberry.field(description="The local date the rate holds on.")
    def date(self) -> dt.date:
        return self.row.on_date

    @strawberry.field(description="Company-currency units per unit, 8 decimals.")
    def rate(self) -> Decimal:
        rate: Decimal = self.row.rate
        return rate


@strawberry.input(description="One rate: a currency on a date.")
class ExchangeRateInput:
    currency: str = strawberry.field(description="ISO 4217, not the company's.")
    date: dt.date = strawberry.field(description="The local date it holds on.")
    rate: Decimal = strawberry.field(
        description="Company-currency units per unit: above 0, up to 8 decimals."
    )

    def spec(self) -> rates.RateSpec:
        return rates.RateSpec(self.currency, self.date, self.rate)


@strawberry.input(description="Rates to insert or replace, per currency and date.")
class SetExchangeRatesInput:
    rates: list[ExchangeRateInput] = strawberry.field(
        description="1 to 1000 rates, each currency and date at most once."
    )


@strawberry.type(description="The rates as saved, in the order sent.")
class SetExchangeRatesPayload:
    rates: list[ExchangeRateNode] = strawberry.field(description="The saved rates.")


@strawberry.type
class ExchangeRateQuery:
    @strawberry.field(
        description="The company's rates by date then currency, for HR admins "
        "and managers; `from` and `to` are included.",
        permission_classes=[CanReadIncentives],
    )
    async def exchange_rates(
        self,
        info: strawberry.Info[Context, Any],
        currency: str | None = None,
        since: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
        until: Annotated[dt.date | None, strawberry.argument(name="to")] = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[ExchangeRateNode]:
        offset, limit = page_bounds(first, after)
        found = await rates.list_rates(
            info.context.viewer, currency, since, until, offset, limit
        )
        return connection([ExchangeRateNode.of(r) for r in found], offset, limit)


@strawberry.type
class ExchangeRateMutation:
    @strawberry.mutation(
        description="Insert or replace exchange rates; entries already made "
        "keep the rate they used.",
        permission_classes=[CanAdministerIncentives],
    )
    async def set_exchange_rates(
        self, info: strawberry.Info[Context, Any], input: SetExchangeRatesInput
    ) -> SetExchangeRatesPayload:
        specs = [rate.spec() for rate in input.rates]
        saved = await rates.set_rates(info.context.viewer, specs)
        return SetExchangeRatesPayload(rates=[ExchangeRateNode.of(r) for r in saved])
