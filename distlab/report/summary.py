"""What the terminal summary shows of a checker's verdict: the rows that carry information.

A checker's dict holds every count and case list it knows, most of them 0 or empty
on a good run (kafka's has forty). The summary keeps what tells something: non-zero
counts, non-empty cases (with their count, the first few shown and the rest left to
results.json), quantile tables as one line, and any other value as is. What decides an
invalid verdict is said in full by `why_rows`, from the course's sentences.
"""

from __future__ import annotations

from typing import Any

import orjson

from distlab.report.figures import informative, quantiles

CASES_SHOWN = 3
"""How many cases of an anomaly a summary row shows before '... N more'."""


def _quantiles(value: Any) -> str | None:
    """{"0.5": 226.0, "0.95": 452.0, "1": 478.5} as "p50 226  p95 452  max 478.5" (None if not one)."""
    pairs = quantiles(value)
    return None if pairs is None else "  ".join(f"{name} {_number(v)}" for name, v in pairs)


def _number(v: float) -> str:
    """A figure as a person reads it: 14550 not 1.455e+04, 0.125 not 0.1250000."""
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cases(cases: list[Any], count: int) -> str:
    shown = ", ".join(_short(c, 40) for c in cases[:CASES_SHOWN])
    more = count - min(len(cases), CASES_SHOWN)
    return f"{count}: {shown}" + (f", ... {more} more in results.json" if more > 0 else "")


def workload_rows(verdict: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) rows for a workload verdict: nothing zero or empty; `X_count` and
    its case list `X` as one row; nested verdicts (a composition's parts) indented."""
    rows: list[tuple[str, str]] = []
    for key, value in verdict.items():
        if key in ("valid", "explanation") or (key.endswith("_count") and key[:-6] in verdict):
            continue
        count = verdict.get(f"{key}_count")
        if isinstance(value, list) and isinstance(count, int):
            if count:
                rows.append((key, _cases(value, count)))
            continue
        if not informative(value) or value is False:  # a false flag (set-full's linearizable) beside a valid verdict misleads
            continue
        if isinstance(value, dict) and "valid" in value:
            inner = workload_rows(value)
            valid = value.get("valid")
            rows.append((key, "ok" if valid is True else "INVALID" if valid is False else str(valid)))
            rows += [(f"  {label}", text) for label, text in inner]
            continue
        quantiles = _quantiles(value)
        if quantiles is not None:
            rows.append((key, quantiles))
        elif isinstance(value, list):
            rows.append((key, _cases(value, len(value))))
        else:
            rows.append((key, _short(value, 200)))
    return rows


def why_rows(results: dict[str, Any]) -> list[str]:
    """Why a run is not valid, in full sentences (the course's wording): nothing that
    decides the verdict is cut short."""
    if results.get("valid") is True:
        return []
    from distlab.tracks.explain import reasons

    return reasons(results)


def closing_line(outcomes: list[tuple[int, Any]]) -> str | None:
    """After several runs (`--test-count N`), e.g. "4/6 invalid: seeds 3, 4, 5, 6"
    (None for a single run: its own verdict says it all)."""
    if len(outcomes) < 2:
        return None
    bad = [(seed, valid) for seed, valid in outcomes if valid is not True]
    if not bad:
        return f"{len(outcomes)}/{len(outcomes)} valid: seeds {outcomes[0][0]} to {outcomes[-1][0]}"
    invalid = [s for s, v in bad if v is False]
    unknown = [s for s, v in bad if v is not False]
    parts = []
    if invalid:
        parts.append(f"{len(invalid)}/{len(outcomes)} invalid: seeds {', '.join(map(str, invalid))}")
    if unknown:
        parts.append(f"{len(unknown)}/{len(outcomes)} unknown: seeds {', '.join(map(str, unknown))}")
    return "; ".join(parts)
