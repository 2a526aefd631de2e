"""The visit write path as one statement: exactly once under concurrency (form and API at
once), the roll-up mark committed with the visit, the answered task closed, the saved partial
rendered from the insert as a re-read renders it, and the pool's release without a reset."""

from __future__ import annotations

import asyncio
import re
import threading
import time

from tests.integration.test_field_visits import grid_id, visit_form
from tests.support import new_uuid


def _item(html: str, visit_id: int) -> str:
    """The ``<li>`` of one visit in a list or saved partial."""
    match = re.search(
        rf'<li class="record">\s*<a class="record-link" href="/visits/{visit_id}">'
        r".*?</li>",
        html,
        re.S,
    )
    assert match, html[:2000]
    return re.sub(r"\s+", " ", match.group(0))


async def test_form_and_api_posting_one_client_uuid_at_once_store_one_visit_one_task(as_user, sql):
    s = await as_user("grid")
    data = visit_form()
    body = {k: v for k, v in data.items()}
    answers = await asyncio.gather(
        *(s.post_form("/visits", data, htmx=True) for _ in range(3)),
        *(s.post_json("/api/v1/visits", body) for _ in range(3)),
    )
    codes = [a.status_code for a in answers]
    assert codes[:3] == [200] * 3, codes
    assert sorted(codes[3:]) in ([200, 200, 200], [200, 200, 201]), codes
    rows = await sql.fetch("SELECT id FROM visit WHERE client_uuid = $1::uuid", data["client_uuid"])
    assert len(rows) == 1
    assert {a.json()["id"] for a in answers[3:]} == {rows[0]["id"]}
    assert (
        await sql.fetchval(
            "SELECT count(*) FROM follow_up_task WHERE source_type = 'visit' AND source_id = $1",
            rows[0]["id"],
        )
        == 1
    )


async def test_the_roll_up_mark_is_stored_with_the_visit(as_user, sql):
    from app.services.rollups import _LOCK

    # Hold the recompute lock so no worker of the session (the browser tests' live server
    # runs one) processes the bucket's mark while this test looks at it.
    await sql.execute("SELECT pg_advisory_lock($1)", _LOCK)
    try:
        s = await as_user("grid")
        # A day no other test writes on (Beijing 2026-10-03; 15:30 UTC is 23:30 there), so the
        # bucket is unmarked before (marks are left for the roll-up tests' sweeps to process).
        data = visit_form(visited_at="2026-10-03T23:30", follow_up_due=None)
        path = await sql.fetchval("SELECT path FROM unit WHERE id = $1", await grid_id(sql))
        mark = (
            "SELECT marked_at FROM rollup_dirty WHERE unit_path = $1 AND day = '2026-10-03'::date"
        )
        assert await sql.fetchval(mark, path) is None
        before = await sql.fetchval("SELECT clock_timestamp()")
        response = await s.post_form("/visits", data, htmx=True)
        assert response.status_code == 200
        visit = await sql.fetchrow(
            "SELECT unit_path FROM visit WHERE client_uuid = $1::uuid", data["client_uuid"]
        )
        assert visit["unit_path"] == path
        marked = await sql.fetchval(mark, path)
        assert marked is not None and marked >= before
        # A repeated post stores nothing and leaves the mark as it is; another visit on the same
        # bucket finds the mark there and keeps it (one mark per bucket).
        assert (await s.post_form("/visits", data, htmx=True)).status_code == 200
        other = visit_form(visited_at="2026-10-03T20:00", follow_up_due=None)
        assert (await s.post_form("/visits", other, htmx=True)).status_code == 200
        assert await sql.fetchval(mark, path) == marked
        assert (
            await sql.fetchval(
                "SELECT count(*) FROM rollup_dirty"
                " WHERE unit_path = $1 AND day = '2026-10-03'::date",
                path,
            )
            == 1
        )
    finally:
        await sql.execute("SELECT pg_advisory_unlock($1)", _LOCK)


