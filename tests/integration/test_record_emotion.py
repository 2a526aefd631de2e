"""A record's page shows its stored emotion analysis, the signal phrases marked in its text."""

from __future__ import annotations

import json

from app.domain.emotion import analyze
from tests.integration import platform_helpers as h

TEXT = "户主说补偿再拖下去，就和邻居几十户一起去区政府门口拉横幅。<b>不是标签</b>"


async def _store(sql, table: str, record_id: int, text: str) -> dict:
    result = analyze(text).to_dict()
    await sql.execute(
        "INSERT INTO text_analysis (table_name, record_id, emotion, intensity, signals,"
        " analysed_at) VALUES ($1, $2, $3, $4, $5::jsonb, now())"
        " ON CONFLICT (table_name, record_id) DO UPDATE SET signals = EXCLUDED.signals",
        table,
        record_id,
        result["emotion"],
        result["intensity"],
        json.dumps(result["signals"], ensure_ascii=False),
    )
    return result


async def test_the_visit_page_marks_the_signal_phrases_of_its_summary(as_user, sql):
    vid = await h.add_visit(sql, "DS-C1-G1", TEXT)
    grid = await as_user("grid")
    before = await grid.get(f"/visits/{vid}")
    assert before.status_code == 200
    assert "尚未进行情绪分析" in before.text
    result = await _store(sql, "visit", vid, TEXT)
    assert result["signals"], "the analyser should find the banner threat"
    page = await grid.get(f"/visits/{vid}")
    assert page.status_code == 200
    for s in result["signals"]:
        assert f">{s['phrase']}</mark>" in page.text
    assert "风险信号" in page.text
    # the text is escaped, never markup
    assert "&lt;b&gt;不是标签&lt;/b&gt;" in page.text and "<b>不是标签</b>" not in page.text


async def test_a_calm_mood_over_a_threatening_summary_asks_the_reviewer_to_check(as_user, sql):
    vid = await h.add_visit(sql, "DS-C1-G1", TEXT)
    await sql.execute("UPDATE visit SET mood = 'calm' WHERE id = $1", vid)
    street = await as_user("street")
    assert "请核实情绪" not in (await street.get(f"/visits/{vid}")).text  # not analysed yet
    await _store(sql, "visit", vid, TEXT)
    assert "请核实情绪" in (await street.get(f"/visits/{vid}")).text
    await sql.execute("UPDATE visit SET mood = 'agitated' WHERE id = $1", vid)
    assert "请核实情绪" not in (await street.get(f"/visits/{vid}")).text
