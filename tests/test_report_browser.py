"""Reports in a real browser (Debian's chromium, headless): report.html and the Lamport
diagram load from file:// with no console errors, the diagram holds exactly the traced
arrows and drops, a real click on an arrow shows that message's body, and the
linearizability view marks the culprit the verdict names. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.report.build import write_report
from distlab.runner import run_test
from tests.browser import console_errors, screenshot
from tests.test_report_diagram import trace_counts


@pytest.fixture(scope="module")
def broadcast_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    result = run_test(TestOptions(
        workload="broadcast", bin=str(example_path("broadcast")), node_count=3, time_limit=4.0, rate=20.0,
        nemesis=["partition", "kill"], nemesis_interval=0.7, loss=0.05, duplication=0.05, seed=2, store=str(store)))
    write_report(result.run_dir)
    return result.run_dir


@pytest.fixture(scope="module")
def stale_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    result = run_test(TestOptions(workload="lin-kv", bin=str(example_path("lin-kv-proxy")), bin_args=["lww-kv"],
                                  node_count=3, time_limit=5.0, rate=50.0, seed=1, store=str(store)))
    assert result.valid is False
    write_report(result.run_dir)
    return result.run_dir


def _wait(driver: Any, script: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_the_report_loads_clean_with_its_diagram(browser: Any, broadcast_run: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get((broadcast_run / "report.html").as_uri())
    assert "broadcast" in browser.title
    assert len(browser.find_elements(By.CSS_SELECTOR, "img.plot")) >= 3
    frame = browser.find_element(By.CSS_SELECTOR, "iframe[src='messages.html']")
    browser.execute_script("arguments[0].scrollIntoView()", frame)
    browser.switch_to.frame(frame)
    assert _wait(browser, "return window.distlabDiagram && window.distlabDiagram.ready")
    browser.switch_to.default_content()
    screenshot(browser, "report-broadcast")
    assert console_errors(browser) == []


def test_the_diagram_has_every_traced_arrow_and_a_click_shows_its_body(browser: Any, broadcast_run: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    want = trace_counts(broadcast_run / "messages.jsonl")
    browser.get((broadcast_run / "messages.html").as_uri())
    assert _wait(browser, "return window.distlabDiagram && window.distlabDiagram.ready")
    api = browser.execute_script("var d = window.distlabDiagram; return {arrows: d.arrows, drops: d.drops, errors: d.errors}")
    assert api == {"arrows": want["arrows"], "drops": want["drops"], "errors": []}
    # a server-to-server arrow: reveal it, then click where it is drawn, as a person would
    pick = browser.execute_script("""
        var d = window.distlabDiagram;
        for (var i = 0; i < d.arrows; i++) { var s = d.select(i); if (s && s.kind === 'server' && s.src !== s.dest) return [i, s]; }
        return null;""")
    assert pick is not None
    index, chosen = pick
    span = browser.execute_script("return window.distlabDiagram.point(arguments[0])", index)
    browser.execute_script("window.distlabDiagram.zoomTo(arguments[0], arguments[1])",
                           span["sent"], span["until"])  # its own span: neighbours fall apart
    browser.execute_async_script(  # the redraw at the new zoom happens on the next animation frame
        "var done = arguments[arguments.length - 1];"
        "requestAnimationFrame(function () { requestAnimationFrame(function () { done(true); }); });")
    point = browser.execute_script("return window.distlabDiagram.point(arguments[0])", index)
    browser.execute_script("document.getElementById('detail').textContent = ''")
    canvas = browser.find_element(By.ID, "c")
    size = canvas.size
    ActionChains(browser).move_to_element_with_offset(
        canvas, int(point["x"] - size["width"] / 2), int(point["y"] - size["height"] / 2)).click().perform()
    detail = browser.find_element(By.ID, "detail").text
    assert f"{chosen['src']} → {chosen['dest']}" in detail and chosen["type"] in detail
    body_field = next(k for k in chosen["body"] if k not in ("type", "msg_id"))
    assert body_field in detail
    screenshot(browser, "diagram-selected")
    assert console_errors(browser) == []


def test_the_linearizability_view_marks_the_culprit(browser: Any, stale_run: Path) -> None:
    from selenium.webdriver.common.by import By

    results = orjson.loads((stale_run / "results.json").read_bytes())
    culprit = next(ln for ln in results["workload"]["explanation"].splitlines() if ln.startswith("cannot linearize"))
    called, returned = re.search(r"called at record (\d+), returned at record (\d+)", culprit).groups()
    browser.get((stale_run / "report.html").as_uri())
    frame = browser.find_element(By.CSS_SELECTOR, "iframe[src='linearizability.html']")
    browser.switch_to.frame(frame)
    failed = [e for e in browser.find_elements(By.CSS_SELECTOR, ".op.failed") if e.get_attribute("title")]
    assert len(failed) == 1 and f"records {called}..{returned}" in failed[0].get_attribute("title")
    assert failed[0].value_of_css_property("background-color") == "rgba(240, 128, 128, 1)"
    browser.switch_to.default_content()
    screenshot(browser, "report-linearizability")
    assert console_errors(browser) == []
