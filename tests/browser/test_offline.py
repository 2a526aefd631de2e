"""The installable app offline, on a phone-sized Chromium: the outbox keeps records that cannot
reach the server and replays them exactly once.

Records are real visits (``/visits/new`` -> ``POST /visits``, exactly once per client_uuid; the
server refuses a visit without an address or household with 422). The server under test is the
real app plus a hook that simulates the deploy of a new service-worker version
(``tests/browser/server_app.py``).
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.browser.conftest import login_page, start_live

pytestmark = pytest.mark.browser

FORM = "form[data-outbox]"


@pytest.fixture(scope="module")
def site(servers):
    base, procs = start_live(servers, ["tests.browser.server_app"], worker=False)
    try:
        yield base
    finally:
        procs.stop()
        drain_background_work(servers)


def drain_background_work(servers) -> None:
    """Leave no queued work behind for later tests: the visits stored here enqueued roll-up
    jobs; run them now and wait until nothing is left marked dirty."""
    import threading

    import asyncpg

    from tests.support import run_worker_burst

    run_worker_burst(servers)

    async def wait_clean() -> None:
        conn = await asyncpg.connect(servers.database_url)
        try:
            if not await conn.fetchval("SELECT to_regclass('rollup_dirty')"):
                return
            for _ in range(120):
                if not await conn.fetchval("SELECT count(*) FROM rollup_dirty"):
                    return
                await asyncio.sleep(0.25)
        finally:
            await conn.close()

    thread = threading.Thread(target=lambda: asyncio.run(wait_clean()))
    thread.start()
    thread.join()


async def until(page, expression: str, timeout: float = 15_000) -> None:
    """Poll a JS expression (awaited) until it is truthy. Not ``wait_for_function``: its string
    predicates are evaluated with ``eval``, which the app's CSP forbids on pages the service
    worker serves from its cache."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout / 1000
    last = None
    while loop.time() < deadline:
        try:
            last = await page.evaluate(f"(async () => !!(await ({expression})))()")
            if last:
                return
        except Exception as exc:  # navigation in progress
            last = exc
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {expression!r} (last: {last!r})")


async def stored(sql, client_uuid: str) -> int:
    return await sql.fetchval(
        "SELECT count(*) FROM visit WHERE client_uuid = $1", uuid.UUID(client_uuid))


