"""The website widget in a real browser: Debian's Chromium driven by playwright-core
(web/tests/browser.test.mjs) against the demo clinic page and the real servers. Node's test
runner does the browser work; this test starts the demo page and fails with its output."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from devtools.servers import free_port, wait_until_up
from tests.conftest import PROJECT, TEST_CLINIC, Servers

pytestmark = pytest.mark.e2e

WEB = PROJECT / "web"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = PROJECT / "results" / "screenshots"


@pytest.fixture(scope="module")
def demo_page(servers: Servers) -> Iterator[str]:
    """The demo clinic page (web/serve.mjs) on a free port, its widget pointed at the test server."""
    if not (WEB / "dist" / "widget.js").exists() or not (WEB / "node_modules").exists():
        pytest.fail("web/dist/widget.js is missing: run `make widget` (make test does it for you)")
    port = free_port()
    log = servers.workdir / "demo.log"
    env = {**os.environ, "PORT": str(port), "RASA_URL": f"http://127.0.0.1:{servers.rasa_port}"}
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["node", str(WEB / "serve.mjs")], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, log, timeout=30)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_widget_in_chromium(demo_page: str) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make services` (scripts/install-services.sh installs it)")
    env = {
        **os.environ,
        "DEMO_URL": demo_page,
        "SCREENSHOT_DIR": str(SCREENSHOTS),
        "CARE_TEAM_PHONE": TEST_CLINIC["CLINIC_CARE_TEAM_PHONE"],
        "CHROMIUM": str(CHROMIUM),
    }
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # this run's screenshots only
    result = subprocess.run(
        ["node", "--test", "--test-reporter=spec", "tests/render.test.mjs", "tests/browser.test.mjs"],
        cwd=WEB, env=env, capture_output=True, text=True, timeout=900,
    )
    print(result.stdout[-4000:])
    assert result.returncode == 0, f"browser test failed:\n{result.stdout[-8000:]}\n{result.stderr[-3000:]}"
    shots = sorted(p.name for p in SCREENSHOTS.glob("*.png"))
    assert len(shots) >= 8, shots
