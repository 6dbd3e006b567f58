from __future__ import annotations

from tests.api.conftest import document


async def test_follow_up_completes_weekly_goal(world, gql, login):
    token = await login("seller@example.com")
    home = await gql(document("HomeScreen"), token=token)
    assert "errors" not in home, home
    for n in range(10):
        body = await gql(
            document("RecordActivity"),
            {
                "input": {
                    "kind": "CUSTOMER_FOLLOW_UP",
                    "occurredAt": "2026-12-04T09:00:00+08:00",
                    "newCustomer": True,
                    "source": "crm",
                    "externalId": f"f{n}",
                }
            },
            token,
        )
        assert "errors" not in body, body
    kinds = [a["kind"] for a in body["data"]["recordActivity"]["achievements"]]
    assert kinds == ["GOAL_COMPLETED", "REWARD_EARNED"]
    home = await gql(document("HomeScreen"), token=token)
    viewer = home["data"]["viewer"]
    assert viewer["earnings"]["total"] == {"amount": "500.00", "currency": "CNY"}
    assert viewer["goals"]["edges"][0]["node"]["progress"]["status"] == "ACHIEVED"
