"""The explorer in a real browser: serve it, drive it in headless Chromium, watch the charts move.

Needs the ``explore`` extra, Playwright's Python package and Debian's ``chromium`` (Playwright's
own browser download is not used: it runs the system Chromium); ``.ci/run`` installs them. The
test is skipped, with the reason, where one of them is missing. With ``EXPLORER_SCREENSHOT=PATH``
it saves a screenshot of the page in compare mode (``docs/explorer.png`` is made so).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip(
    "solara", reason='the explorer\'s extra is not installed: pip install ".[explore]"'
)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed: pip install playwright"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("Chromium not found (Debian: apt-get install chromium)", allow_module_level=True)

START_TIMEOUT_S = 60
SPENT = re.compile(r"medical_relief ([\d,.]+) M yuan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def explorer(tmp_path_factory) -> Iterator[str]:
    """The explorer served by ``python -m sim.explore --port N`` on a free local port."""
    port = free_port()
    log = (tmp_path_factory.mktemp("explorer") / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.explore", "--port", str(port), "--host", "127.0.0.1"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"the explorer did not start; see {log.name}")
        time.sleep(0.5)
    yield url
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture
def page(explorer) -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.set_default_timeout(30_000)
        page.goto(explorer)
        page.wait_for_selector(".sim-status")
        yield page
        browser.close()


def status(page) -> str:
    return page.inner_text(".sim-status")


def wait_for_text(page, selector: str, text: str) -> None:
    """Wait until the element ``selector`` shows ``text`` (it may be redrawn meanwhile)."""
    page.wait_for_function(
        "([selector, text]) => (document.querySelector(selector)?.innerText ?? '').includes(text)",
        arg=[selector, text],
    )


def switch(page, label: str) -> None:
    """Click the checkbox labelled exactly ``label`` (Mesa's model parameters)."""
    page.locator("label").filter(has_text=re.compile(f"^{re.escape(label)}$")).click()


def run_months(page, months: int) -> list[float]:
    """Press Step ``months`` times; the milliseconds from each click to the updated status."""
    timings = []
    for _ in range(months):
        before = int(re.search(r"month (\d+) of", status(page))[1])
        started = time.perf_counter()
        page.get_by_role("button", name="Step").click()
        wait_for_text(page, ".sim-status", f"month {before + 1} of")
        timings.append(1000 * (time.perf_counter() - started))
    return timings


def chart_pixels(page, name: str) -> bytes:
    """A screenshot of the chart ``name`` (retried while the page redraws it)."""
    for _ in range(50):
        try:
            return page.locator(f".sim-chart-{name}").screenshot()
        except sync_api.Error:  # replaced while the screenshot was taken
            time.sleep(0.2)
    raise AssertionError(f"chart {name} never stood still for a screenshot")


def chart_changes(page, name: str, before: bytes, timeout_s: float = 10.0) -> bool:
    """Whether the chart's pixels differ from ``before`` within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if chart_pixels(page, name) != before:
            return True
        time.sleep(0.2)
    return False


def test_a_policy_switched_on_runs_month_by_month_and_its_charts_move(page):
    assert "month 0 of 120" in status(page)
    spending_before = chart_pixels(page, "spending")
    headcount_before = chart_pixels(page, "headcount")

    switch(page, "medical_relief")
    page.get_by_role("button", name="Reset").click()
    wait_for_text(page, ".sim-command-line", "policies.medical_relief.enabled=true")
    timings = run_months(page, 3)
    text = status(page)
    assert "month 3 of 120 (2021-03)" in text
    spent = SPENT.search(text)
    assert spent is not None and float(spent[1].replace(",", "")) > 0, text
    assert chart_changes(page, "spending", spending_before)
    assert chart_changes(page, "headcount", headcount_before)
    print(f"click to updated page, default county: {sorted(timings)} ms")


def test_compare_mode_shows_the_paired_difference_and_the_monitoring_colours(page):
    for label in ("medical_relief", "monitoring", "compare with no policy (same seed)"):
        switch(page, label)
    page.get_by_role("button", name="Reset").click()
    wait_for_text(page, ".sim-status", "compared with no policy")
    difference_before = chart_pixels(page, "difference")
    colours_before = chart_pixels(page, "colours")
    run_months(page, 4)
    text = status(page)
    difference = re.search(r"difference to no policy: headcount ([-+][\d.]+) points", text)
    assert difference is not None, text
    assert chart_changes(page, "difference", difference_before)
    assert chart_changes(page, "colours", colours_before)
    screenshot = os.environ.get("EXPLORER_SCREENSHOT")
    if screenshot:
        run_months(page, 32)
        page.evaluate("document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
        time.sleep(1)
        page.screenshot(path=Path(screenshot))