async def test_a_visit_written_during_a_recompute_of_its_bucket_marks_it_again(
    as_user, sql, servers
):
    import asyncpg

    s = await as_user("grid")
    path = await sql.fetchval("SELECT path FROM unit WHERE id = $1", await grid_id(sql))
    marks = "SELECT id FROM rollup_dirty WHERE unit_path = $1 AND day = '2026-10-04'::date"
    first = visit_form(visited_at="2026-10-04T10:00", follow_up_due=None)
    assert (await s.post_form("/visits", first, htmx=True)).status_code == 200
    # The worker (process_dirty) holds the mark FOR UPDATE while it recomputes the bucket,
    # then deletes it. (In a thread of its own: the test client blocks this loop.) A real
    # worker of the session (the browser tests' live server) may already have taken the first
    # visit's mark, so the stand-in worker makes sure the mark exists and holds it.
    locked, events = threading.Event(), []
    held_ids: list[int] = []

    def recompute() -> None:
        async def run() -> None:
            worker = await asyncpg.connect(servers.database_url)
            try:
                async with worker.transaction():
                    held = await worker.fetch(
                        "INSERT INTO rollup_dirty (unit_path, day, marked_at)"
                        " VALUES ($1, '2026-10-04'::date, clock_timestamp())"
                        " ON CONFLICT (unit_path, day)"
                        " DO UPDATE SET marked_at = rollup_dirty.marked_at RETURNING id",
                        path,
                    )
                    # ... and locks it as process_dirty does (FOR UPDATE, not the upsert's
                    # weaker no-key lock).
                    await worker.fetch(
                        "SELECT id FROM rollup_dirty WHERE id = $1 FOR UPDATE", held[0]["id"]
                    )
                    held_ids.extend(r["id"] for r in held)
                    events.append([r["id"] for r in held])
                    locked.set()
                    await asyncio.sleep(0.8)
                    await worker.execute("DELETE FROM rollup_dirty WHERE id = $1", held_ids[0])
                    events.append(time.monotonic())
            finally:
                locked.set()
                await worker.close()

        asyncio.run(run())

    thread = threading.Thread(target=recompute)
    thread.start()
    assert locked.wait(10)
    second = visit_form(visited_at="2026-10-04T11:00", follow_up_due=None)
    response = await s.post_form("/visits", second, htmx=True)
    answered = time.monotonic()
    thread.join(10)
    assert response.status_code == 200
    old = held_ids[0]
    assert events[0] == [old] and answered >= events[1]  # it waited for the recompute
    again = [r["id"] for r in await sql.fetch(marks, path)]
    assert len(again) == 1 and again != [old]


async def _grid_with_open_task(as_user, sql, username: str = "grid"):
    """A grid worker's session and the follow-up task of a visit just logged."""
    s = await as_user(username)
    first = visit_form(follow_up_due="2026-11-25")
    assert (await s.post_form("/visits", first)).status_code == 303
    first_id = await sql.fetchval(
        "SELECT id FROM visit WHERE client_uuid = $1::uuid", first["client_uuid"]
    )
    task_id = await sql.fetchval(
        "SELECT id FROM follow_up_task WHERE source_type = 'visit' AND source_id = $1", first_id
    )
    return s, task_id


async def test_a_visit_answering_a_task_closes_it_and_creates_its_own(as_user, sql):
    s, task_id = await _grid_with_open_task(as_user, sql)
    second = visit_form(task_id=str(task_id), follow_up_due=None, visited_at="2026-11-21T09:00")
    assert (await s.post_form("/visits", second)).status_code == 303
    second_id = await sql.fetchval(
        "SELECT id FROM visit WHERE client_uuid = $1::uuid", second["client_uuid"]
    )
    task = await sql.fetchrow("SELECT * FROM follow_up_task WHERE id = $1", task_id)
    assert task["done_at"] is not None
    assert (task["done_by_type"], task["done_by_id"]) == ("visit", second_id)
    assert (
        await sql.fetchval(
            "SELECT count(*) FROM follow_up_task WHERE source_type = 'visit' AND source_id = $1",
            second_id,
        )
        == 0
    )


