"""Transaction anomalies drawn: every step of every cycle is an arrow with its kind and
key, every transaction a circle, and the checker's sentences stay beside the picture."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import orjson

from distlab.report.cycles import MAX_CYCLES, cycle_svg, cycles_html
from tests.conftest import shared_data
from tests.test_cli import distlab

SVG = "{http://www.w3.org/2000/svg}"


def _verdict(path: Path, tmp_path: Path) -> dict[str, Any]:
    proc = distlab("analyze", "txn", str(path), "--json", cwd=tmp_path)
    return orjson.loads(proc.stdout)["files"][0]["details"]


def test_the_paper_example_is_drawn_as_its_three_edge_cycle(tmp_path: Path) -> None:
    verdict = _verdict(shared_data("elle", "paper-example.edn"), tmp_path)
    anomaly = verdict["anomalies"]["G-single"][0]
    root = ET.fromstring(cycle_svg(anomaly))
    edges = root.findall(f".//{SVG}g[@class='edge']")
    txns = root.findall(f".//{SVG}g[@class='txn']")
    assert [e.get("data-kind") for e in edges] == [s["type"] for s in anomaly["steps"]] == ["rw", "wr", "ww"]
    assert [e.find(f"{SVG}text").text for e in edges] == ["rw 255", "wr 255", "ww 256"]
    assert sorted(t.find(f"{SVG}text").text for t in txns) == ["T1", "T2", "T3"]
    assert edges[0].find(f"{SVG}title").text == anomaly["steps"][0]["text"]  # the sentence on hover


def test_every_anomaly_of_a_history_is_drawn_up_to_the_cap(tmp_path: Path) -> None:
    verdict = _verdict(shared_data("elle", "si-without-g-single.edn"), tmp_path)
    page = cycles_html(verdict)
    cycles = sum(1 for cases in verdict["anomalies"].values() for c in cases if c.get("steps"))
    assert cycles > 0
    assert page.count("<svg") == min(cycles, sum(min(MAX_CYCLES, len([c for c in cs if c.get("steps")]))
                                                 for cs in verdict["anomalies"].values()))
    for kind in verdict["anomalies"]:
        if any(c.get("steps") for c in verdict["anomalies"][kind]):
            assert f'data-type="{kind}"' in page


def test_opposite_edges_stay_two_arrows_and_nothing_is_injected() -> None:
    anomaly = {"type": "G0", "cycle": [{"name": "T1", "value": "<script>x</script>"}],
               "steps": [{"from": "T1", "to": "T2", "type": "ww", "key": "<k>", "text": "a & b"},
                         {"from": "T2", "to": "T1", "type": "ww", "key": 1, "text": "c"}]}
    svg = cycle_svg(anomaly)
    root = ET.fromstring(svg)  # well-formed: the escaped key and value parse
    paths = [p.get("d") for p in root.iter(f"{SVG}path") if p.get("stroke")]
    assert len(paths) == 2 and paths[0] != paths[1][::-1]
    assert "<script>" not in svg and "&lt;k&gt;" in svg
    assert cycle_svg({"type": "G1a"}) == "" and cycles_html({"anomalies": {"G1a": [{"op": 1}]}}) == ""
