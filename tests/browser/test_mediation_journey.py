"""Community staff run a mediation on a phone: open it with two parties, record a sitting,
close it with a written agreement, print the 调解协议书, and find its follow-up tasks."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest

from app.services.field import today

SHOTS = "/tmp/fq-shots"


@pytest.mark.browser
async def test_community_runs_a_mediation_to_a_printed_agreement_and_tasks(
    phone, live_server, login, sql
):
    os.makedirs(SHOTS, exist_ok=True)
    tag = uuid.uuid4().hex[:6]
    summary = f"楼上漏水损坏楼下吊顶 {tag}"
    page = await phone.new_page()
    await login(page, "community")

    await page.goto(live_server + "/mediations/new")
    await page.select_option("#f-dispute_type", "neighbour")
    await page.fill("#f-summary", summary)
    await page.fill("#f-parties-0-name", f"周建华{tag}")
    await page.fill("#f-parties-0-phone", "13800001111")
    await page.fill("#f-parties-1-name", f"吴丽{tag}")
    await page.check("input[name=methods][value=law]")
    await page.click("form[action='/mediations'] button[type=submit]")
    await page.locator(".saved .alert.ok").wait_for()
    mediation_id = await sql.fetchval("SELECT id FROM mediation WHERE summary = $1", summary)
    assert mediation_id
    await page.click(f".saved a[href='/mediations/{mediation_id}']")
    await page.wait_for_url(f"**/mediations/{mediation_id}")

    await page.fill("#session-form input[name=attendees]", "双方当事人、楼长")
    await page.fill("#session-form textarea[name=notes]", "双方到场陈述，查看漏水位置")
    async with page.expect_navigation():
        await page.click("#session-form button[type=submit]")
    assert await page.locator("text=双方到场陈述，查看漏水位置").count() == 1

    signed = today()
    due = signed + timedelta(days=5)
    outcome = page.locator(f"form[action='/mediations/{mediation_id}/outcome']")
    await outcome.locator("select[name=outcome]").select_option("agreed_written")
    await outcome.locator("details.boxed summary").click()
    await outcome.locator("textarea[name=facts]").fill("楼上卫生间防水层老化漏水")
    await outcome.locator("textarea[name=responsibilities]").fill("楼上住户承担维修责任")
    await outcome.locator("textarea[name=agreement_terms]").fill("楼上赔偿吊顶维修费800元")
    await outcome.locator("textarea[name=performance_method]").fill("微信转账一次付清")
    await outcome.locator("input[name=performance_due]").fill(due.isoformat())
    await outcome.locator("input[name=agreement_signed_on]").fill(signed.isoformat())
    await page.screenshot(path=f"{SHOTS}/mediation-outcome-form.png", full_page=True)
    async with page.expect_navigation():
        await outcome.locator("button[type=submit]").click()
    row = await sql.fetchrow("SELECT * FROM mediation WHERE id = $1", mediation_id)
    assert row["outcome"] == "agreed_written" and row["archive_no"]
    assert await page.locator(f"text={row['archive_no']}").count() >= 1
    await page.screenshot(path=f"{SHOTS}/mediation-closed.png", full_page=True)

    async with page.expect_navigation():
        await page.click(f"a[href='/mediations/{mediation_id}/agreement']")
    agreement = page.locator("article.agreement")
    text = await agreement.inner_text()
    for expected in (
        "人民调解协议书",
        row["archive_no"],
        f"周建华{tag}",
        f"吴丽{tag}",
        "楼上卫生间防水层老化漏水",
        "楼上住户承担维修责任",
        "楼上赔偿吊顶维修费800元",
        "微信转账一次付清",
        due.isoformat(),
        (signed + timedelta(days=30)).isoformat(),
    ):
        assert expected in text, expected
    await page.emulate_media(media="print")
    assert not await page.locator(".no-print").is_visible()
    await page.screenshot(path=f"{SHOTS}/mediation-agreement-print.png", full_page=True)
    await page.emulate_media(media="screen")

    await page.goto(live_server + "/tasks")
    tasks = page.locator(f"li.task:has(a[href='/mediations/{mediation_id}'])")
    assert await tasks.count() == 2, await tasks.all_inner_texts()
    kinds = await tasks.locator(".task-head strong").all_inner_texts()
    assert sorted(kinds) == sorted(["司法确认", "履行回访"])
    confirmation = tasks.filter(has_text="司法确认")
    assert (signed + timedelta(days=30)).isoformat() in await confirmation.inner_text()
    performance = tasks.filter(has_text="履行回访")
    assert due.isoformat() in await performance.inner_text()
    await page.screenshot(path=f"{SHOTS}/mediation-tasks.png", full_page=True)
