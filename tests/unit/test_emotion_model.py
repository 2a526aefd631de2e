"""The learned half of the emotion analyser: loading, determinism, and how it joins the rules."""

from app.domain import emotion_model
from app.domain.emotion import analyze, rule_view


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
    assert (again.max_n, again.rule_bonus, again.veto) == (
        model.max_n,
        model.rule_bonus,
        model.veto,
    )
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
