"""Leaderboards through the API: the contract, ranks, scopes, events, roles."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tortoise import connections

from spur.models import AchievementEvent, EventKind, LeaderboardScore, Member, Role
from spur.resolvers.scores import rebuild_nodes
from tests.api.conftest import NOW, FixedClock, document
from tests.api.helpers import (
    GraphQL,
    error_codes,
    follow_up,
    global_id,
    order,
    record,
    recorded,
)
from tests.api.test_query_counts import StatementLog, sql, statements
from tests.factories import World, build_world, member

__all__ = ["sql"]  # the statement-counting fixture, shared
WEEK_START = date(2026, 11, 30)

BOARD = """
query Board($metric: String!, $period: PeriodKind!, $teamId: ID, $segment: String,
            $at: DateTime, $first: Int = 10, $after: String, $n: Int = 2) {
  leaderboard(metric: $metric, period: $period, teamId: $teamId,
              segment: $segment, at: $at) {
    metric scope size
    period { label }
    entries(first: $first, after: $after) {
      edges { node { rank value member { id name } } }
      pageInfo { hasNextPage endCursor }
    }
    viewerEntry { rank value }
    aroundViewer(n: $n) { rank value member { name } }
  }
}
"""


async def board(
    gql: GraphQL, token: str, metric: str = "sales_amount", **extra: Any
) -> dict[str, Any]:
    body = await gql(BOARD, {"metric": metric, "period": "WEEK", **extra}, token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["leaderboard"]
    return found


def rows(found: dict[str, Any]) -> list[tuple[int, float, str]]:
    return [
        (e["node"]["rank"], e["node"]["value"], e["node"]["member"]["name"])
        for e in found["entries"]["edges"]
    ]


async def sell(
    gql: GraphQL, token: str, who: Member, key: str, amount: str, **extra: Any
) -> dict[str, Any]:
    """An order recorded by HR for `who`; the recordActivity payload."""
    activity = order(key, amount, memberId=global_id("Member", who.id), **extra)
    return recorded(await record(gql, token, activity))


async def test_the_contract_document_runs_as_written(
    world: World, gql: GraphQL, login: Any
) -> None:
    seller = await login("seller@example.com")
    mate = await login("mate@example.com")
    recorded(await record(gql, seller, follow_up("s1")))
    for n in range(3):
        recorded(await record(gql, mate, follow_up(f"m{n}")))
    variables = {"metric": "new_customer_follow_ups", "period": "WEEK"}
    body = await gql(document("Leaderboard"), variables, seller)
    assert "errors" not in body, body
    found = body["data"]["leaderboard"]
    assert found["metric"] == "new_customer_follow_ups"
    assert found["period"]["label"] == "2026-W49"
    assert [e["node"] for e in found["entries"]["edges"]] == [
        {
            "rank": 1,
            "value": 3.0,
            "member": {"id": global_id("Member", world.teammate.id), "name": "Mate"},
        },
        {
            "rank": 2,
            "value": 1.0,
            "member": {"id": global_id("Member", world.seller.id), "name": "Seller"},
        },
    ]
    assert found["entries"]["pageInfo"]["hasNextPage"] is False
    assert found["viewerEntry"] == {"rank": 2, "value": 1.0}
    team = {**variables, "teamId": global_id("Team", world.team.id), "first": 1}
    body = await gql(document("Leaderboard"), team, seller)
    assert "errors" not in body, body
    assert body["data"]["leaderboard"]["entries"]["pageInfo"]["hasNextPage"] is True


async def test_ties_share_a_rank_and_the_first_to_reach_leads(
    world: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    hr = await login("hr@example.com")
    await sell(gql, hr, world.teammate, "t1", "200.00")
    clock.now += timedelta(minutes=1)
    await sell(gql, hr, world.outsider, "o1", "300.00")
    clock.now += timedelta(minutes=1)
    await sell(gql, hr, world.seller, "s1", "200.00")
    found = await board(gql, await login("seller@example.com"))
    assert rows(found) == [(1, 300.0, "Eu"), (2, 200.0, "Mate"), (2, 200.0, "Seller")]
    assert found["viewerEntry"] == {"rank": 2, "value": 200.0}
    assert found["size"] == 3
    # Both draw level with Eu later, at the same instant: the name decides.
    clock.now += timedelta(minutes=1)
    await sell(gql, hr, world.seller, "s2", "100.00")
    await sell(gql, hr, world.teammate, "t2", "100.00")
    assert rows(await board(gql, hr)) == [
        (1, 300.0, "Eu"),
        (1, 300.0, "Mate"),
        (1, 300.0, "Seller"),
    ]


async def crowd(world: World, count: int) -> list[Member]:
    return [
        await member(world.company, world.team, f"c{n}@example.com", Role.SALESPERSON)
        for n in range(count)
    ]


async def test_around_the_viewer_at_the_top_middle_and_bottom(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    people = await crowd(world, 6)
    for n, person in enumerate(people):
        await sell(gql, hr, person, f"c{n}", f"{(n + 1) * 100}.00")
    # Values 100..600: C5 leads, C0 is last.
    top = await board(gql, await login("c5@example.com"), n=2)
    assert [e["member"]["name"] for e in top["aroundViewer"]] == [
        "C5",
        "C4",
        "C3",
        "C2",
        "C1",
    ]
    middle = await board(gql, await login("c2@example.com"), n=1)
    assert [(e["rank"], e["member"]["name"]) for e in middle["aroundViewer"]] == [
        (3, "C3"),
        (4, "C2"),
        (5, "C1"),
    ]
    bottom = await board(gql, await login("c0@example.com"), n=2)
    assert [e["rank"] for e in bottom["aroundViewer"]] == [2, 3, 4, 5, 6]
    assert bottom["viewerEntry"] == {"rank": 6, "value": 100.0}
    nobody = await board(gql, await login("seller@example.com"))
    assert (nobody["viewerEntry"], nobody["aroundViewer"]) == (None, [])


async def test_pages_continue_the_ranks(world: World, gql: GraphQL, login: Any) -> None:
    hr = await login("hr@example.com")
    people = await crowd(world, 5)
    amounts = ["500.00", "400.00", "400.00", "400.00", "100.00"]
    for n, (person, amount) in enumerate(zip(people, amounts, strict=True)):
        await sell(gql, hr, person, f"p{n}", amount)
    first = await board(gql, hr, first=2)
    assert [r[0] for r in rows(first)] == [1, 2]
    after = first["entries"]["pageInfo"]["endCursor"]
    rest = await board(gql, hr, first=10, after=after)
    assert [r[0] for r in rows(rest)] == [2, 2, 5]


async def test_rank_events_only_on_entering_the_top_or_overtaking(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")

    def ranks(payload: dict[str, Any]) -> list[str]:
        return [
            e["kind"] for e in payload["achievements"] if e["kind"] == "RANK_CHANGED"
        ]

    assert ranks(await sell(gql, hr, world.seller, "a", "100.00")) == ["RANK_CHANGED"]
    assert ranks(await sell(gql, hr, world.teammate, "b", "50.00")) == ["RANK_CHANGED"]
    # Passing the seller is news; drawing level or a repeat is not.
    assert ranks(await sell(gql, hr, world.teammate, "c", "60.00")) == ["RANK_CHANGED"]
    assert ranks(await sell(gql, hr, world.seller, "d", "10.00")) == []
    body = await record(
        gql, hr, order("d", "10.00", memberId=global_id("Member", world.seller.id))
    )
    assert recorded(body)["duplicate"] is True
    # Non-order metrics never announce ranks.
    mate = await login("mate@example.com")
    assert ranks(recorded(await record(gql, mate, follow_up("f")))) == []
    assert ranks(await sell(gql, hr, world.seller, "e", "5.00")) == ["RANK_CHANGED"]
    events = await AchievementEvent.filter(kind=EventKind.RANK_CHANGED).order_by("id")
    assert [e.member_id for e in events] == [
        world.seller.id,
        world.teammate.id,
        world.teammate.id,
        world.seller.id,
    ]
    assert "#1" in events[2].message


async def test_a_void_lowers_the_score_and_the_rank(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    big = await sell(gql, hr, world.seller, "big", "900.00")
    await sell(gql, hr, world.seller, "small", "10.00")
    await sell(gql, hr, world.teammate, "mate", "500.00")
    seller = await login("seller@example.com")
    assert (await board(gql, seller))["viewerEntry"] == {"rank": 1, "value": 910.0}
    body = await gql(
        "mutation($i: VoidActivityInput!) { voidActivity(input: $i) { "
        "activity { id } } }",
        {"i": {"activityId": big["activity"]["id"], "reason": "duplicate order"}},
        hr,
    )
    assert "errors" not in body, body
    found = await board(gql, seller)
    assert found["viewerEntry"] == {"rank": 2, "value": 10.0}
    assert rows(found) == [(1, 500.0, "Mate"), (2, 10.0, "Seller")]


async def test_past_periods_on_request(
    world: World, gql: GraphQL, login: Any, clock: FixedClock
) -> None:
    hr = await login("hr@example.com")
    await sell(
        gql, hr, world.seller, "old", "70.00", occurredAt="2026-11-26T10:00:00+08:00"
    )
    await sell(gql, hr, world.teammate, "new", "80.00")
    current = await board(gql, hr)
    assert rows(current) == [(1, 80.0, "Mate")]
    past = await board(gql, hr, at="2026-11-25T00:00:00+08:00")
    assert past["period"]["label"] == "2026-W48"
    assert rows(past) == [(1, 70.0, "Seller")]
    seller = await login("seller@example.com")
    body = await gql(
        '{ leaderboard(metric: "sales_amount", period: WEEK) { viewerHistory(last: 2)'
        " { period { label } entry { rank value } } } }",
        None,
        seller,
    )
    assert "errors" not in body, body
    assert body["data"]["leaderboard"]["viewerHistory"] == [
        {"period": {"label": "2026-W48"}, "entry": {"rank": 1, "value": 70.0}},
        {"period": {"label": "2026-W47"}, "entry": None},
    ]


async def test_segments_by_age_and_market(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    await Member.filter(id=world.teammate.id).update(birth_date="1980-01-01")
    await sell(gql, hr, world.seller, "s", "10.00")
    await sell(gql, hr, world.teammate, "t", "20.00")
    await sell(gql, hr, world.outsider, "o", "30.00")
    young = await board(gql, hr, segment="age:30-")
    assert young["scope"] == "age:30-"
    assert [r[2] for r in rows(young)] == ["Eu", "Seller"]
    assert [r[2] for r in rows(await board(gql, hr, segment="age:35+"))] == ["Mate"]
    sea = await board(gql, hr, segment="market:SEA")
    assert [r[2] for r in rows(sea)] == ["Mate", "Seller"]
    body = await gql(
        BOARD, {"metric": "sales_amount", "period": "WEEK", "segment": "x"}, hr
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_who_may_read_which_board(world: World, gql: GraphQL, login: Any) -> None:
    seller = await login("seller@example.com")
    own = global_id("Team", world.team.id)
    other = global_id("Team", world.other_team.id)

    async def codes(token: str, **extra: Any) -> list[str]:
        variables = {"metric": "sales_amount", "period": "WEEK", **extra}
        return error_codes(await gql(BOARD, variables, token))

    assert await codes(seller) == []
    assert await codes(seller, teamId=own) == []
    assert await codes(seller, teamId=other) == ["FORBIDDEN"]
    assert await codes(await login("hr@example.com"), teamId=other) == []
    assert await codes(await login("manager@example.com"), teamId=other) == [
        "FORBIDDEN"
    ]
    partner = await login("partner@example.com")
    assert await codes(partner) == ["FORBIDDEN"]
    assert await codes(partner, metric="new_customer_follow_ups") == []
    assert await codes(seller, metric="no_such_metric") == ["NOT_FOUND"]
    elsewhere = await build_world(prefix="x")
    assert await codes(seller, teamId=global_id("Team", elsewhere.team.id)) == [
        "NOT_FOUND"
    ]
    assert await codes(seller, teamId=own, segment="age:30-") == ["BAD_USER_INPUT"]
    assert error_codes(await gql(BOARD, {"metric": "x", "period": "WEEK"})) == [
        "UNAUTHENTICATED"
    ]


async def test_scores_are_stored_per_scope(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    await sell(gql, hr, world.seller, "s", "10.00")
    scopes = await LeaderboardScore.filter(
        member_id=world.seller.id, metric_id=world.sales.id, period_kind="WEEK"
    ).values_list("scope_key", flat=True)
    assert sorted(scopes) == sorted(
        ["company", f"team:{world.team.id}", "market:SEA", "age:30-"]
    )


async def seed_scores(world: World, count: int) -> None:
    """`count` more members on this week's company board of sales, in bulk."""
    crowd_members = [
        Member(
            company=world.company,
            team=world.other_team,
            email=f"bulk{n}@example.com",
            name=f"Bulk {n:03d}",
            role=Role.SALESPERSON,
            password_hash="!",
        )
        for n in range(count)
    ]
    await Member.bulk_create(crowd_members)
    ids = await Member.filter(email__startswith="bulk").values_list("id", flat=True)
    await LeaderboardScore.bulk_create(
        [
            LeaderboardScore(
                company=world.company,
                metric=world.sales,
                period_kind="WEEK",
                period_start=WEEK_START,
                scope_key="company",
                member_id=member_id,
                value=Decimal(n % 37),
                reached_at=NOW,
            )
            for n, member_id in enumerate(ids)
        ]
    )
    await rebuild_nodes(connections.get("default"), world.company.id)


