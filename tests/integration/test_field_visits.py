"""Visits over HTTP: the form (htmx and plain), validation, exactly once, scope, correction
window, review, lists and the API."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.support import new_uuid


async def grid_id(sql, username: str = "grid") -> int:
    return await sql.fetchval("SELECT unit FROM app_user WHERE username = $1", username)


def visit_form(**over) -> dict:
    data = {
        "client_uuid": new_uuid(),
        "kind": "door",
        "visited_at": "2026-11-20T10:30",
        "address": "东盛路18号2单元301",
        "persons_met": "张桂芳",
        "topics": ["dispute", "request"],
        "summary": "楼上漏水，邻里有矛盾",
        "mood": "dissatisfied",
        "follow_up_due": "2026-11-25",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


async def test_new_visit_form_has_outbox_conventions_and_defaults(as_user):
    s = await as_user("grid")
    page = await s.get("/visits/new")
    assert page.status_code == 200
    html = page.text
    assert "data-outbox" in html and 'hx-post="/visits"' in html and 'action="/visits"' in html
    assert re.search(r'name="client_uuid" value="[0-9a-f-]{36}"', html)
    assert 'name="_csrf_token"' in html
    assert re.search(r'name="kind" value="door" checked', html)
    assert 'type="datetime-local"' in html
    again = await s.get("/visits/new")
    uuids = [
        re.search(r'name="client_uuid" value="([0-9a-f-]{36})"', p).group(1)
        for p in (html, again.text)
    ]
    assert uuids[0] != uuids[1]


async def test_plain_post_stores_the_visit_and_redirects_to_it(as_user, sql):
    s = await as_user("grid")
    data = visit_form()
    response = await s.post_form("/visits", data)
    assert response.status_code == 303
    row = await sql.fetchrow(
        "SELECT * FROM visit WHERE client_uuid = $1::uuid", data["client_uuid"]
    )
    assert response.headers["location"] == f"/visits/{row['id']}"
    assert row["unit"] == await grid_id(sql)
    assert sorted(row["topics"]) == ["dispute", "request"]
    assert row["review_state"] == "pending"
    task = await sql.fetchrow(
        "SELECT * FROM follow_up_task WHERE source_type = 'visit' AND source_id = $1", row["id"]
    )
    assert str(task["due"]) == "2026-11-25" and task["kind"] == "follow_up"
    detail = await s.get(f"/visits/{row['id']}")
    assert detail.status_code == 200 and "楼上漏水" in detail.text


async def test_htmx_post_answers_the_saved_record_and_a_next_link(as_user):
    s = await as_user("grid")
    response = await s.post_form("/visits", visit_form(summary="htmx 走访"), htmx=True)
    assert response.status_code == 200
    assert "htmx 走访" in response.text
    assert 'href="/visits/new"' in response.text


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("summary", "", "此项为必填项"),
        ("kind", "flying", "不是允许的选项"),
        ("mood", "furious", "不是允许的选项"),
        ("topics", ["dispute", "gossip"], "不是允许的选项"),
        ("visited_at", "yesterday-ish", "日期和时间"),
        ("visited_at", "2099-01-01T10:00", "不能是将来"),
        ("follow_up_due", "2026-13-40", "YYYY-MM-DD"),
        ("follow_up_due", "2026-11-01", "不能早于走访"),
        ("client_uuid", "not-a-uuid", "UUID"),
        ("client_uuid", "", "此项为必填项"),
        ("grid_id", "999999", "未找到"),
        ("grid_id", "abc", "整数"),
        ("household_id", "999999", "不在所选网格"),
        ("address", "", "填写地址或选择住户"),
        ("summary", "长" * 4001, "过长"),
    ],
)
async def test_bad_input_comes_back_422_with_the_message_and_what_was_typed(
    as_user, field, value, message
):
    s = await as_user("grid")
    data = visit_form(**{field: value})
    data["persons_met"] = "王大爷和老伴"
    response = await s.post_form("/visits", data, htmx=True)
    assert response.status_code == 422, response.text[:500]
    assert message in response.text
    assert 'value="王大爷和老伴"' in response.text
    assert "<form" in response.text and "<html" not in response.text
    plain = await s.post_form("/visits", data)
    assert plain.status_code == 422 and "<html" in plain.text and message in plain.text


async def test_same_client_uuid_twice_stores_one_visit_and_answers_success_both_times(as_user, sql):
    s = await as_user("grid")
    data = visit_form()
    first = await s.post_form("/visits", data)
    second = await s.post_form("/visits", data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert (
        await sql.fetchval(
            "SELECT count(*) FROM visit WHERE client_uuid = $1::uuid", data["client_uuid"]
        )
        == 1
    )
    assert (
        await sql.fetchval(
            "SELECT count(*) FROM follow_up_task t JOIN visit v ON v.id = t.source_id"
            " AND t.source_type = 'visit' WHERE v.client_uuid = $1::uuid",
            data["client_uuid"],
        )
        == 1
    )


async def test_concurrent_posts_of_one_client_uuid_store_one_visit(as_user, sql):
    s = await as_user("grid")
    data = visit_form()
    answers = await asyncio.gather(*(s.post_form("/visits", data, htmx=True) for _ in range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert (
        await sql.fetchval(
            "SELECT count(*) FROM visit WHERE client_uuid = $1::uuid", data["client_uuid"]
        )
        == 1
    )


async def test_api_answers_201_then_200_with_the_same_record(as_user, sql):
    s = await as_user("grid")
    body = {
        "client_uuid": new_uuid(),
        "visited_at": "2026-11-21T09:00:00+08:00",
        "address": "吉林大路1号",
        "topics": ["fire"],
        "summary": "楼道堆物",
        "mood": "calm",
        "resolved_on_site": True,
    }
    first = await s.post_json("/api/v1/visits", body)
    second = await s.post_json("/api/v1/visits", body)
    assert first.status_code == 201, first.text
    assert second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["grid_id"] == await grid_id(sql)
    assert first.json()["resolved_on_site"] is True
    got = await s.get(f"/api/v1/visits/{first.json()['id']}")
    assert got.status_code == 200 and got.json()["summary"] == "楼道堆物"
    concurrent = {**body, "client_uuid": new_uuid()}
    answers = await asyncio.gather(*(s.post_json("/api/v1/visits", concurrent) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"summary": "x", "address": "a"}, "client_uuid"),
        ({"client_uuid": "zzz", "summary": "x", "address": "a"}, "client_uuid"),
        ({"client_uuid": "UUID", "address": "a"}, "summary"),
        ({"client_uuid": "UUID", "summary": "x", "address": "a", "kind": 5}, "kind"),
        (
            {"client_uuid": "UUID", "summary": "x", "address": "a", "topics": "dispute,nope"},
            "topics",
        ),
        ({"client_uuid": "UUID", "summary": "x", "address": "a", "visited_at": 12}, "visited_at"),
        ({"client_uuid": "UUID", "summary": "x", "address": "a", "grid_id": "1e9"}, "grid_id"),
        ({"client_uuid": "UUID", "summary": ["x"], "address": {"a": 1}}, "address"),
        ({"client_uuid": "UUID", "summary": ["x"], "address": "a"}, "summary"),
    ],
)
async def test_api_bad_input_answers_422_per_field(as_user, body, field):
    s = await as_user("grid")
    body = {k: (new_uuid() if v == "UUID" else v) for k, v in body.items()}
    response = await s.post_json("/api/v1/visits", body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


async def test_other_street_grid_worker_cannot_read_or_write_grid_records(as_user, sql):
    s = await as_user("grid")
    created = await s.post_json(
        "/api/v1/visits", {"client_uuid": new_uuid(), "address": "a", "summary": "only mine"}
    )
    visit_id = created.json()["id"]
    other = await as_user("grid2")
    assert (await other.get(f"/visits/{visit_id}")).status_code == 404
    assert (await other.get(f"/api/v1/visits/{visit_id}")).status_code == 404
    assert (await other.get(f"/visits/{visit_id}/edit")).status_code == 404
    assert (await other.post_form(f"/visits/{visit_id}/edit", visit_form())).status_code == 404
    listed = await other.get("/api/v1/visits")
    assert visit_id not in [v["id"] for v in listed.json()["items"]]
    wrong_grid = await other.post_form("/visits", visit_form(grid_id=await grid_id(sql)))
    assert wrong_grid.status_code == 422
    street = await as_user("street")
    assert (await street.get(f"/visits/{visit_id}")).status_code == 200


async def test_author_corrects_within_24_hours_audited_then_read_only(as_user, sql):
    s = await as_user("grid")
    data = visit_form()
    response = await s.post_form("/visits", data)
    visit_id = int(response.headers["location"].rsplit("/", 1)[1])
    edit = await s.post_form(f"/visits/{visit_id}/edit", {**data, "summary": "更正后的摘要"})
    assert edit.status_code == 303
    assert await sql.fetchval("SELECT summary FROM visit WHERE id = $1", visit_id) == "更正后的摘要"
    audit = await sql.fetchrow(
        "SELECT * FROM audit_event WHERE action = 'visit.correct' AND object_id = $1", str(visit_id)
    )
    assert "更正后的摘要" in audit["detail"]
    await sql.execute(
        "UPDATE visit SET created_at = now() - interval '25 hours' WHERE id = $1", visit_id
    )
    detail = await s.get(f"/visits/{visit_id}")
    assert f"/visits/{visit_id}/edit" not in detail.text
    late = await s.post_form(f"/visits/{visit_id}/edit", {**data, "summary": "太晚了"})
    assert late.status_code == 422
    assert await sql.fetchval("SELECT summary FROM visit WHERE id = $1", visit_id) == "更正后的摘要"
    community = await as_user("community")
    other = await community.post_form(f"/visits/{visit_id}/edit", {**data, "summary": "他人"})
    assert other.status_code == 422


async def test_street_reviews_and_sends_back_and_the_author_sees_why(as_user, sql):
    s = await as_user("grid")
    response = await s.post_form("/visits", visit_form(summary="待审阅的走访"))
    visit_id = int(response.headers["location"].rsplit("/", 1)[1])
    street = await as_user("street")
    queue = await street.get("/review")
    pending = await sql.fetchval(
        "SELECT count(*) FROM visit WHERE review_state = 'pending'"
        " AND unit_path LIKE (SELECT path FROM unit WHERE code = 'DS') || '%'"
    )
    # The queue shows the count; the newest page holds the record unless other tests of the
    # session have logged later visits in the street, in which case "more" leads to it.
    assert queue.status_code == 200 and f"({pending})" in queue.text
    assert "待审阅的走访" in queue.text or "/visits?review=pending" in queue.text
    refused = await street.post_form(
        f"/visits/{visit_id}/review", {"action": "returned"}, htmx=True
    )
    assert refused.status_code == 422 and "需要返工" in refused.text
    back = await street.post_form(
        f"/visits/{visit_id}/review", {"action": "returned", "review_comment": "请补充在场人员"}
    )
    assert back.status_code == 303
    tasks = await s.get("/tasks")
    assert "请补充在场人员" in tasks.text
    late = visit_form(summary="补充后")
    await sql.execute(
        "UPDATE visit SET created_at = now() - interval '3 days' WHERE id = $1", visit_id
    )
    fixed = await s.post_form(f"/visits/{visit_id}/edit", late)
    assert fixed.status_code == 303
    assert await sql.fetchval("SELECT review_state FROM visit WHERE id = $1", visit_id) == "pending"
    ok = await street.post_form(
        f"/visits/{visit_id}/review", {"action": "reviewed", "review_comment": "好"}, htmx=True
    )
    assert ok.status_code == 200
    row = await sql.fetchrow("SELECT * FROM visit WHERE id = $1", visit_id)
    assert row["review_state"] == "reviewed" and row["review_comment"] == "好"
    grid_cannot = await s.post_form(f"/visits/{visit_id}/review", {"action": "reviewed"})
    assert grid_cannot.status_code == 403
    assert (await s.post_form(f"/visits/{visit_id}/edit", late)).status_code == 422


async def test_list_filters_and_pages_with_htmx(as_user, sql):
    s = await as_user("grid")
    for i in range(23):
        await s.post_json(
            "/api/v1/visits",
            {
                "client_uuid": new_uuid(),
                "address": f"分页路{i}号",
                "summary": f"分页{i}",
                "visited_at": "2026-10-05T10:00",
                "kind": "reception",
                "mood": "agitated",
                "topics": ["security"],
            },
        )
    listing = await s.get("/visits?kind=reception&date_from=2026-10-05&date_to=2026-10-05")
    assert listing.status_code == 200
    assert listing.text.count('class="record"') == 20
    assert 'id="more-2"' in listing.text
    more = await s.get(
        "/visits?kind=reception&date_from=2026-10-05&date_to=2026-10-05&page=2",
        headers={"hx-request": "true", "hx-target": "more-2"},
    )
    assert more.text.count('class="record"') == 3 and "<html" not in more.text
    api = await s.get("/api/v1/visits?topic=security&mood=agitated&date_from=2026-10-05")
    assert len(api.json()["items"]) == 20 and api.json()["has_more"] is True
    none = await s.get("/api/v1/visits?mood=calm&date_from=2026-10-05&date_to=2026-10-05")
    assert none.json()["items"] == []
    bad = await s.get("/api/v1/visits?date_from=soon&mood=grumpy")
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"date_from", "mood"}
    page_bad = await s.get("/visits?date_from=soon")
    assert page_bad.status_code == 200
    pending = await s.get("/api/v1/visits?review=pending")
    assert all(v["review_state"] == "pending" for v in pending.json()["items"])


async def test_household_search_offers_options_for_the_picker(as_user, sql):
    gid = await grid_id(sql)
    path = await sql.fetchval("SELECT path FROM unit WHERE id = $1", gid)
    hid = await sql.fetchval(
        "INSERT INTO household (unit, unit_path, address, head_name, head_phone, size, tags,"
        " created_at) VALUES ($1, $2, '幸福里7号楼3单元502', '刘淑琴', '', 2, '{}', now())"
        " RETURNING id",
        gid,
        path,
    )
    s = await as_user("grid")
    found = await s.get("/households/search?q=7号楼")
    assert f'value="{hid}"' in found.text
    other = await as_user("grid2")
    assert f'value="{hid}"' not in (await other.get("/households/search?q=7号楼")).text
    response = await s.post_form("/visits", visit_form(address="", household_id=hid))
    assert response.status_code == 303
    visit = await sql.fetchrow("SELECT * FROM visit WHERE household = $1", hid)
    assert visit["address"] == "幸福里7号楼3单元502"
