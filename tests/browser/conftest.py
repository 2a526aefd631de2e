"""Browser fixtures: a live server (web + worker subprocesses), Debian's Chromium via Playwright.

Playwright's async API is used throughout (pytest-asyncio runs in auto mode on one session loop;
the sync API refuses to run inside a running loop). Write browser tests as ``async def`` and
mark them ``@pytest.mark.browser``::

    @pytest.mark.browser
    async def test_something(phone, live_server, login):
        page = await phone.new_page()
        await login(page, "grid")
        await page.goto(live_server + "/visits/new")

``phone`` is a fresh context per test (390x844, DPR 2, mobile, touch, zh-CN, Asia/Shanghai,
service workers allowed); ``login(page, username)`` logs a demo account in through the real
login form.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError

from tests.support import DEMO_PASSWORD, ROOT, Servers

CHROMIUM = Path(os.environ.get("FENGQIAO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
    "service_workers": "allow",
}
LIVE_SECRET = "browser-test-secret-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(
    url: str, procs: list[subprocess.Popen], logs: list[Path], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                raise RuntimeError(
                    f"live server process exited ({proc.returncode}):\n{log.read_text()[-4000:]}"
                )
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    tail = logs[0].read_text()[-4000:]
    raise RuntimeError(f"live server not healthy after {timeout}s: {last}\n{tail}")


def live_env(servers: Servers) -> dict[str, str]:
    """The environment of the live server's processes."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=servers.database_url,
        REDIS_URL=servers.redis_url,
        FENGQIAO_QUEUE_NAME=servers.queue_name,
        FENGQIAO_SECRET_KEY=LIVE_SECRET,
        PYTHONUNBUFFERED="1",
    )
    return env


class LiveProcesses:
    """Subprocesses started with ``live_env``; ``stop()`` terminates them (kill after 15 s)."""

    def __init__(self, servers: Servers, argvs: list[list[str]]) -> None:
        self.env = live_env(servers)
        self.logdir = Path(tempfile.mkdtemp(prefix="fq-live-"))
        self.logs = [self.logdir / f"proc{i}.log" for i in range(len(argvs))]
        self.procs: list[subprocess.Popen] = []
        self._handles = []
        for argv, log in zip(argvs, self.logs, strict=True):
            fh = log.open("wb")
            self._handles.append(fh)
            self.procs.append(
                subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
            )

    def wait_healthy(self, base: str) -> None:
        _wait_healthy(base, self.procs, self.logs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for fh in self._handles:
            fh.close()


def start_live(
    servers: Servers, web_argv: list[str], *, worker: bool = True
) -> tuple[str, LiveProcesses]:
    """Start ``web_argv`` (a ``python -m ...`` web server taking ``--port``) and optionally the
    worker; wait for ``/healthz``; return the base URL and the processes (call ``stop()``)."""
    port = _free_port()
    argvs = [[sys.executable, "-m", *web_argv, "--port", str(port)]]
    if worker:
        argvs.append([sys.executable, "-m", "app.cli", "worker"])
    procs = LiveProcesses(servers, argvs)
    base = f"http://127.0.0.1:{port}"
    try:
        procs.wait_healthy(base)
    except BaseException:
        procs.stop()
        raise
    return base, procs


@pytest.fixture(scope="session")
def live_server(servers: Servers) -> Iterator[str]:
    """``python -m app.cli serve`` + ``worker`` on the suite's database; yields the base URL."""
    base, procs = start_live(servers, ["app.cli", "serve", "--host", "127.0.0.1"])
    try:
        yield base
    finally:
        procs.stop()


@pytest.fixture(scope="session")
async def playwright_instance() -> AsyncIterator:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
async def browser(playwright_instance) -> AsyncIterator:
    """Debian's Chromium, headless. Fails (never skips) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: browser tests need Debian's chromium "
            "(apt-get install chromium; CI installs it). Do not run `playwright install`."
        )
    b = await playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield b
    finally:
        await b.close()


@pytest.fixture
async def phone(browser) -> AsyncIterator:
    """A fresh browser context shaped like a phone (390x844), service workers allowed."""
    context = await browser.new_context(**PHONE)
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        await context.close()


async def login_page(base_url: str, page, username: str, password: str = DEMO_PASSWORD,
                     next_path: str = "/") -> None:
    """Log ``username`` in through the login form of ``page``; waits for the landing page."""
    try:
        await page.goto(f"{base_url}/login?next={next_path}")
    except PlaywrightError as exc:
        # seen once on a loaded machine: the navigation was aborted (net::ERR_ABORTED) while
        # the page before it was still busy; going again is what a user would do
        if "ERR_ABORTED" not in str(exc):
            raise
        await page.goto(f"{base_url}/login?next={next_path}")
    if not await page.locator("input[name=username]").count():
        raise AssertionError(f"no login form at {page.url}: {(await page.content())[:2000]}")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    async with page.expect_navigation():
        await page.click("form[action='/login'] [type=submit]")
    content = await page.locator("meta[name=fq-user]").get_attribute("content")
    assert content == username, f"login as {username} failed: {page.url}"


@pytest.fixture
def login(live_server: str) -> Callable:
    """``await login(page, "grid")``: log a demo account in on ``page`` (real login form)."""

    async def do(page, username: str, password: str = DEMO_PASSWORD, next_path: str = "/"):
        await login_page(live_server, page, username, password, next_path)
        return page

    return do