async def test_a_board_costs_the_same_for_10_or_100_entries(
    world: World, gql: GraphQL, login: Any, sql: StatementLog
) -> None:
    await seed_scores(world, 120)
    token = await login("seller@example.com")
    await sell(gql, await login("hr@example.com"), world.seller, "s", "20.00")
    variables = {"metric": "sales_amount", "period": "WEEK", "n": 3}
    few = await statements(sql, gql, BOARD, {**variables, "first": 10}, token)
    body = await gql(BOARD, {**variables, "first": 100}, token)
    assert len(body["data"]["leaderboard"]["entries"]["edges"]) == 100
    many = await statements(sql, gql, BOARD, {**variables, "first": 100}, token)
    assert many == few, sql.statements
    # Sign-in (2), metric, size, entries, viewer row + count, around (viewer
    # row + count, two keyset reads a side, one count for the window).
    assert few <= 14, sql.statements


async def test_rank_events_name_the_board_in_each_readers_language(
    world: World, gql: GraphQL, login: Any
) -> None:
    hr = await login("hr@example.com")
    await sell(gql, hr, world.seller, "plain", "100.00")
    world.sales.titles = {"zh-CN": "销售额", "en": "Sales amount"}
    await world.sales.save(update_fields=["titles"])
    await sell(gql, hr, world.teammate, "titled", "200.00")
    plain, titled = await AchievementEvent.filter(kind=EventKind.RANK_CHANGED).order_by(
        "id"
    )
    # No titles: the name, quoted, in the Chinese line too.
    assert plain.message == "你在本周「Sales」排行榜上升至第 1 名！"
    assert plain.team_message == "Seller is now #1 on this week's “Sales” leaderboard."
    # The manager reads English; the teammate's own line follows their language.
    assert titled.team_message == (
        "Mate is now #1 on this week's “Sales amount” leaderboard."
    )
    world.teammate.language = "zh-CN"
    await world.teammate.save(update_fields=["language"])
    await sell(gql, hr, world.seller, "again", "150.00")
    await sell(gql, hr, world.teammate, "back", "100.00")
    last = await AchievementEvent.filter(kind=EventKind.RANK_CHANGED).order_by("-id")
    assert last[0].message == "你在本周「销售额」排行榜上升至第 1 名！"
    assert "Sales" not in last[0].message
