"""The suite's servers: the machine's (TEST_DATABASE_URL / TEST_REDIS_URL) or embedded ones.

A fresh database is created for the run (migrated, demo organisation seeded without history)
and dropped at the end, so several runs can share one server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.support import ROOT, Servers, WebSession, make_database_url

# pgserver logs its info lines from an atexit hook, after pytest has closed the captured stream
# its handler writes to ("--- Logging error ---" at the end of every embedded run).
logging.getLogger("pgserver").setLevel(logging.WARNING)

os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    from app.embedded import EmbeddedServers

    base_db = os.environ.get("TEST_DATABASE_URL", "")
    redis_url = os.environ.get("TEST_REDIS_URL", "")
    embedded = None
    tmp = None
    if not base_db or not redis_url:
        tmp = Path(
            tempfile.mkdtemp(
                prefix="fq-test-", dir=ROOT / "var" if (ROOT / "var").exists() else None
            )
        )
        embedded = EmbeddedServers(tmp, postgres=not base_db, redis=not redis_url)
        db_url, emb_redis = embedded.start()
        base_db = base_db or db_url
        redis_url = redis_url or emb_redis
    name = f"fq_test_{uuid.uuid4().hex[:10]}"
    admin_url = make_database_url(base_db, "postgres")

    async def create() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    database_url = make_database_url(base_db, name)
    os.environ["DATABASE_URL"] = database_url

    async def prepare() -> None:
        from app import db
        from app.db.migrate import migrate
        from app.services import demo

        db.configure(database_url)
        await migrate()
        await db.open_pool()
        try:
            await demo.seed(history=False)
        finally:
            await db.close_pool()

    asyncio.run(prepare())
    try:
        yield Servers(database_url, admin_url, redis_url, f"fq-test:{name}")
    finally:

        async def drop() -> None:
            conn = await asyncpg.connect(admin_url)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(drop())
        if embedded:
            embedded.stop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(servers: Servers):
    from app.settings import Settings

    return Settings(
        database_url=servers.database_url,
        redis_url=servers.redis_url,
        secret_key="test-secret-key",
        queue_name=servers.queue_name,
        rollup_defer_seconds=0.0,
    )


@pytest.fixture(scope="session")
async def client(settings) -> AsyncIterator:
    from litestar.testing import AsyncTestClient

    from app.main import create_app

    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def session(client):
    """A fresh anonymous session; ``await session.login("grid")`` to log in."""

    def make() -> WebSession:
        return WebSession(client)

    return make


@pytest.fixture
async def as_user(client):
    """``await as_user("street")`` -> a logged-in WebSession for that demo account."""

    async def make(username: str) -> WebSession:
        s = WebSession(client)
        response = await s.login(username)
        assert response.status_code == 303, response.text
        return s

    return make


@pytest.fixture(scope="session")
async def sql(servers: Servers) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection for assertions about what is stored."""
    conn = await asyncpg.connect(servers.database_url)
    try:
        yield conn
    finally:
        await conn.close()
