"""Every kafka anomaly a failed run can report reads as a learner's sentence, never a bare name."""

from __future__ import annotations

import pytest

from distlab.checkers import kafka
from distlab.tracks.explain import KAFKA_WORDS, reasons

REPORTED = [name for name in kafka.ANOMALIES if name not in kafka.UNKNOWN_ONLY]


@pytest.mark.parametrize("name", REPORTED)
def test_every_kafka_anomaly_has_words(name: str) -> None:
    assert name in KAFKA_WORDS


def test_a_hole_within_one_poll_is_explained() -> None:
    history = [
        {"index": 0, "process": 0, "type": "invoke", "f": "send", "value": [["send", "k", 1]]},
        {"index": 1, "process": 0, "type": "ok", "f": "send", "value": [["send", "k", [0, 1]]]},
        {"index": 2, "process": 0, "type": "invoke", "f": "send", "value": [["send", "k", 2]]},
        {"index": 3, "process": 0, "type": "ok", "f": "send", "value": [["send", "k", [1, 2]]]},
        {"index": 4, "process": 0, "type": "invoke", "f": "send", "value": [["send", "k", 3]]},
        {"index": 5, "process": 0, "type": "ok", "f": "send", "value": [["send", "k", [2, 3]]]},
        {"index": 6, "process": 1, "type": "invoke", "f": "poll", "value": [["poll"]]},
        {"index": 7, "process": 1, "type": "ok", "f": "poll", "value": [["poll", {"k": [[0, 1], [2, 3]]}]]},
    ]
    result = kafka.check(history)
    assert result["valid"] is False
    assert result["int_poll_skip_count"] == 1
    result["bad_error_types"] = [n for n in kafka.ANOMALIES if result.get(f"{n}_count")]
    said = reasons({"valid": False, "workload": result})
    assert any("int_poll_skip: one poll's messages skipped over offsets that hold messages" in r for r in said)
    assert not any(": anomaly" in r for r in said)


def test_a_committed_offset_past_every_commit_is_explained() -> None:
    """The owner reported offset 2 as committed while consumers had committed only 0."""
    history = [
        {"index": 0, "process": 0, "type": "invoke", "f": "send", "value": [["send", "k", 1]]},
        {"index": 1, "process": 0, "type": "ok", "f": "send", "value": [["send", "k", [0, 1]]]},
        {"index": 2, "process": 0, "type": "invoke", "f": "send", "value": [["send", "k", 2]]},
        {"index": 3, "process": 0, "type": "ok", "f": "send", "value": [["send", "k", [1, 2]]]},
        {"index": 4, "process": 0, "type": "invoke", "f": "send", "value": [["send", "k", 3]]},
        {"index": 5, "process": 0, "type": "ok", "f": "send", "value": [["send", "k", [2, 3]]]},
        {"index": 6, "process": 1, "type": "invoke", "f": "commit_offsets", "value": {"k": 0}},
        {"index": 7, "process": 1, "type": "ok", "f": "commit_offsets", "value": {"k": 0}},
        {"index": 8, "process": 2, "type": "invoke", "f": "assign", "value": ["k"]},
        {"index": 9, "process": 2, "type": "ok", "f": "assign", "value": {"keys": ["k"], "committed": {"k": 2}}},
        {"index": 10, "process": 2, "type": "invoke", "f": "poll", "value": [["poll"]]},
        {"index": 11, "process": 2, "type": "ok", "f": "poll",
         "value": [["poll", {"k": [[0, 1], [1, 2], [2, 3]]}]]},
    ]
    result = kafka.check(history)
    assert result["valid"] is False
    assert result["committed_ahead_count"] == 1
    result["bad_error_types"] = [n for n in kafka.ANOMALIES if result.get(f"{n}_count")]
    said = reasons({"valid": False, "workload": result})
    assert said == ["kafka committed_ahead: a consumer was told to resume past messages no consumer "
                    "had committed as processed (key k), 1 case(s)"]
