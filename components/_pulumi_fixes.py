"""Work around a Pulumi SDK bug that breaks programs with many dynamic resources.

`pulumi.dynamic.dynamic.serialize_provider` (3.272) swaps in sorted-dict versions of
`pickle._Pickler._batch_setitems` / `save_dict` and restores only `pickle.Pickler`: every dynamic
resource wraps the previous wrapper once more, so a program with a few hundred Metabase cards
overflows the recursion limit while pickling (RecursionError). We restore both methods after each
call. Applied on import of `components` (which `__main__.py` imports before any resource).
"""

from __future__ import annotations

import pickle

import pulumi.dynamic.dynamic as _dynamic

_MARK = "_mfb_restores_pickler"


def apply() -> None:
    original = _dynamic.serialize_provider
    if getattr(original, _MARK, False):
        return

    def serialize_provider(provider):  # same signature as the SDK's
        saved = (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict)  # type: ignore[attr-defined]
        try:
            return original(provider)
        finally:
            pickle._Pickler._batch_setitems, pickle._Pickler.save_dict = saved  # type: ignore[attr-defined]

    setattr(serialize_provider, _MARK, True)
    _dynamic.serialize_provider = serialize_provider
