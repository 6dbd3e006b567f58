from __future__ import annotations

from pathlib import Path

from spur.schema.export import sdl

COMMITTED = Path(__file__).parents[2] / "spur" / "schema" / "schema.graphql"


def test_committed_sdl_matches_the_schema() -> None:
    assert COMMITTED.read_text() == sdl(), (
        "schema.graphql drifted; refresh it with "
        "python -m spur.schema.export > spur/schema/schema.graphql"
    )
