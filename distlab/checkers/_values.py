"""Identity of JSON values inside checkers: hashable, and 1, True, 1.0, "1" and [1] all differ."""

from __future__ import annotations

from typing import Any

import orjson


def value_key(value: Any) -> Any:
    """Ints and strings stand for themselves (the common, fast case); anything else by canonical JSON."""
    if type(value) is int or type(value) is str:
        return value
    return ("json", orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
