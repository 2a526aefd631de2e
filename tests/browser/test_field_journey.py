"""A grid worker logs a visit on a phone; it shows in the list; the street leader reviews it."""

from __future__ import annotations

import time
import uuid

import pytest

SHOTS = "/tmp/fq-shots"


@pytest.mark.browser
async def test_grid_logs_a_visit_and_street_reviews_it(phone, live_server, login, sql, browser):
    import os

    os.makedirs(SHOTS, exist_ok=True)
    marker = f"楼道堆放杂物影响通行 {uuid.uuid4().hex[:6]}"
    page = await phone.new_page()
    await login(page, "grid")

    started = time.monotonic()
    await page.goto(live_server + "/visits/new")
    await page.screenshot(path=f"{SHOTS}/visit-form.png", full_page=True)
    await page.check("input[name=topics][value=fire]")
    await page.fill("input[name=address]", "和顺小区3栋2单元501")
    await page.fill("textarea[name=summary]", marker)
    await page.check("input[name=mood][value=dissatisfied]")
    await page.click("form[action='/visits'] button[type=submit]")
    await page.screenshot(path=f"{SHOTS}/visit-after-submit.png", full_page=True)
    saved = page.locator(".saved .alert.ok")
    await saved.wait_for()
    elapsed = time.monotonic() - started
    assert elapsed < 30
    await page.screenshot(path=f"{SHOTS}/visit-saved.png", full_page=True)

    row = await sql.fetchrow(
        "SELECT v.id, v.kind, v.review_state, u.username FROM visit v"
        " JOIN app_user u ON u.id = v.author WHERE v.summary = $1",
        marker,
    )
    assert row["kind"] == "door" and row["username"] == "grid"
    assert row["review_state"] == "pending"

    await page.goto(live_server + "/visits")
    assert await page.locator(f"a[href='/visits/{row['id']}']").count() == 1
    await page.screenshot(path=f"{SHOTS}/visits-list.png")

    leader_context = await browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    try:
        street = await leader_context.new_page()
        await login(street, "street")
        await street.goto(f"{live_server}/visits/{row['id']}")
        await street.fill("textarea[name=review_comment]", "已核实，请跟进消防通道清理")
        await street.click("button[name=action][value=reviewed]")
        await street.locator("#review .pill").first.wait_for()
        await street.screenshot(path=f"{SHOTS}/visit-reviewed.png", full_page=True)
    finally:
        await leader_context.close()

    reviewed = await sql.fetchrow(
        "SELECT review_state, review_comment FROM visit WHERE id = $1", row["id"]
    )
    assert reviewed["review_state"] == "reviewed"
    assert reviewed["review_comment"] == "已核实，请跟进消防通道清理"
