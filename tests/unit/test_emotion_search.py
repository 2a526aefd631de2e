"""The ninth pass's per-kind search (tools.train_emotion.search_kinds) adds up per-kind counts
taken under one threshold for every kind; that is only right if each kind's decision reads its
own threshold alone. Checked here on the shipped model against scoring a mixed setting directly.
"""

from dataclasses import replace

import numpy as np

from app.domain import emotion_model
from app.domain.emotion import SIGNAL_KINDS, rule_view
from tools import train_emotion
from tools.train_emotion import (
    KIND_THRESHOLDS,
    SETTINGS,
    examples,
    hybrid,
    kind_counts,
    probabilities,
    with_decision,
)

ROWS = [
    ("再拖下去我就从楼顶跳下去，让你们都看看。", ["self_harm", "media"]),
    ("工资再不给，我们几十个工友就去区政府门口拉横幅。", ["gathering"]),
    ("他说要拿刀去找那个包工头算账。", ["harm_others"]),
    ("区里不管，我就去省里告，再不行就找记者。", ["escalate", "media"]),
    ("暖气终于热了，谢谢社区的同志。", []),
    ("听说有人在群里说要去北京，我可不去，我相信区里。", []),
    ("实在没办法了，活着也没什么意思。", ["self_harm"]),
    ("业主们商量着周末一起去售楼处讨个说法。", ["gathering"]),
]


def test_per_kind_counts_add_up_to_scoring_the_mixed_setting_directly():
    model = emotion_model.load()
    rows = [{"text": t, "emotion": "anger", "signals": s, "batch": "x"} for t, s in ROWS]
    test = examples(rows, embed=False)
    # probabilities spread over the thresholds' range, so that the thresholds decide
    rng = np.random.default_rng(7)
    probs = [
        (
            dict.fromkeys(model.emotions, 1 / len(model.emotions)),
            {k: float(rng.uniform(0.05, 0.35)) for k in SIGNAL_KINDS},
            None,  # no encoder head
        )
        for _ in test
    ]
    folds = {"x": (test, model, probs)}
    counts = np.stack([kind_counts(folds, replace(SETTINGS, threshold=t)) for t in KIND_THRESHOLDS])
    assert len({c.tobytes() for c in counts}) > 1, "the thresholds should change some decisions"
    for pick in ((0, 4, 2, 1, 3), (4, 0, 0, 4, 1), (2, 2, 2, 2, 2), (1, 3, 0, 2, 4)):
        mixed = replace(SETTINGS, kind_thresholds=tuple(KIND_THRESHOLDS[i] for i in pick))
        m = with_decision(model, mixed)
        direct = np.zeros((len(SIGNAL_KINDS), 3))
        for e, p in zip(test, probs, strict=True):
            got = hybrid(m, e, p)[1]
            for j, k in enumerate(SIGNAL_KINDS):
                direct[j] += (k in got and k in e.kinds, k in got, k in e.kinds)
        summed = np.array([counts[pick[j], 0, j] for j in range(len(SIGNAL_KINDS))])
        assert (summed == direct).all()


def test_first_run_folds_swap_the_rules_half_only(monkeypatch):
    """The thirteenth pass's ``--frozen`` search: a FIRST_RUN_RULES fold's rows are seen by the
    rules of that batch's first run, while its model, probabilities and words stay; other folds
    are untouched."""
    model = emotion_model.load()
    rows = [{"text": t, "emotion": "anger", "signals": s, "batch": "x"} for t, s in ROWS]
    test = examples(rows, embed=False)
    probs = [probabilities(model, e) for e in test]
    quiet = rule_view("今天天气不错，谢谢社区。")
    asked = []

    def first_run_view(commit, workdir):
        asked.append(commit)
        return lambda text: quiet

    monkeypatch.setattr(train_emotion, "frozen_view", first_run_view)
    folds = {"fresh18": (test, model, probs), "other": (test, model, probs)}
    out = train_emotion.first_run_folds(folds)
    assert out["other"] is folds["other"]
    frozen, m, p = out["fresh18"]
    assert m is model and p is probs
    assert [e.text for e in frozen] == [e.text for e in test]
    assert [e.words for e in frozen] == [e.words for e in test]
    assert all(e.view is quiet[1] and not e.rules.signals for e in frozen)
    assert any(e.view.fired for e in test), "today's rules fire on these rows"
    assert train_emotion.FIRST_RUN_RULES["fresh18"] in asked


def test_fold_models_trained_in_processes_equal_those_trained_one_by_one():
    """``--jobs``: a model fitted in a forked process is the model fitted alone."""
    rows = [
        {"text": t, "emotion": "anger", "signals": s, "batch": f"b{i % 3}"}
        for i, (t, s) in enumerate(ROWS)
    ]
    exs = examples(rows, embed=False)
    small = replace(SETTINGS, min_df=1)
    left_out = ["b0", "b1", None]
    alone = train_emotion.train_many(exs, small, left_out, jobs=1)
    pooled = train_emotion.train_many(exs, small, left_out, jobs=2)
    for a, b in zip(alone, pooled, strict=True):
        assert a.vocabulary == b.vocabulary
        assert np.array_equal(a.kind_w, b.kind_w)
        assert np.array_equal(a.emotion_w, b.emotion_w)
    # each left its group out (None: every row)
    assert set(alone[0].vocabulary) < set(alone[2].vocabulary)
    assert set(alone[1].vocabulary) < set(alone[2].vocabulary)
