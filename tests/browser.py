"""A real browser for tests: Debian's chromium driven through its own chromedriver
(Selenium), headless, with the page's console collected and screenshots kept as test
artifacts in test-artifacts/ (or $DISTLAB_ARTIFACTS)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("DISTLAB_ARTIFACTS") or ROOT / "test-artifacts")


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:  # `make test` installs both from Debian's packages (system-deps)
        pytest.fail(f"{name} is not installed: run `make system-deps` (Debian's chromium and chromium-driver)")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless chromium; `console_errors(driver)` reads what its console said."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = _binary("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--allow-file-access-from-files"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(_binary("chromedriver")), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """The console's errors since the last call (warnings and logs are not failures)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def screenshot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
