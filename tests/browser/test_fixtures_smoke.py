"""The browser fixtures themselves work: live server up, Chromium launches, a demo login."""

import pytest


@pytest.mark.browser
async def test_login_on_phone(phone, live_server, login):
    page = await phone.new_page()
    await login(page, "grid")
    assert page.viewport_size == {"width": 390, "height": 844}
    assert await page.evaluate("window.devicePixelRatio") == 2
