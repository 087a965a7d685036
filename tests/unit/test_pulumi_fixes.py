"""The dynamic-provider pickling fix: serializing providers must not grow the pickler's stack."""

from __future__ import annotations

import pickle

import pulumi.dynamic.dynamic as dynamic
from pulumi.dynamic import ResourceProvider

import components  # noqa: F401  (applies the fix)


class _Noop(ResourceProvider):
    pass


def test_serialize_provider_leaves_the_pickler_unchanged():
    before = (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict)
    dynamic.serialize_provider(_Noop())
    assert (pickle._Pickler._batch_setitems, pickle._Pickler.save_dict) == before


def test_thousands_of_dynamic_resources_serialize_without_recursion():
    # unfixed, the SDK overflows the recursion limit after ~970 serializations
    provider = _Noop()
    first = dynamic.serialize_provider(provider)
    for _ in range(3000):
        last = dynamic.serialize_provider(provider)
    assert last == first
