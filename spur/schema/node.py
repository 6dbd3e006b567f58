"""The Relay `node(id:)` field: any object by global id, if the viewer may see it."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition

from spur.api.context import Context
from spur.api.errors import BadUserInput
from spur.resolvers.permissions import IsAuthenticated


@strawberry.type
class NodeQuery:
    # A plain resolver rather than `relay.node()`: that helper's extension
    # rewrites the shared field object and refuses a second schema build,
    # while the app, the SDL export and the tests each build one.
    @strawberry.field(
        description="Any object with a global id that the viewer may see.",
        permission_classes=[IsAuthenticated],
    )
    async def node(
        self,
        info: strawberry.Info[Context, Any],
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The ID of the object.")
        ],
    ) -> relay.Node | None:
        global_id = _parsed(id)
        node_type = _node_type(info, global_id.type_name)
        if node_type is None:
            return None
        found = node_type.resolve_nodes(
            info=info, node_ids=[global_id.node_id], required=False
        )
        nodes = await found if inspect.isawaitable(found) else found
        return next(iter(nodes), None)


def _parsed(value: strawberry.ID) -> relay.GlobalID:
    # Parsed here, not by the argument type: a malformed id is the client's
    # mistake, and the GlobalID scalar's own error would read as internal.
    try:
        return relay.GlobalID.from_id(str(value))
    except ValueError as error:  # GlobalIDValueError is one
        raise BadUserInput("id is not a global id.", field="id") from error


def _node_type(
    info: strawberry.Info[Context, Any], name: str
) -> type[relay.Node] | None:
    """The Node class named `name`; None for a type that has no global ids."""
    definition = info.schema.get_type_by_name(name)
    # `Node` itself is an interface: no object is only a Node.
    if not isinstance(definition, StrawberryObjectDefinition) or (
        definition.is_interface
    ):
        return None
    origin = definition.origin
    return (
        origin if isinstance(origin, type) and issubclass(origin, relay.Node) else None
    )
