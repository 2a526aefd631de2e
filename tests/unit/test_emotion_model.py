"""The learned half of the emotion analyser: loading, determinism, and how it joins the rules."""

from app.domain import emotion_model
from app.domain.emotion import analyze, rule_view


def test_shipped_model_loads_once():
    assert emotion_model.load() is not None
    assert emotion_model.load() is emotion_model.load()


def test_analysis_is_deterministic():
    text = "拖了两年还不给说法，我们几十户准备一起去市政府门口讨个说法"
    assert analyze(text).to_dict() == analyze(text).to_dict()


def test_every_rule_signal_is_kept():
    text = "不解决我就去北京上访，还要找记者曝光"
    rules = rule_view(text)[0]
    assert {s.kind for s in rules.signals} <= analyze(text).signal_kinds


def test_every_signal_carries_the_phrase_at_its_offsets():
    model = emotion_model.load()
    for text in ("这事再拖下去，大伙儿只能抱团去讨说法了", "实在扛不住了，想一了百了算了"):
        for s in analyze(text).signals:
            assert s.phrase and text[s.start : s.end] == s.phrase
        start, end = model.trigger(text, "gathering")
        assert 0 <= start < end <= len(text)


def test_a_kind_the_rules_cancelled_is_not_added_back():
    text = "前几天他说要喝农药，后来家里人劝住了，现在情绪稳定。"
    assert "self_harm" not in analyze(text).signal_kinds
