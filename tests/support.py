"""Test helpers: servers for the suite, a per-role HTTP session, direct SQL for assertions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "fengqiao-demo"


@dataclass
class Servers:
    """Where the suite's PostgreSQL database and Redis live."""

    database_url: str
    admin_url: str
    redis_url: str
    queue_name: str


def make_database_url(base_url: str, name: str) -> str:
    """``base_url`` with its database name replaced by ``name`` (query string kept)."""
    head, sep, query = base_url.partition("?")
    prefix = head.rsplit("/", 1)[0]
    return f"{prefix}/{name}{sep}{query}"


@dataclass
class WebSession:
    """One user's browser-like session over a shared test client: its own cookies."""

    client: Any
    cookies: dict[str, str] = field(default_factory=dict)

    def _headers(self, extra: dict | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _remember(self, response: Any) -> None:
        for raw in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(raw)
            for key, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value

    async def request(self, method: str, url: str, *, headers: dict | None = None, **kw: Any):
        self.client.cookies.clear()
        kw.setdefault("follow_redirects", False)
        response = await self.client.request(method, url, headers=self._headers(headers), **kw)
        self._remember(response)
        return response

    async def get(self, url: str, **kw: Any):
        return await self.request("GET", url, **kw)

    @property
    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    async def ensure_csrf(self) -> str:
        if not self.csrf:
            await self.get("/login")
        return self.csrf

    async def post_form(self, url: str, data: dict | list, *, htmx: bool = False, **kw: Any):
        """A form post as the browser sends it (with the hidden CSRF field)."""
        token = await self.ensure_csrf()
        items = list(data.items()) if isinstance(data, dict) else list(data)
        flat: list[tuple[str, str]] = []
        for key, value in items:
            if isinstance(value, (list, tuple)):
                flat.extend((key, str(v)) for v in value)
            elif value is not None:
                flat.append((key, str(value)))
        flat.append(("_csrf_token", token))
        headers = {"hx-request": "true"} if htmx else {}
        from urllib.parse import urlencode

        return await self.request(
            "POST",
            url,
            content=urlencode(flat),
            headers={**headers, "content-type": "application/x-www-form-urlencoded"},
            **kw,
        )

    async def post_json(self, url: str, body: Any, **kw: Any):
        """A JSON API call with the ``x-csrftoken`` header."""
        token = await self.ensure_csrf()
        return await self.request("POST", url, json=body, headers={"x-csrftoken": token}, **kw)

    async def login(self, username: str, password: str = DEMO_PASSWORD):
        await self.ensure_csrf()
        response = await self.post_form("/login", {"username": username, "password": password})
        return response


def csrf_from_html(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    return match.group(1) if match else ""


def run_worker_burst(servers: Servers, timeout: float = 120) -> None:
    """Run the real arq worker in a subprocess until the queue is empty."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=servers.database_url,
        REDIS_URL=servers.redis_url,
        FENGQIAO_QUEUE_NAME=servers.queue_name,
        FENGQIAO_SECRET_KEY="test-secret",
    )
    subprocess.run(
        [sys.executable, "-m", "app.cli", "worker", "--burst"],
        env=env,
        check=True,
        timeout=timeout,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def new_uuid() -> str:
    return str(uuid.uuid4())
