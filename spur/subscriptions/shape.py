"""What a subscription document lets subscribers share.

Two subscribers may share one execution of a live event only when the
payload cannot differ between them. The event stream is theirs already (the
audience: a member, a team); what remains is the selection set. Every field
listed in `CLASS_FIELDS` depends on the viewer only through their visibility
class (company, role, language, time zone, currency, own and managed teams),
never through who they are: the sentences are stored per event, titles are
translated into the viewer's language, goal periods use the company zone, and
nothing below reads `viewer.member_id`. A document that selects anything else
is shared only between the same member's sockets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from graphql import (
    FieldNode,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    get_named_type,
    parse,
    visit,
)
from graphql.error import GraphQLError

CLASS_FIELDS: Final = frozenset(
    {
        ("Subscription", "achievements"),
        ("Subscription", "teamFeed"),
        ("AchievementEvent", "cursor"),
        ("AchievementEvent", "kind"),
        ("AchievementEvent", "message"),
        ("AchievementEvent", "occurredAt"),
        ("AchievementEvent", "member"),
        ("AchievementEvent", "goal"),
        ("AchievementEvent", "reward"),
        ("Member", "id"),
        ("Member", "name"),
        ("Goal", "id"),
        ("Goal", "title"),
        ("Goal", "progress"),
        ("Progress", "current"),
        ("Progress", "target"),
        ("Progress", "percent"),
        ("Progress", "remaining"),
        ("Progress", "status"),
        ("Reward", "id"),
        ("Reward", "kind"),
        ("Reward", "title"),
        ("Reward", "amount"),
        ("Reward", "status"),
        ("Money", "amount"),
        ("Money", "currency"),
    }
)
# The argument that carries a subscriber's resume cursor; it shapes the
# subscriber's own replay, never the shared live payload.
CURSOR_ARGUMENT: Final = "after"


@dataclass(frozen=True)
class Shape:
    """What sharing needs to know about one document and operation."""

    class_only: bool
    cursor_variables: frozenset[str]


class _Collector(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.fields: set[tuple[str, str]] = set()
        self.depth = 0
        self.cursor_variables: set[str] = set()
        self.variable_uses: dict[str, int] = {}

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        name = node.name.value
        if name != "__typename":
            parent_name = get_named_type(parent).name if parent else "?"
            self.fields.add((parent_name, name))
        if parent is not None and parent.name == "Subscription":
            for argument in node.arguments or ():
                value = argument.value
                if argument.name.value == CURSOR_ARGUMENT and isinstance(
                    value, VariableNode
                ):
                    self.cursor_variables.add(value.name.value)

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        name = node.name.value
        self.variable_uses[name] = self.variable_uses.get(name, 0) + 1


def document_shape(schema: GraphQLSchema, document: str) -> Shape:
    """The `Shape` of a subscription document (cached per schema and text).

    Every operation and fragment in the document counts, whichever one runs:
    a field of another operation can only make the answer more cautious.
    """
    return _shape(schema, document)


@lru_cache(maxsize=512)
def _shape(schema: GraphQLSchema, document: str) -> Shape:
    try:
        parsed = parse(document)
    except GraphQLError:
        return Shape(class_only=False, cursor_variables=frozenset())
    type_info = TypeInfo(schema)
    collector = _Collector(type_info)
    visit(parsed, TypeInfoVisitor(type_info, collector))
    # Declarations are variable nodes too: a cursor variable is used only by
    # the cursor when it occurs twice (declared, then passed as `after`).
    cursors = frozenset(
        name
        for name in collector.cursor_variables
        if collector.variable_uses.get(name) == 2
    )
    class_only = bool(collector.fields) and collector.fields <= CLASS_FIELDS
    return Shape(class_only=class_only, cursor_variables=cursors)
