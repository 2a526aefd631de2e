"""The learned half of the emotion analyser: loading, determinism, and how it joins the rules."""

from dataclasses import replace

import pytest

from app.domain import emotion_model
from app.domain.emotion import SIGNAL_KINDS, analyze, rule_view
from app.domain.emotion_model import RuleOutputs


def test_shipped_model_loads_once():
    assert emotion_model.load() is not None
    assert emotion_model.load() is emotion_model.load()


def test_analysis_is_deterministic():
    text = "拖了两年还不给说法，我们几十户准备一起去市政府门口讨个说法"
    assert analyze(text).to_dict() == analyze(text).to_dict()


def test_a_rule_signal_is_dropped_only_when_the_model_rules_it_out():
    model = emotion_model.load()
    texts = (
        "不解决我就去北京上访，还要找记者曝光",
        "商场搞跳楼价大甩卖，喇叭吵得整栋楼睡不着",
        "他说再不给钱就从楼顶跳下去",
    )
    for text in texts:
        rules, outputs, words = rule_view(text)
        kind_p = model.predict(text, words, outputs)[1]
        kinds = analyze(text).signal_kinds
        for s in rules.signals:
            assert (s.kind in kinds) == (kind_p[s.kind] >= model.veto), (text, s.kind)
    assert {"escalate", "media"} <= analyze(texts[0]).signal_kinds


def test_a_saved_model_reads_back_with_its_settings(tmp_path):
    model = emotion_model.load()
    path = tmp_path / "model.npz"
    model.save(path)
    again = emotion_model.read(path)
    fields = ("max_n", "rule_bonus", "veto", "readd", "readd_reasons")
    assert [getattr(again, f) for f in fields] == [getattr(model, f) for f in fields]
    assert again.vocabulary == model.vocabulary
    text = "再拖下去我们几十户就去区政府门口讨说法"
    _, outputs, words = rule_view(text)
    assert again.predict(text, words, outputs) == model.predict(text, words, outputs)


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


@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ("说说气话而已，我不会去北京的。", "escalate", "negated"),
        ("关于越级上访的规定，社区今天又宣讲了一遍。", "escalate", "policy"),
        ("前几天他说要喝农药，后来家里人劝住了，现在情绪稳定。", "self_harm", "withdrawn"),
        ("业主们在群里接龙团购年货。", "gathering", "innocent"),
    ],
)
def test_the_rules_say_why_they_dropped_a_kind(text, kind, reason):
    _, outputs, _ = rule_view(text)
    assert kind not in outputs.fired
    assert reason in outputs.reasons(kind)


def test_a_kind_the_rules_never_matched_has_no_reasons():
    _, outputs, _ = rule_view("请问低保年审要带哪些材料？")
    assert all(outputs.reasons(k) == frozenset() for k in SIGNAL_KINDS)


def _outputs(**cancelled: frozenset[str]) -> RuleOutputs:
    return RuleOutputs(
        emotion="anger",
        scores={},
        calm=0.0,
        fired=frozenset(),
        matched=frozenset(cancelled),
        cancelled=cancelled,
    )


def test_a_ruled_out_kind_comes_back_only_for_allowed_reasons_above_readd():
    model = replace(emotion_model.load(), readd=0.9, readd_reasons=frozenset({"withdrawn"}))
    probs = dict.fromkeys(model.kinds, 0.0)
    rules = _outputs(self_harm=frozenset({"withdrawn"}), escalate=frozenset({"negated"}))
    assert model.added_kinds({**probs, "self_harm": 0.95, "escalate": 0.99}, rules) == ["self_harm"]
    assert model.added_kinds({**probs, "self_harm": 0.85}, rules) == []
    both = _outputs(self_harm=frozenset({"withdrawn", "negated"}))
    assert model.added_kinds({**probs, "self_harm": 0.99}, both) == []
    # a kind the rules never matched needs only the ordinary threshold
    assert "media" in model.added_kinds({**probs, "media": 0.5}, rules)
