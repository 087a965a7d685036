"""What every dynamic provider here needs to know about values the engine hands it.

During `pulumi preview` the engine deserializes Check/Diff inputs with `keep_unknowns=True`: a
value that is not known yet (an id of a resource still to be created) arrives as a
`pulumi.output.Unknown` object — or, in older paths and our own serialized props, as the
`UNKNOWN` sentinel string. Providers must validate and diff around both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi.runtime.rpc.UNKNOWN


def is_unknown(value: Any) -> bool:
    """True when `value` is, or contains, a value not known until apply."""
    from pulumi.output import Unknown

    if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False
