"""The petition journey in Chromium on a phone: desk registers → dept accepts and answers →
复查 → 复核 → final → the same matter raised again is refused (Art. 36)."""

from __future__ import annotations

import re
import uuid

import pytest

CONTENT = "楼顶漏水三年无人维修，物业与开发商互相推诿。"


async def as_user(phone, login, username: str):
    await phone.clear_cookies()
    page = await phone.new_page()
    await login(page, username)
    return page


async def take(page, base: str, case_id: str, action: str, fields: dict[str, str] | None = None,
               selects: dict[str, str] | None = None) -> None:
    await page.goto(f"{base}/cases/{case_id}")
    box = page.locator(f"#action-{action}")
    await box.locator("summary").click()
    for name, value in (selects or {}).items():
        await box.locator(f"select[name={name}]").select_option(label=value)
    for name, value in (fields or {}).items():
        await box.locator(f"[name={name}]").fill(value)
    async with page.expect_navigation():
        await box.locator("button[type=submit]").click()
    assert page.url.rstrip("/").endswith(f"/cases/{case_id}"), page.url


async def register(page, base: str, phone_number: str) -> None:
    await page.goto(f"{base}/cases/new")
    await page.select_option("#f-channel", "visit")
    await page.fill("#f-petitioner_name", "浏览器测试人")
    await page.fill("#f-petitioner_phone", phone_number)
    await page.fill("#f-content", CONTENT)
    await page.fill("#f-request", "修缮楼顶")
    async with page.expect_navigation():
        await page.click("form button[type=submit]")


@pytest.mark.browser
async def test_petition_journey_to_final_and_repeat_refused(phone, live_server, login):
    number = "137" + str(uuid.uuid4().int)[:8]
    desk = await as_user(phone, login, "desk")
    await register(desk, live_server, number)
    match = re.search(r"/cases/(\d+)", desk.url)
    assert match, desk.url
    case_id = match.group(1)
    await take(desk, live_server, case_id, "transfer", selects={"lead": "区住建局"})
    await desk.close()

    dept = await as_user(phone, login, "dept")
    await take(dept, live_server, case_id, "accept")
    await take(dept, live_server, case_id, "opinion",
               {"facts_and_reasons": "经查属实", "opinion": "责成物业维修",
                "legal_basis": "《物业管理条例》"}, {"outcome": "予以支持"})
    await dept.goto(f"{live_server}/cases/{case_id}/opinion")
    assert "信访处理意见书" in await dept.content()
    await dept.close()

    desk = await as_user(phone, login, "desk")
    await take(desk, live_server, case_id, "request_review",
               {"reviewing_body": "区人民政府", "reason": "不服"})
    await desk.close()
    leader = await as_user(phone, login, "leader")
    await take(leader, live_server, case_id, "decide_review", {"opinion": "维持"},
               {"outcome": "维持"})
    await leader.close()
    desk = await as_user(phone, login, "desk")
    await take(desk, live_server, case_id, "request_rereview",
               {"reviewing_body": "市信访局", "reason": "仍不服"})
    await desk.close()
    leader = await as_user(phone, login, "leader")
    await take(leader, live_server, case_id, "decide_rereview", {"opinion": "维持"},
               {"outcome": "维持"})
    await leader.close()
    desk = await as_user(phone, login, "desk")
    await take(desk, live_server, case_id, "close", {"summary": "复核终结"})
    assert "终结" in await desk.locator("h1 .pill").inner_text()

    await register(desk, live_server, number)
    body = await desk.content()
    assert "第三十六条" in body
    assert "不再受理" in body
