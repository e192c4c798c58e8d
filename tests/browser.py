"""Helpers for the real-browser test: the published site served by `pipeline.py serve`
over loopback, and Debian's headless chromium driven by selenium.

Everything here is bounded by explicit timeouts and talks only to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from tests.conftest import REPO, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = REPO / "tests" / "screenshots"
HOST = "127.0.0.1"
SERVER_START_S = 30.0
SERVER_STOP_S = 10.0
PAGE_LOAD_S = 15
# Debian's driver and browser only: these stop chromium calling home (updates, sync,
# field trials) so the test talks to nothing but the local server.
CHROME_ARGUMENTS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-dev-shm-usage", "--no-proxy-server", "--window-size=1280,1000",
)


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None. `make test` installs both."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    return f"{' and '.join(missing)} not installed (make test installs them)" if missing else None


def _answers(url: str) -> bool:
    # No proxy: an http_proxy in the environment must not see loopback requests.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def serving(working_db: Path, published: Path) -> Iterator[str]:
    """Run `pipeline.py serve` on the published file; yield its base URL.

    serve supervises a Datasette child (it does not exec it): the server gets its own
    process group, so teardown can sweep both even if the supervisor's handler fails.
    """
    port = free_port()
    # A file, not a pipe: nobody drains a pipe while tests run, and a full one blocks Datasette.
    log = published.with_name(f"{published.stem}.serve.log")
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "pipeline.py", "--db", str(working_db), "serve", str(published),
             "--host", HOST, "--port", str(port)],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while not _answers(f"{base}/-/versions.json"):
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"serve did not answer on {base} (exit {server.poll()}): {tail}")
            time.sleep(0.2)
        yield base
    finally:
        stop(server)
        _assert_no_datasette(port)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM lets serve stop Datasette cleanly; SIGKILL to the whole group if it hangs."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=SERVER_STOP_S)
    # Whatever is left in the group (a Datasette that outlived its supervisor) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(server.pid, signal.SIGKILL)


def _assert_no_datasette(port: int) -> None:
    """Fail loudly if a Datasette for this port outlived the server (an orphan holding it)."""
    deadline = time.monotonic() + SERVER_STOP_S
    while True:
        found = subprocess.run(["pgrep", "-f", f"datasette serve.*--port {port}( |$)"],
                               capture_output=True, timeout=5, check=False).stdout.split()
        if not found:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Datasette still running after serve stopped: pids {found}")
        time.sleep(0.2)


def chrome(profile: Path) -> WebDriver:
    """Headless chromium with a fresh profile: Debian's binaries, so selenium-manager
    never runs (an explicit driver path skips it) and nothing is downloaded."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*CHROME_ARGUMENTS, f"--user-data-dir={profile}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(PAGE_LOAD_S)
    driver.set_script_timeout(PAGE_LOAD_S)
    driver.set_window_size(1280, 1000)
    return driver


def screenshot(driver: WebDriver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if not driver.save_screenshot(str(path)):
        raise RuntimeError(f"screenshot {path} was not written")
    return path
