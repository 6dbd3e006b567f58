"""Achievement messages read as sentences in each reader's own language."""

from __future__ import annotations

from typing import Any

from spur.models import GoalReward
from tests.api.conftest import document
from tests.api.helpers import GraphQL, follow_up, goal_id, record, recorded
from tests.factories import World


async def test_a_chinese_member_reads_chinese_names_and_the_feed_reads_english(
    world: World, gql: GraphQL, login: Any
) -> None:
    world.weekly.titles = {"zh-CN": "每周 10 个新客户跟进"}
    await world.weekly.save()
    await GoalReward.filter(goal_id=world.weekly.id).update(
        titles={"zh-CN": "每周跟进奖金"}
    )
    token = await login("seller@example.com")  # the factory's seller reads zh-CN

    for n in range(10):
        answer = recorded(await record(gql, token, follow_up(f"m{n}")))

    completed, earned = answer["achievements"][-2:]
    assert "「每周 10 个新客户跟进」" in completed["message"]
    assert "500.00 CNY" in earned["message"]
    assert "每周跟进奖金" in earned["message"]
    assert earned["reward"]["title"] == "每周跟进奖金"
    home = await gql(document("HomeScreen"), {}, token)
    goal = home["data"]["viewer"]["goals"]["edges"][0]["node"]
    assert goal["title"] == "每周 10 个新客户跟进"


async def test_an_english_reader_sees_the_default_names(
    world: World, gql: GraphQL, login: Any
) -> None:
    world.weekly.titles = {"zh-CN": "每周 10 个新客户跟进"}
    await world.weekly.save()
    token = await login("manager@example.com")  # the factory's manager reads en
    node = await gql(
        "query($id: ID!) { node(id: $id) { ... on Goal { title } } }",
        {"id": goal_id(world.weekly)},
        token,
    )
    assert node["data"]["node"]["title"] == "10 new-customer follow-ups"
