"""Print the schema's SDL: `python -m spur.schema.export > spur/schema/schema.graphql`.

The committed SDL is what partner frontends read; a test fails when it drifts.
"""

from __future__ import annotations

import sys

from spur.api.settings import load_settings
from spur.schema.root import build_schema


def sdl() -> str:
    """The schema as SDL, ending with a newline."""
    return build_schema(load_settings(env_file=None)).as_str() + "\n"


if __name__ == "__main__":
    sys.stdout.write(sdl())
