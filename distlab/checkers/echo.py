"""Echo: every reply must carry back exactly what was sent."""

from __future__ import annotations

from typing import Any

from distlab.checkers.pairing import calls
from distlab.history import OK


def check(history: list[dict[str, Any]]) -> dict[str, Any]:
    mismatched = []
    ok = 0
    for _, inv, _, done in calls(history):
        if done is None or done["type"] != OK:
            continue
        ok += 1
        if done["value"] != inv["value"]:
            if len(mismatched) < 10:
                mismatched.append({"index": done["index"], "sent": inv["value"], "got": done["value"]})
            else:
                mismatched.append(None)
    bad = len(mismatched)
    return {
        "valid": bad == 0,
        "ok_count": ok,
        "mismatched_count": bad,
        "mismatched": [m for m in mismatched if m is not None],
    }