async def test_each_shape_of_the_visit_statement_stores_what_it_should(as_user, sql):
    """The statement leaves out the task parts a visit has nothing for: with and without a
    follow-up date, answering a task or not, each visit is stored and tasked as before.
    (Another grid's worker: these visits stay out of the list the other tests page through.)"""
    s, task_id = await _grid_with_open_task(as_user, sql, "grid2")
    both = visit_form(
        task_id=str(task_id), follow_up_due="2026-11-26", visited_at="2026-11-21T09:00"
    )
    plain = visit_form(follow_up_due=None, visited_at="2026-11-21T10:00")
    for data in (both, plain):
        assert (await s.post_form("/visits", data)).status_code == 303
    rows = {
        r["client_uuid"]: r
        for r in await sql.fetch(
            "SELECT v.client_uuid::text, v.id, v.unit_path,"
            " (SELECT count(*) FROM follow_up_task t WHERE t.source_type = 'visit'"
            "  AND t.source_id = v.id AND t.due = '2026-11-26') AS own_tasks,"
            " (SELECT count(*) FROM follow_up_task t WHERE t.source_type = 'visit'"
            "  AND t.source_id = v.id) AS tasks"
            " FROM visit v WHERE v.client_uuid = ANY($1::uuid[])",
            [both["client_uuid"], plain["client_uuid"]],
        )
    }
    assert rows[both["client_uuid"]]["own_tasks"] == 1
    assert rows[plain["client_uuid"]]["tasks"] == 0
    task = await sql.fetchrow("SELECT * FROM follow_up_task WHERE id = $1", task_id)
    assert (task["done_by_type"], task["done_by_id"]) == ("visit", rows[both["client_uuid"]]["id"])


async def test_a_task_out_of_scope_is_not_closed_by_a_visit(as_user, sql):
    other = await as_user("grid")
    data = visit_form(follow_up_due="2026-11-25")
    assert (await other.post_form("/visits", data)).status_code == 303
    task_id = await sql.fetchval(
        "SELECT t.id FROM follow_up_task t JOIN visit v ON v.id = t.source_id"
        " AND t.source_type = 'visit' WHERE v.client_uuid = $1::uuid",
        data["client_uuid"],
    )
    # Someone whose scope does not hold that grid names the task in a visit of their own grid.
    outsider = await sql.fetchrow(
        "SELECT u.username FROM app_user u JOIN unit un ON un.id = u.unit"
        " WHERE un.tier = 'grid' AND u.role = 'grid_worker'"
        " AND NOT (SELECT path FROM unit WHERE id = $1) LIKE un.path || '%'"
        " ORDER BY u.id LIMIT 1",
        await grid_id(sql),
    )
    if outsider is None:  # pragma: no cover - the demo data has grid workers of other streets
        return
    o = await as_user(outsider["username"])
    mine = visit_form(task_id=str(task_id), follow_up_due=None)
    assert (await o.post_form("/visits", mine)).status_code == 303
    assert await sql.fetchval("SELECT done_at FROM follow_up_task WHERE id = $1", task_id) is None


async def test_the_saved_partial_shows_the_record_as_the_list_does(as_user, sql):
    s = await as_user("grid")
    # Follow-up already past: the overdue pill comes from the insert, not a re-read.
    data = visit_form(
        summary="保存后显示 " + new_uuid()[:8],
        visited_at="2026-11-20T10:30",
        follow_up_due="2026-11-21",
    )
    saved = await s.post_form("/visits", data, htmx=True)
    assert saved.status_code == 200
    visit_id = await sql.fetchval(
        "SELECT id FROM visit WHERE client_uuid = $1::uuid", data["client_uuid"]
    )
    listed = await s.get("/visits")
    assert listed.status_code == 200
    assert _item(saved.text, visit_id) == _item(listed.text, visit_id)
    assert "回访已逾期" in _item(saved.text, visit_id)
    # A repeated post (read back from the table) answers the same partial.
    again = await s.post_form("/visits", data, htmx=True)
    assert _item(again.text, visit_id) == _item(saved.text, visit_id)


async def test_released_connections_are_not_reset_but_their_transaction_is_rolled_back(client):
    from app import db

    app_pool = db.DB.pool  # the app's (on the test client's loop): set aside, then put back
    db.DB.pool = None
    try:
        await db.open_pool()
        pool = db.DB.pool
        assert pool._reset is db._keep_session
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")
            await conn.execute("CREATE TEMP TABLE fq_left_open (x int) ON COMMIT DROP")
            pid = await conn.fetchval("SELECT pg_backend_pid()")
        # No connection is left inside the abandoned transaction (asyncpg rolls it back).
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid  # the same one
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT to_regclass('pg_temp.fq_left_open')") is None
            assert await conn.fetchval("SELECT 1") == 1
        await db.close_pool()
    finally:
        db.DB.pool = app_pool