async def stored_eventually(sql, client_uuid: str, timeout: float = 20) -> int:
    """The count of stored visits once the replay has had time to land. After a navigation the
    badge starts hidden until the outbox script has counted, so "badge hidden" alone does not
    prove the replay ran; poll the database instead."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (count := await stored(sql, client_uuid)) == 0 and loop.time() < deadline:
        await asyncio.sleep(0.1)
    return count


async def outbox(page) -> list[dict]:
    return await page.evaluate("FQOutbox.all()")


WORKER_STATE = """navigator.serviceWorker.getRegistration().then(r => r ? {
    installing: r.installing && r.installing.state, waiting: r.waiting && r.waiting.state,
    active: r.active && r.active.state, controller: !!navigator.serviceWorker.controller} : null)"""


async def controlled_form(site, page, username="grid"):
    """Log in, wait until the service worker controls the page, open the form (now cached)."""
    await login_page(site, page, username, next_path="/visits/new")
    # an active worker (installed while the login page was navigating away, perhaps): the next
    # navigation is controlled by it, and the form it loads goes into the cache
    await until(page, "navigator.serviceWorker.ready.then(r => !!r.active)", 30_000)
    await page.goto(site + "/visits/new")
    try:
        await until(page, "window.FQOutbox && navigator.serviceWorker.controller")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; worker: {await page.evaluate(WORKER_STATE)}") from None


async def save_offline(page, summary: str, topics=(), address="东盛路18号2单元301") -> str:
    """Fill the visit form and submit it while the phone is offline; returns its client_uuid."""
    await page.fill("textarea[name=summary]", summary)
    await page.fill("input[name=address]", address)
    for t in topics:
        await page.check(f"input[name=topics][value={t}]")
    client_uuid = await page.input_value("input[name=client_uuid]")
    before = len(await outbox(page))
    await page.click(f"{FORM} button[type=submit]")
    await until(page, f"FQOutbox.all().then(r => r.length > {before})")
    return client_uuid


async def badge(page):
    return page.locator("#outbox-badge")


async def test_offline_record_survives_reload_and_is_sent_once_when_online(site, phone, sql):
    page = await phone.new_page()
    await controlled_form(site, page)
    await phone.set_offline(True)
    client_uuid = await save_offline(page, "离线走访：楼道漏水", topics=["fire"])
    await expect(page.locator("[data-outbox-note]")).to_contain_text("已保存在本机")
    await expect(page.locator("#outbox-badge")).to_have_text("1")
    # the blank form got a fresh client_uuid for the next record
    assert await page.input_value("input[name=client_uuid]") != client_uuid

    await page.reload()  # still offline: the worker serves the cached form
    await expect(page.locator(FORM)).to_be_visible()
    await expect(page.locator("#outbox-badge")).to_have_text("1")
    records = await outbox(page)
    assert [(r["client_uuid"], r["state"], r["user"]) for r in records] == [
        (client_uuid, "pending", "grid")]
    assert ["topics", "fire"] in records[0]["fields"]
    assert await stored(sql, client_uuid) == 0

    await phone.set_offline(False)
    await expect(page.locator("#outbox-badge")).to_be_hidden(timeout=20_000)
    assert await outbox(page) == []
    assert await stored(sql, client_uuid) == 1
    row = await sql.fetchrow(
        "SELECT u.username, v.topics, v.summary FROM visit v JOIN app_user u ON u.id = v.author "
        "WHERE v.client_uuid = $1", uuid.UUID(client_uuid))
    assert (row["username"], row["topics"]) == ("grid", ["fire"])
    assert row["summary"] == "离线走访：楼道漏水"
    # the heartbeat told the server this phone holds nothing now
    beat = await sql.fetchrow(
        "SELECT h.pending FROM outbox_heartbeat h JOIN app_user u ON u.id = h.user "
        "WHERE u.username = 'grid' ORDER BY reported_at DESC LIMIT 1")
    assert beat is not None and beat["pending"] == 0


async def test_the_next_user_does_not_get_the_pages_of_one_whose_session_expired(
    site, phone, sql
):
    page = await phone.new_page()
    await controlled_form(site, page)
    mine = site + "/visits?fq-who=grid-only"
    await page.goto(mine)
    cached = f"caches.open('fq-pages').then(c => c.match({json.dumps(mine)})).then(r => !!r)"
    await until(page, cached)
    # grid's session ends on the server; nobody logs out on this phone
    await sql.execute(
        "DELETE FROM app_session WHERE \"user\" = "
        "(SELECT id FROM app_user WHERE username = 'grid')")
    await login_page(site, page, "community", next_path="/")
    await until(page, "window.FQOutbox")
    await until(page, f"({cached}).then(hit => !hit)")


async def test_server_failures_during_replay_are_retried_without_duplicates(site, phone, sql):
    page = await phone.new_page()
    await controlled_form(site, page)
    await phone.set_offline(True)
    client_uuid = await save_offline(page, "服务器出错时的重试")
    seen: list[str] = []

    async def flaky(route):
        seen.append(route.request.method)
        n = len(seen)
        if n == 1:
            await route.abort("connectionreset")  # dropped connection
        elif n == 2:
            # the server stores it, but the answer is lost behind a failing proxy
            await route.fetch()
            await route.fulfill(status=502, body="bad gateway")
        elif n == 3:
            await route.fulfill(status=500, body="boom")
        else:
            await route.continue_()

    await phone.route("**/visits", flaky)
    await phone.set_offline(False)
    await expect(page.locator("#outbox-badge")).to_be_hidden(timeout=45_000)
    assert len(seen) >= 4
    assert await stored(sql, client_uuid) == 1
    assert await outbox(page) == []
    await phone.unroute("**/visits", flaky)


async def test_session_expired_offline_keeps_records_until_the_same_user_logs_in(site, phone, sql):
    page = await phone.new_page()
    await controlled_form(site, page)
    await phone.set_offline(True)
    client_uuid = await save_offline(page, "会话过期后补发")
    # the session ends while the phone is offline (expired / revoked on the server)
    await sql.execute(
        "DELETE FROM app_session WHERE \"user\" = "
        "(SELECT id FROM app_user WHERE username = 'grid')")
    await phone.set_offline(False)
    status = page.locator("#fq-outbox-status")
    await expect(status).to_contain_text("登录", timeout=20_000)
    await expect(status).to_contain_text("1")
    assert [r["state"] for r in await outbox(page)] == ["pending"]
    assert await stored(sql, client_uuid) == 0

    # another user logging in on this phone does not send grid's record
    await login_page(site, page, "community", next_path="/outbox")
    await until(page, "window.FQOutbox")
    await page.evaluate("FQOutbox.replay({force: true})")
    assert await stored(sql, client_uuid) == 0
    # community sees that a record of someone else waits, not what it says
    await expect(page.locator(".outbox-others")).to_contain_text("1")
    await expect(page.locator(".outbox-record")).to_have_count(0)
    assert "会话过期后补发" not in await page.content()

    async with page.expect_navigation():
        await page.click("#logout-form button")
    await login_page(site, page, "grid", next_path="/visits/new")
    assert await stored_eventually(sql, client_uuid) == 1
    await expect(page.locator("#outbox-badge")).to_be_hidden(timeout=20_000)
    assert await outbox(page) == []


async def test_rejected_record_is_quarantined_shown_fixed_and_resent(site, phone, sql):
    page = await phone.new_page()
    await controlled_form(site, page)
    await phone.set_offline(True)
    bad = await save_offline(page, "离线时忘了填地址", address="")
    good = await save_offline(page, "这条正常")
    await expect(page.locator("#outbox-badge")).to_have_text("2")
    await phone.set_offline(False)
    await until(page, 
        "FQOutbox.all().then(r => r.length === 1 && r[0].state === 'quarantined')",
        timeout=20_000)
    assert await stored(sql, good) == 1
    assert await stored(sql, bad) == 0

    await page.goto(site + "/outbox")
    card = page.locator(f".outbox-record[data-uuid='{bad}']")
    await expect(card).to_contain_text("被服务器退回")
    await expect(card.locator(".outbox-message")).to_contain_text("请填写地址或选择住户")
    await expect(page.locator("#outbox-badge")).to_have_text("1")

    await card.locator(".outbox-fix").click()
    await page.wait_for_url("**/visits/new?fq-outbox=*")
    await expect(page.locator("textarea[name=summary]")).to_have_value("离线时忘了填地址")
    assert await page.input_value("input[name=client_uuid]") == bad
    await expect(page.locator("[data-outbox-note]")).to_contain_text("请填写地址或选择住户")
    await expect(page.locator("input[name=address][aria-invalid=true]")).to_have_count(1)
    await page.fill("input[name=address]", "东盛路20号1单元102")
    await page.click(f"{FORM} button[type=submit]")
    await expect(page.locator("section.saved")).to_be_visible()
    await expect(page.locator("#outbox-badge")).to_be_hidden(timeout=10_000)
    await expect(page.locator("[data-outbox-note]")).to_have_count(0)
    await expect(page.locator("#fq-outbox-status")).to_contain_text("已发送")
    await expect(page.locator("input[name=address][aria-invalid=true]")).to_have_count(0)
    assert await stored(sql, bad) == 1
    assert await sql.fetchval("SELECT address FROM visit WHERE client_uuid = $1",
                              uuid.UUID(bad)) == "东盛路20号1单元102"
    assert await outbox(page) == []


async def test_quarantined_record_can_be_deleted(site, phone, sql):
    page = await phone.new_page()
    await controlled_form(site, page)
    await phone.set_offline(True)
    bad = await save_offline(page, "没有地址，删掉它", address="")
    await phone.set_offline(False)
    await until(page, 
        "FQOutbox.all().then(r => r.length === 1 && r[0].state === 'quarantined')",
        timeout=20_000)
    await page.goto(site + "/outbox")
    page.once("dialog", lambda d: asyncio.ensure_future(d.accept()))
    await page.locator(f".outbox-record[data-uuid='{bad}'] .outbox-delete").click()
    await expect(page.locator(".outbox-record")).to_have_count(0)
    await expect(page.locator("#outbox-empty")).to_be_visible()
    assert await stored(sql, bad) == 0


async def test_service_worker_update_keeps_pending_records(site, phone, sql):
    page = await phone.new_page()
    await controlled_form(site, page)

    async def version() -> str:
        return await page.evaluate("""() => new Promise(resolve => {
            const ch = new MessageChannel();
            ch.port1.onmessage = e => resolve(e.data);
            navigator.serviceWorker.controller.postMessage({type: 'VERSION'}, [ch.port2]);
        })""")

    old = await version()
    await phone.set_offline(True)
    first = await save_offline(page, "更新前保存的第一条")
    second = await save_offline(page, "更新前保存的第二条")
    # keep them queued while online: every POST of a record is dropped for now
    async def drop(route):
        await route.abort("connectionreset")

    await phone.route("**/visits", drop)
    await phone.set_offline(False)
    # online again, the phone reports what it still holds (the dashboards' "N on M phones")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    beat = None
    while loop.time() < deadline:
        beat = await sql.fetchrow(
            "SELECT h.pending, h.oldest_at FROM outbox_heartbeat h JOIN app_user u "
            "ON u.id = h.user WHERE u.username = 'grid' ORDER BY reported_at DESC LIMIT 1")
        if beat and beat["pending"] == 2:
            break
        await asyncio.sleep(0.25)
    assert beat and beat["pending"] == 2 and beat["oldest_at"] is not None, beat
    # a new version is deployed; the phone notices it
    await page.request.post(site + "/test/deploy")
    await page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    update = page.locator("#fq-update")
    await expect(update).to_be_visible(timeout=20_000)
    await expect(update).to_contain_text("新版本")
    assert len(await outbox(page)) == 2
    await update.locator("button").click()  # the new worker takes over, the page reloads
    await until(page, 
        "window.FQOutbox && navigator.serviceWorker.controller && "
        "document.getElementById('fq-update').hidden")
    new = await version()
    assert new != old
    assert sorted(r["client_uuid"] for r in await outbox(page)) == sorted([first, second])
    # the new worker's caches are in place and the old shell cache is gone
    names = await page.evaluate("caches.keys()")
    assert f"fq-shell-{new}" in names and f"fq-shell-{old}" not in names
    # the form still works offline under the new version
    await phone.set_offline(True)
    await page.reload()
    await expect(page.locator(FORM)).to_be_visible()
    await expect(page.locator("#outbox-badge")).to_have_text("2")
    await phone.unroute("**/visits", drop)
    await phone.set_offline(False)
    await expect(page.locator("#outbox-badge")).to_be_hidden(timeout=20_000)
    assert await stored(sql, first) == 1 and await stored(sql, second) == 1


async def test_two_tabs_replaying_at_once_store_each_record_once(site, phone, sql):
    tab1 = await phone.new_page()
    await controlled_form(site, tab1)
    tab2 = await phone.new_page()
    await tab2.goto(site + "/visits/new")
    await until(tab2, "window.FQOutbox && navigator.serviceWorker.controller")
    await phone.set_offline(True)
    a = await save_offline(tab1, "第一个标签页的记录")
    b = await save_offline(tab2, "第二个标签页的记录")
    c = await save_offline(tab1, "第一个标签页的第二条")

    # both tabs send the same records to the server at the same moment, bypassing the
    # tabs' replay lock: the server must still store each record once
    blocking = [True]

    async def gate(route):
        if blocking[0]:
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await phone.route("**/visits", gate)
    await phone.set_offline(False)
    records = await outbox(tab1)
    assert sorted(r["client_uuid"] for r in records) == sorted([a, b, c])
    blocking[0] = False
    race = """async (recs) => {
        const who = await FQOutbox.whoami();
        const runs = [];
        for (let i = 0; i < 3; i++) for (const r of recs) runs.push(FQOutbox.send(r, who.csrf));
        return (await Promise.all(runs)).map(o => o.kind);
    }"""
    results = await asyncio.gather(tab1.evaluate(race, records), tab2.evaluate(race, records))
    assert [len(r) for r in results] == [9, 9]
    assert all(kind == "ok" for kinds in results for kind in kinds), results
    await phone.unroute("**/visits", gate)
    # and both tabs' own replays run at once
    await asyncio.gather(tab1.evaluate("FQOutbox.replay({force: true})"),
                         tab2.evaluate("FQOutbox.replay({force: true})"))
    for tab in (tab1, tab2):
        await tab.reload()
    for client_uuid in (a, b, c):
        assert await stored_eventually(sql, client_uuid) == 1
    for tab in (tab1, tab2):
        await expect(tab.locator("#outbox-badge")).to_be_hidden(timeout=20_000)


async def test_logout_with_pending_records_warns(site, phone, sql):
    page = await phone.new_page()
    await controlled_form(site, page)
    await phone.set_offline(True)
    await save_offline(page, "退出前未发送")

    async def drop(route):
        await route.abort("connectionreset")

    await phone.route("**/visits", drop)  # the record stays on the phone
    await phone.set_offline(False)
    await expect(page.locator("#outbox-badge")).to_have_text("1")
    messages: list[str] = []

    async def dismiss(dialog):
        messages.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    await page.click("#logout-form button")
    await page.wait_for_timeout(500)
    assert messages and "1" in messages[0] and "退出" in messages[0]
    assert await page.locator("meta[name=fq-user]").get_attribute("content") == "grid"
    page.remove_listener("dialog", dismiss)
    await phone.unroute("**/visits", drop)
    await page.evaluate("FQOutbox.replay({force: true})")


async def test_installable_manifest_icons_and_worker_controls_the_page(site, phone):
    page = await phone.new_page()
    await login_page(site, page, "grid")
    manifest_href = await page.get_attribute("link[rel=manifest]", "href")
    response = await page.request.get(site + manifest_href)
    assert response.ok
    manifest = json.loads(await response.text())
    assert manifest["name"] == "枫桥" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    purposes = set()
    for icon in manifest["icons"]:
        r = await page.request.get(site + icon["src"])
        assert r.ok and r.headers["content-type"] == "image/png"
        purposes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes
    await page.reload()
    await until(page, "navigator.serviceWorker.controller !== null")
    script = await page.evaluate("navigator.serviceWorker.controller.scriptURL")
    scope = await page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.scope)")
    assert script == site + "/sw.js" and scope == site + "/"
    cdp = await phone.new_cdp_session(page)
    # Chromium's own installability check: nothing wrong but the test profile being incognito
    errors = (await cdp.send("Page.getInstallabilityErrors"))["installabilityErrors"]
    assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors
    parsed = await cdp.send("Page.getAppManifest")
    assert parsed["url"] == site + "/manifest.webmanifest" and parsed["errors"] == [], parsed
    assert await page.evaluate("navigator.storage.persisted !== undefined")


async def test_a_page_never_opened_shows_the_offline_page(site, phone):
    page = await phone.new_page()
    await controlled_form(site, page)
    await phone.set_offline(True)
    await page.goto(site + "/never-opened-page")
    await expect(page.locator("h1")).to_contain_text("本机尚未保存此页面")
    await phone.set_offline(False)


async def test_plain_form_post_that_fails_is_kept_by_the_worker(site, phone, sql):
    """The browser's own form submission (no script sees it, as without htmx) that cannot reach
    the server: the worker keeps it in the outbox and shows the outbox page."""
    page = await phone.new_page()
    await controlled_form(site, page)
    await page.fill("textarea[name=summary]", "无脚本提交的走访")
    await page.fill("input[name=address]", "东盛路18号2单元301")
    client_uuid = await page.input_value("input[name=client_uuid]")
    await phone.set_offline(True)
    await page.evaluate("document.querySelector('form[data-outbox]').submit()")
    await page.wait_for_url("**/outbox?fq-saved=*")
    await expect(page.locator("[data-outbox-note]")).to_contain_text("已保存在本机")
    records = await outbox(page)
    assert [(r["client_uuid"], r["user"], r["action"]) for r in records] == [
        (client_uuid, "grid", "/visits")]
    await phone.set_offline(False)
    await expect(page.locator("#outbox-badge")).to_be_hidden(timeout=20_000)
    assert await stored(sql, client_uuid) == 1


async def test_background_sync_sends_records_with_no_page_open(site, phone, sql):
    """The queue drains without any tab of the app open: the worker's Background Sync replays."""
    page = await phone.new_page()
    await controlled_form(site, page)
    assert await page.evaluate(
        "navigator.serviceWorker.ready.then(r => 'sync' in r)"), "no Background Sync"
    await phone.set_offline(True)
    client_uuid = await save_offline(page, "没有打开页面也能发送")
    await page.goto("about:blank")  # no page of the app is open any more
    await phone.set_offline(False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline and not await stored(sql, client_uuid):
        await asyncio.sleep(0.25)
    assert await stored(sql, client_uuid) == 1
    await page.goto(site + "/outbox")
    await expect(page.locator("#outbox-empty")).to_be_visible()


async def test_form_opened_from_the_cache_hours_later_gets_the_current_time(site, phone):
    page = await phone.new_page()
    await controlled_form(site, page)
    fresh = page.locator("input[name=visited_at]")
    assert await fresh.input_value() == await fresh.evaluate("e => e.defaultValue")
    cached_default = await fresh.input_value()
    await phone.set_offline(True)
    later = datetime.now(UTC) + timedelta(hours=3)
    await page.clock.set_system_time(later)
    await page.reload()  # the cached form, rendered three hours ago
    visited = page.locator("input[name=visited_at]")
    await until(page, "document.querySelector('input[name=visited_at]').value !== "
                f"{json.dumps(cached_default)}")
    drift = await visited.evaluate("e => Math.abs(Date.now() - new Date(e.value).getTime())")
    assert drift < 2 * 60 * 1000
    await phone.set_offline(False)


async def test_replay_sends_the_current_csrf_token_not_the_stored_one(site, phone, sql):
    page = await phone.new_page()
    await controlled_form(site, page)
    await phone.set_offline(True)
    client_uuid = await save_offline(page, "令牌过期的记录")
    # the token saved with the record is stale (e.g. the csrftoken cookie was renewed since)
    await page.evaluate("""async (id) => {
        const rec = await FQOutbox.get(id);
        rec.fields = rec.fields.map(kv => kv[0] === '_csrf_token' ? [kv[0], 'stale-token'] : kv);
        await FQOutbox.put(rec);
    }""", client_uuid)
    sent: list[tuple[str, str]] = []

    async def spy(route):  # sees the replay whether the page or the worker sends it
        form = dict(urllib.parse.parse_qsl(route.request.post_data or ""))
        sent.append((route.request.headers.get("x-csrftoken", ""), form.get("_csrf_token", "")))
        await route.continue_()

    await phone.route("**/visits", spy)
    await phone.set_offline(False)
    await expect(page.locator("#outbox-badge")).to_be_hidden(timeout=20_000)
    await phone.unroute("**/visits", spy)
    assert await stored(sql, client_uuid) == 1
    cookie = next(c["value"] for c in await phone.cookies() if c["name"] == "csrftoken")
    assert sent and all(header == field == cookie for header, field in sent), sent
