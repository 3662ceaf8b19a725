"""What a checker's figure is, for both renderings of a verdict (the terminal summary and
report.html): whether it says anything, and whether it is a table of quantiles. Each
rendering formats numbers its own way; deciding what to show is one rule here."""

from __future__ import annotations

from typing import Any

QUANTILE_NAMES = {0.0: "min", 1.0: "max"}


def informative(value: Any) -> bool:
    """Whether a figure says anything: zeros, empty strings, lists, dicts and nulls do not."""
    if value is None or value == "" or (isinstance(value, list | dict) and not value):
        return False
    return not (isinstance(value, int | float) and not isinstance(value, bool) and value == 0)


def quantiles(value: Any) -> list[tuple[str, float]] | None:
    """{"0.5": 226.0, "1": 478.5} as [("p50", 226.0), ("max", 478.5)], in order; None
    for anything that is not a non-empty dict of quantile -> number."""
    if not isinstance(value, dict) or not value:
        return None
    try:
        pairs = sorted((float(k), v) for k, v in value.items())
    except (TypeError, ValueError):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for _, v in pairs):
        return None
    return [(QUANTILE_NAMES.get(q, f"p{q * 100:g}"), v) for q, v in pairs]
