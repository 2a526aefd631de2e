"""The text API's validation and the emotion partial's safe highlighting (no I/O)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.domain.emotion import analyze
from app.routes.text_api import MAX_TEXT, validate_text

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def test_validate_text():
    assert validate_text({"text": "你好"}) == ("你好", {})
    for body in (None, [], "x", {}, {"text": None}, {"text": ""}, {"text": "  "}, {"text": 5}):
        text, errors = validate_text(body)
        assert text is None and set(errors) == {"text"}, body
    assert validate_text({"text": "字" * MAX_TEXT})[0]
    assert validate_text({"text": "字" * (MAX_TEXT + 1)})[1]


def _render(analysis, text):
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations(newstyle=True)
    return env.get_template("platform/_emotion.html").render(analysis=analysis, text=text)


def test_partial_marks_signal_phrases_and_escapes_everything():
    text = "<script>x</script>再不解决就去北京上访！"
    analysis = analyze(text).to_dict()
    assert analysis["signals"]
    html = _render(analysis, text)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    for s in analysis["signals"]:
        assert f">{s['phrase']}</mark>" in html


def test_partial_ignores_stale_or_hostile_offsets():
    text = "今天情况平稳。"
    analysis = {
        "emotion": "calm",
        "intensity": 0.1,
        "signals": [
            {"kind": "escalate", "phrase": "<b>上访</b>", "start": 0, "end": 4},
            {"kind": "media", "phrase": "情况", "start": 2, "end": 4},
        ],
    }
    html = _render(analysis, text)
    assert "<b>" not in html
    assert html.count("<mark") == 1 and ">情况</mark>" in html
    assert "今天" in html and "平稳。" in html
    assert "not analysed" in _render(None, text)
