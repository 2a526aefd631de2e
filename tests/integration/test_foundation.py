"""Foundation: health, login/logout, sessions, CSRF, headers, scope of the unit API."""

from __future__ import annotations

import pytest

DEMO_ACCOUNTS = [
    "admin",
    "desk",
    "leader",
    "inspector",
    "dept",
    "street",
    "community",
    "grid",
    "grid2",
]


async def test_healthz_reports_database_and_redis(session):
    response = await session().get("/healthz")
    assert response.status_code == 200
    assert response.json()["db"] == "ok"
    assert response.json()["redis"] == "ok"


@pytest.mark.parametrize("username", DEMO_ACCOUNTS)
async def test_every_demo_account_logs_in_and_sees_its_home(as_user, username):
    s = await as_user(username)
    home = await s.get("/")
    assert home.status_code == 200
    assert 'name="fq-user"' in home.text
    assert f'content="{username}"' in home.text


async def test_wrong_password_is_refused_with_a_message(session):
    s = session()
    response = await s.login("grid", "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert "fq_session" not in s.cookies


async def test_pages_require_login_and_redirect_to_it(session):
    response = await session().get("/admin")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_api_without_login_answers_401(session):
    response = await session().get("/api/v1/units")
    assert response.status_code == 401


async def test_session_id_is_rotated_at_login(session):
    s = session()
    s.cookies["fq_session"] = "attacker-chosen-session"
    await s.login("grid")
    assert s.cookies["fq_session"] != "attacker-chosen-session"
    assert len(s.cookies["fq_session"]) >= 40


async def test_logout_revokes_the_session_on_the_server(as_user, session):
    s = await as_user("grid")
    token = s.cookies["fq_session"]
    response = await s.post_form("/logout", {})
    assert response.status_code == 303
    replay = session()
    replay.cookies["fq_session"] = token
    assert (await replay.get("/")).status_code == 303


async def test_unsafe_request_without_csrf_token_is_refused(as_user):
    s = await as_user("admin")
    response = await s.request(
        "POST",
        "/admin/departments",
        content="name=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403


async def test_login_posted_from_another_site_is_refused(session):
    s = session()
    response = await s.request(
        "POST",
        "/login",
        content="username=grid&password=fengqiao-demo",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "origin": "https://evil.example",
        },
    )
    assert response.status_code == 403
    assert "fq_session" not in s.cookies


async def test_security_headers_forbid_inline_script_and_framing(session):
    response = await session().get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("csrftoken")]
    assert cookie and "samesite=lax" in cookie[0].lower()


async def test_session_cookie_is_httponly_and_samesite(session):
    s = session()
    response = await s.login("grid")
    raw = [c for c in response.headers.get_list("set-cookie") if c.startswith("fq_session")][0]
    assert "httponly" in raw.lower() and "samesite=lax" in raw.lower()


async def test_login_is_throttled_per_account_with_a_clear_message(session, sql):
    username = "gw-dz-c2-g2"
    for _ in range(5):
        await session().login(username, "wrong-password")
    response = await session().login(username)
    assert response.status_code == 429
    assert "15" in response.text
    await sql.execute("DELETE FROM login_attempt WHERE username = $1", username)


async def test_units_api_returns_only_the_callers_subtree(as_user):
    street = await as_user("street")
    units = (await street.get("/api/v1/units")).json()
    names = {u["name"] for u in units}
    assert "东盛街道" in names
    assert "东站街道" not in names and "二道区" not in names
    root = [u for u in units if u["name"] == "东盛街道"][0]
    assert all(u["path"].startswith(root["path"]) for u in units)
    assert {"id", "name", "tier", "parent_id", "path"} <= set(units[0])

    leader = await as_user("leader")
    all_units = (await leader.get("/api/v1/units")).json()
    assert len(all_units) > len(units)
    assert {u["tier"] for u in all_units} == {"district", "street", "community", "grid", "compound"}


async def test_departments_api_lists_the_back_factory(as_user):
    s = await as_user("desk")
    names = {d["name"] for d in (await s.get("/api/v1/departments")).json()}
    assert "区住建局" in names


async def test_language_switches_to_english_and_back(as_user):
    s = await as_user("grid")
    await s.get("/lang/en")
    assert "Log out" in (await s.get("/")).text
    await s.get("/lang/zh_CN")
    assert "退出" in (await s.get("/")).text


async def test_openapi_schema_is_served(session):
    response = await session().get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/units" in response.json()["paths"]
