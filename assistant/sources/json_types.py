"""Value types of the JSON the surfaces read, shared by their request models."""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator


def _whole(value: Any) -> Any:
    """A JSON number with no fraction (``25.0``) as the integer it is; anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WHOLE = BeforeValidator(_whole)
"""After a strict ``int`` ``Field`` in ``Annotated``: an integer as JSON Schema means one, ``5`` and ``5.0``,
never ``"5"``, ``true`` or ``5.5`` (the ``Field`` first, so the spec shows its bounds)."""
