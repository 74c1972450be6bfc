"""Checking that a refused command writes nothing: for unit tests and state machines alike."""

from __future__ import annotations

from typing import Any

import pytest

from safecomm_core import Safecomm, SafecommError


def stored(store: Safecomm) -> list[Any]:
    """Every stored notification: events and receipts alike."""
    return list(store.log.read(0, 10**6))


def refused(store: Safecomm, command: Any, error: type[SafecommError]) -> SafecommError:
    """Handle ``command``, expect ``error``, and check that nothing was written."""
    before = stored(store)
    with pytest.raises(error) as info:
        store.handle(command)
    assert stored(store) == before
    return info.value


def attempt(store: Safecomm, command: Any, ok: bool) -> None:
    """Handle ``command``, which must land when ``ok`` and otherwise be refused cleanly."""
    if ok:
        assert not store.handle(command).duplicate
    else:
        refused(store, command, SafecommError)
