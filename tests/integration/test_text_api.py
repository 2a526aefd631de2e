"""POST /api/v1/text/analyze, and the worker storing analyses of records' free text."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from tests.integration import platform_helpers as h
from tests.support import ROOT, run_worker_burst

URL = "/api/v1/text/analyze"


async def test_analyze_answers_emotion_intensity_and_signals_with_offsets(as_user):
    s = await as_user("grid")
    text = "拖了三年没人管，实在忍无可忍，再不解决就去北京上访！"
    response = await s.post_json(URL, {"text": text})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["emotion"] == "anger"
    assert 0 <= body["intensity"] <= 1
    kinds = {sig["kind"] for sig in body["signals"]}
    assert "escalate" in kinds
    for sig in body["signals"]:
        assert set(sig) == {"kind", "phrase", "start", "end"}
        assert text[sig["start"] : sig["end"]] == sig["phrase"]


async def test_satisfied_text_has_no_signals(as_user):
    s = await as_user("community")
    response = await s.post_json(
        URL, {"text": "感谢网格员多次上门协调，邻里纠纷已经顺利解决，非常满意。"}
    )
    assert response.status_code == 200
    assert response.json()["emotion"] == "satisfied"
    assert response.json()["signals"] == []


async def test_bad_bodies_answer_422_with_a_field_message(as_user):
    s = await as_user("grid")
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": 123}, {"text": ["a"]}, [], "x"):
        response = await s.post_json(URL, body)
        assert response.status_code == 422, (body, response.text)
        assert "text" in response.json()["errors"]
    response = await s.post_json(URL, {"text": "好" * 20_001})
    assert response.status_code == 422
    assert response.json()["errors"]["text"]
    response = await s.post_json(URL, {"text": "好" * 20_000})
    assert response.status_code == 200


async def test_missing_or_broken_body_is_not_a_5xx(as_user):
    s = await as_user("grid")
    token = await s.ensure_csrf()
    for content in (b"", b"{not json", b"null"):
        response = await s.request(
            "POST",
            URL,
            content=content,
            headers={"x-csrftoken": token, "content-type": "application/json"},
        )
        assert response.status_code in (400, 422), (content, response.status_code)


async def test_needs_login_and_is_in_openapi(session, client):
    s = session()
    response = await s.post_json(URL, {"text": "你好"})
    assert response.status_code == 401
    schema = (await client.get("/schema/openapi.json")).json()
    op = schema["paths"][URL]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["required"] == ["text"]
    assert "200" in op["responses"] and "422" in op["responses"]


async def test_worker_job_and_backfill_store_analyses(sql, servers):
    angry = await h.add_visit(sql, "DS-C1-G1", "再不解决我就去市里上访，拉横幅！")
    calm = await h.add_visit(sql, "DS-C1-G1", "入户走访，了解家庭情况，无诉求。")
    # one record through the job ...
    await h.enqueue(servers, "analyze_record", "visit", angry)
    await asyncio.to_thread(run_worker_burst, servers)
    row = await sql.fetchrow(
        "SELECT * FROM text_analysis WHERE table_name = 'visit' AND record_id = $1", angry
    )
    assert row is not None and row["emotion"] == "anger"
    assert "escalate" in row["signals"] or "gathering" in row["signals"]
    # ... the sweep picks up the rest, and running it again changes nothing
    await h.enqueue(servers, "analyze_sweep")
    await asyncio.to_thread(run_worker_burst, servers)
    assert await sql.fetchval(
        "SELECT emotion FROM text_analysis WHERE table_name = 'visit' AND record_id = $1", calm
    )
    count = await sql.fetchval("SELECT count(*) FROM text_analysis")
    missing = await sql.fetchval(
        "SELECT count(*) FROM visit v LEFT JOIN text_analysis a ON a.table_name = 'visit'"
        " AND a.record_id = v.id WHERE a.id IS NULL"
    )
    assert missing == 0
    await h.enqueue(servers, "analyze_sweep")
    await asyncio.to_thread(run_worker_burst, servers)
    assert await sql.fetchval("SELECT count(*) FROM text_analysis") == count


def _backfill_cli(servers) -> str:
    env = dict(os.environ)
    env.update(DATABASE_URL=servers.database_url, FENGQIAO_SECRET_KEY="test-secret")
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", "--backfill"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout


async def test_backfill_command_reanalyses_an_edited_record(sql, servers):
    vid = await h.add_visit(sql, "DS-C1-G1", "对处理结果非常满意，感谢。")
    await asyncio.to_thread(_backfill_cli, servers)
    first = await sql.fetchval(
        "SELECT emotion FROM text_analysis WHERE table_name = 'visit' AND record_id = $1", vid
    )
    assert first == "satisfied"
    # Edited just after its analysis (not "in the future": a re-run within the same second
    # must then find nothing left to analyse).
    await sql.execute(
        "UPDATE visit SET summary = '再拖下去我就跳楼，活不下去了',"
        " updated_at = (SELECT analysed_at FROM text_analysis"
        "  WHERE table_name = 'visit' AND record_id = $1) + interval '1 millisecond'"
        " WHERE id = $1",
        vid,
    )
    assert "0 records" not in await asyncio.to_thread(_backfill_cli, servers)
    row = await sql.fetchrow(
        "SELECT emotion, signals FROM text_analysis WHERE table_name = 'visit' AND record_id = $1",
        vid,
    )
    assert "self_harm" in row["signals"]
    assert "0 records analysed" in await asyncio.to_thread(_backfill_cli, servers)


WAKE = """
import asyncio, json
from app import db
from worker.rollup_jobs import rollup_wake
async def main():
    db.configure({url!r})
    await db.open_pool()
    try:
        print(json.dumps(await rollup_wake({{}})))
    finally:
        await db.close_pool()
asyncio.run(main())
"""


async def test_the_wake_up_after_a_write_analyses_the_new_record_and_raises_its_warning(
    sql, servers
):
    # everything earlier is analysed, as a running worker's sweep leaves it
    await h.enqueue(servers, "analyze_sweep")
    await asyncio.to_thread(run_worker_burst, servers)
    vid = await h.add_visit(sql, "DS-C1-G1", "户主说补偿再不到位，就把农药带到街道办门口喝下去。")
    await h.run_with_db(servers, WAKE)
    signals = await sql.fetchval(
        "SELECT signals FROM text_analysis WHERE table_name = 'visit' AND record_id = $1", vid
    )
    assert signals is not None and "self_harm" in signals
    assert await sql.fetchval(
        "SELECT count(*) FROM warning WHERE kind = 'extreme_signal'"
        " AND subject_type = 'visit' AND subject_id = $1",
        str(vid),
    ) == 1
