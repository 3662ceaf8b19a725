"""`distlab serve` as a user runs it: a real uvicorn server on loopback over a real store,
fetched over HTTP; nothing outside the store is ever served."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import node_path
from tests.test_cli import distlab


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)  # sent as written: no client-side normalising of ../
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, dict(resp.getheaders()), body


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("serve")
    echo = ["test", "-w", "echo", "--node-count", "1", "--time-limit", "2", "--rate", "20", "-q"]
    assert distlab(*echo, "--bin", node_path("echo"), "--seed", "1", "--no-report", cwd=cwd).returncode == 0
    bad = ["test", "-w", "broadcast", "--bin", node_path("broadcast_once"), "--node-count", "3",
           "--time-limit", "3", "--rate", "20", "--nemesis", "partition", "-q", "--seed", "2"]
    assert distlab(*bad, cwd=cwd).returncode == 1
    (cwd / "secret.txt").write_text("outside the store")
    (cwd / "store" / "echo" / "escape").symlink_to(cwd)  # a link out of the store
    return cwd / "store"


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "distlab", "serve", "--store", str(store), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):  # up to 300 tries, 0.1 s apart: a server that never listens fails the fixture
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
    else:
        pytest.fail("distlab serve did not start listening")
    yield port
    proc.terminate()
    proc.wait(10)


def test_runs_are_listed_newest_first_and_coloured_by_verdict(server: int) -> None:
    status, _, body = get(server, "/")
    assert status == 200
    assert body.index('class="invalid"') < body.index('class="valid"')  # the broadcast run came second
    status, _, api = get(server, "/api/runs")
    runs = json.loads(api)
    assert [(r["workload"], r["verdict"], r["node"]) for r in runs] == [
        ("broadcast", "invalid", "broadcast_once.py"), ("echo", "valid", "echo.py")]


def test_filters_by_verdict_workload_and_node(server: int) -> None:
    assert [r["workload"] for r in json.loads(get(server, "/api/runs?verdict=valid")[2])] == ["echo"]
    assert [r["verdict"] for r in json.loads(get(server, "/api/runs?workload=broadcast")[2])] == ["invalid"]
    assert json.loads(get(server, "/api/runs?node=nope.py")[2]) == []
    assert "no run matches" in get(server, "/?verdict=unknown")[2]


def test_latest_and_a_run_page_and_its_files(server: int, store: Path) -> None:
    status, headers, _ = get(server, "/latest")
    assert status == 307 and headers["location"].startswith("/runs/broadcast/")
    status, _, page = get(server, headers["location"])  # the run's report.html
    assert status == 200 and "INVALID" in page and 'href="messages.html"' in page
    status, _, results = get(server, headers["location"] + "results.json")
    assert status == 200 and json.loads(results)["valid"] is False
    echo = next(r for r in json.loads(get(server, "/api/runs")[2]) if r["workload"] == "echo")
    status, _, page = get(server, f"/runs/{echo['path']}/")  # no report: the page made from its files
    assert status == 200 and "history.jsonl" in page and "distlab report" in page


@pytest.mark.parametrize("path", [
    "/runs/../secret.txt", "/runs/%2e%2e/secret.txt", "/runs/echo/escape/secret.txt",
    "/runs/..%2fsecret.txt", "/runs//etc/passwd", "/runs/echo", "/runs/nope/",
])
def test_nothing_outside_the_store_or_not_a_run_is_served(server: int, path: str) -> None:
    status, _, body = get(server, path)
    assert status in (404, 400), (path, status)
    assert "outside the store" not in body and "root:" not in body


def test_bad_store_and_busy_port_are_one_line_errors(tmp_path: Path, server: int, store: Path) -> None:
    proc = distlab("serve", "--store", str(tmp_path / "none"), cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no such folder" in proc.stderr
    proc = distlab("serve", "--store", str(store), "--port", str(server), cwd=tmp_path, env={**os.environ})
    assert proc.returncode == 2 and "in use" in proc.stderr and "Traceback" not in proc.stderr


def test_the_run_list_in_a_real_browser(server: int, browser: object) -> None:
    from selenium.webdriver.common.by import By

    from tests.browser import console_errors, screenshot

    driver: Any = browser
    driver.get(f"http://127.0.0.1:{server}/")
    assert console_errors(driver) == []
    rows = driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
    colours = {r.get_attribute("data-verdict"): r.find_element(By.CSS_SELECTOR, "td.verdict").value_of_css_property(
        "background-color") for r in rows}
    assert set(colours) == {"valid", "invalid"}
    assert colours["invalid"] == "rgba(251, 217, 217, 1)" and colours["valid"] == "rgba(216, 245, 216, 1)"
    assert screenshot(driver, "serve-runs").stat().st_size > 1000
    driver.find_element(By.CSS_SELECTOR, "#runs tbody tr.invalid a").click()
    assert "/runs/broadcast/" in driver.current_url and "INVALID" in driver.page_source  # its report.html
    assert console_errors(driver) == []
