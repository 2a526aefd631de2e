"""Operations surface: request ids, JSON access logs, ``/metrics`` (admin or bearer token)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from tests.support import new_uuid


async def test_request_id_is_echoed_or_generated(session):
    s = session()
    given = await s.get("/login", headers={"x-request-id": "abc-123.def"})
    assert given.headers["x-request-id"] == "abc-123.def"
    fresh = await s.get("/login")
    assert len(fresh.headers["x-request-id"]) == 32
    hostile = await s.get("/login", headers={"x-request-id": 'x"\n{"admin":true}' + "y" * 80})
    assert hostile.headers["x-request-id"] != 'x"\n{"admin":true}' + "y" * 80
    assert len(hostile.headers["x-request-id"]) == 32


async def test_every_request_writes_one_json_log_line(as_user, caplog):
    s = await as_user("grid")
    caplog.set_level(logging.INFO, logger="fengqiao.access")
    rid = "log-" + new_uuid()[:8]
    response = await s.request(
        "POST",
        "/api/v1/visits",
        json={"client_uuid": new_uuid(), "address": "日志路1号", "summary": "日志"},
        headers={"x-csrftoken": s.csrf, "x-request-id": rid},
    )
    assert response.status_code == 201
    lines = [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "fengqiao.access" and rid in r.getMessage()
    ]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "POST" and line["path"] == "/api/v1/visits"
    assert line["route"] == "/api/v1/visits" and line["status"] == 201
    assert line["user_id"] and line["duration_ms"] >= 0 and line["ts"]


async def test_metrics_need_an_admin_or_the_token(as_user, session, monkeypatch):
    anonymous = await session().get("/metrics")
    assert anonymous.status_code in (303, 401)
    grid = await as_user("grid")
    assert (await grid.get("/metrics")).status_code == 403
    await grid.get("/visits")
    admin = await as_user("admin")
    response = await admin.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'fengqiao_http_requests_total{method="GET",route="/visits",status="200"}' in text
    assert (
        'fengqiao_http_request_duration_seconds_bucket{method="GET",route="/visits",le="+Inf"}'
        in text
    )
    assert "fengqiao_queue_depth " in text and "fengqiao_queue_depth -1" not in text
    assert "fengqiao_rollup_dirty_marks " in text and "fengqiao_rollup_dirty_marks -1" not in text

    monkeypatch.setenv("FENGQIAO_METRICS_TOKEN", "scrape-token-123")
    scraper = session()
    ok = await scraper.get("/metrics", headers={"authorization": "Bearer scrape-token-123"})
    assert ok.status_code == 200 and "fengqiao_http_requests_total" in ok.text
    bad = await scraper.get("/metrics", headers={"authorization": "Bearer wrong"})
    assert bad.status_code in (303, 401)
    monkeypatch.setenv("FENGQIAO_METRICS_TOKEN", "")
    empty = await scraper.get("/metrics", headers={"authorization": "Bearer "})
    assert empty.status_code in (303, 401)


async def test_backup_and_restore_into_a_new_database_keep_every_row(servers, sql, tmp_path):
    """tools/backup.sh dumps the suite's database, tools/restore.sh restores it into a new one,
    and every table has the same number of rows."""
    import asyncio
    import os
    import subprocess
    import uuid

    import asyncpg

    from tests.support import ROOT, make_database_url

    env = dict(os.environ, DATABASE_URL=servers.database_url, ADMIN_URL=servers.admin_url)
    if await sql.fetchval("SELECT current_setting('server_version_num')::int") >= 160000:
        import pgserver

        env["PG_BIN"] = str(Path(pgserver.__file__).parent / "pginstall" / "bin")
    dump = await asyncio.to_thread(
        subprocess.run,
        ["sh", "tools/backup.sh", str(tmp_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    archive = dump.stdout.strip().splitlines()[-1]
    assert Path(archive).stat().st_size > 0
    name = f"fq_restore_{uuid.uuid4().hex[:8]}"
    tables = [
        r["t"]
        for r in await sql.fetch(
            "SELECT quote_ident(table_name) AS t FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        )
    ]
    # counts taken just before the dump would race other writers: the suite is sequential
    before = {t: await sql.fetchval(f"SELECT count(*) FROM {t}") for t in tables}
    try:
        await asyncio.to_thread(
            subprocess.run,
            ["sh", "tools/restore.sh", archive, name],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        conn = await asyncpg.connect(make_database_url(servers.admin_url, name))
        try:
            after = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables}
        finally:
            await conn.close()
        assert after == before
        assert sum(after.values()) > 100
    finally:
        admin = await asyncpg.connect(servers.admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
