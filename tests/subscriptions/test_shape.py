"""Which subscription documents may be shared across members of a class."""

from __future__ import annotations

from pathlib import Path

import pytest

from spur.api.settings import load_settings
from spur.schema.root import build_schema
from spur.subscriptions.shape import CLASS_FIELDS, document_shape

OPERATIONS = Path(__file__).parents[2] / "spur" / "schema" / "operations"
SCHEMA = build_schema(load_settings(None))._schema


def contract(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


@pytest.mark.parametrize("name", ["OnAchievement", "TeamFeed"])
def test_the_contract_feeds_are_shared_by_class(name: str) -> None:
    shape = document_shape(SCHEMA, contract(name))
    assert shape.class_only
    assert shape.cursor_variables == {"after"}


def test_goal_progress_is_not() -> None:
    assert not document_shape(SCHEMA, contract("OnGoalProgress")).class_only


def test_a_field_that_reads_the_viewer_keeps_the_member_in_the_key() -> None:
    query = (
        "subscription($t: ID!) { teamFeed(teamId: $t) "
        "{ cursor member { goals { totalCount } } } }"
    )
    assert not document_shape(SCHEMA, query).class_only


def test_a_cursor_variable_used_elsewhere_stays_in_the_key() -> None:
    query = (
        "subscription($a: String) { achievements(after: $a) { cursor } "
        "again: achievements(after: $a) { kind } }"
    )
    assert document_shape(SCHEMA, query).cursor_variables == frozenset()


def test_fragments_count_too() -> None:
    query = (
        "subscription { achievements { ...F } } "
        "fragment F on AchievementEvent { member { earnings { total } } }"
    )
    assert not document_shape(SCHEMA, query).class_only


def test_every_listed_field_exists() -> None:
    for type_name, field_name in CLASS_FIELDS:
        found = SCHEMA.get_type(type_name)
        assert found is not None, type_name
        assert field_name in found.fields, (type_name, field_name)  # type: ignore[union-attr]
