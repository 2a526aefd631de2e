"""The message catalog is complete: every UI message has a Simplified Chinese translation."""

from app.i18n import catalog, gettext
from app.i18n.extract import messages, missing


def test_every_ui_message_has_a_chinese_translation():
    assert messages(), "extraction found no messages"
    assert missing("zh_CN") == {}


def test_chinese_is_the_default_and_english_is_the_msgid():
    assert gettext("Log in") == "登录"
    assert gettext("Log in", locale="en") == "Log in"


def test_placeholders_survive_translation():
    for msgid, text in catalog("zh_CN").items():
        for placeholder in ("%(name)s", "%(count)s"):
            if placeholder in msgid:
                assert placeholder in text, msgid
