"""Train the emotion analyser's learned half (``app/domain/emotion_data/model.npz``).

Run: ``.venv/bin/python -m tools.train_emotion`` writes the weights from every row of
``bench/data/emotion_labelled.jsonl`` and of the training corpus ``bench/data/emotion_corpus/``
except the held-out batches (:data:`HELD_OUT`) and those named with ``--exclude``; ``--cv``
instead prints the leave-one-batch-out table used to choose :data:`SETTINGS` (rules alone vs
the hybrid on each left-out batch, the first 410 rows counting as one batch and each corpus file
as one).

The ``--cv`` run never sees :data:`HELD_OUT` (fresh9): its rows are dropped as the file
is read, before anything else looks at them.

Training is L2-regularised logistic regression fitted with L-BFGS (scipy): softmax over the
five emotions, one sigmoid per signal kind. It takes two to three minutes and is deterministic.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, sparse

from app.domain.emotion import EMOTIONS, SIGNAL_KINDS, Analysis, Signal, rule_view
from app.domain.emotion_model import MODEL_PATH, RULE, Model, RuleOutputs, featurize
from bench.emotion_eval import CORPUS_PREFIX, load, load_corpus, macro_f1, signal_scores

HELD_OUT = frozenset({"fresh9"})
FIRST = "first410"
# Each batch with the commit of the rules as they were frozen before its first run: those
# rules never saw it, so a fold that leaves it out and reads these rules is honest end to end.
FROZEN_RULES = {"fresh3": "f41ab1a", "dev4": "3a38000", "fresh4": "1fbe1e4"}


@dataclass(frozen=True)
class Settings:
    """Hyperparameters; :data:`SETTINGS` holds the ones chosen by leave-one-batch-out CV."""

    max_n: int = 3
    rule_weight: float = 0.0
    emotion_l2: float = 0.003
    kind_l2: float = 0.003
    min_df: int = 2
    threshold: float = 0.15
    rule_bonus: float = 0.35
    veto: float = 0.005
    readd: float = 2.0


SETTINGS = Settings()


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


def examples(rows: Sequence[dict], view_fn=rule_view) -> list[Example]:
    """Run the rules (``view_fn``, by default today's) on every row."""
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


def train(train_set: Sequence[Example], s: Settings = SETTINGS) -> Model:
    """Fit both models on ``train_set``; features seen in fewer than ``min_df`` rows are
    dropped (rule outputs are always kept)."""
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
        thresholds=np.full(len(SIGNAL_KINDS), s.threshold),
        max_n=s.max_n,
        rule_weight=s.rule_weight,
        rule_bonus=s.rule_bonus,
        veto=s.veto,
        readd=s.readd,
    )


def hybrid(model: Model, ex: Example) -> tuple[str, set[str]]:
    """The hybrid's emotion and signal kinds on an example (as the analyser combines them)."""
    emo_p, kind_p = model.predict(ex.text, ex.words, ex.view)
    fired = model.kept_kinds(kind_p, {sig.kind for sig in ex.rules.signals})
    return model.emotion(emo_p, ex.rules.emotion), fired | set(model.added_kinds(kind_p, ex.view))


def scores(exs: Sequence[Example], preds: Sequence[tuple[str, set[str]]]) -> tuple[float, ...]:
    """(macro-F1, signal recall, signal precision, flag recall, flag precision)."""
    f1 = macro_f1([e.emotion for e in exs], [p[0] for p in preds])
    return (f1, *signal_scores([set(e.kinds) for e in exs], [p[1] for p in preds]))


def cross_validate(
    exs: Sequence[Example], s: Settings, only: str | None = None
) -> dict[str, tuple]:
    """Leave one batch out (or only ``only``): per group, (rows, rules' predictions, model
    probabilities)."""
    out = {}
    groups = [only] if only else list(dict.fromkeys(e.group for e in exs))
    for g in groups:
        test = [e for e in exs if e.group == g]
        model = train([e for e in exs if e.group != g], s)
        rules = [
            (e.rules.emotion, e.rules.signal_kinds, e.view.matched | e.view.innocent)
            for e in test
        ]
        probs = [model.predict(e.text, e.words, e.view) for e in test]
        out[g] = (test, rules, probs)
    return out


def combine(
    folds: dict[str, tuple],
    threshold: float,
    rule_bonus: float,
    veto: float = 0.0,
    readd: float = 2.0,
) -> dict[str, tuple[tuple, tuple]]:
    """Score each fold's rules alone and the hybrid at a signal threshold, rule bonus, veto
    and re-add threshold (as :class:`~app.domain.emotion_model.Model` combines them)."""
    table = {}
    for g, (test, rules, probs) in folds.items():
        preds = []
        for (r_emo, r_kinds, matched), (emo_p, kind_p) in zip(rules, probs, strict=True):
            emo = max(emo_p, key=lambda e: emo_p[e] + (rule_bonus if e == r_emo else 0.0))
            added = {
                k
                for k, p in kind_p.items()
                if k not in r_kinds and p >= (max(threshold, readd) if k in matched else threshold)
            }
            kept = {k for k in r_kinds if kind_p[k] >= veto}
            preds.append((emo, kept | added))
        table[g] = (scores(test, [r[:2] for r in rules]), scores(test, preds))
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


def search(exs: Sequence[Example], rows: Sequence[dict], l2s: Sequence[float]) -> None:
    """Print the mean hybrid figures (F1, recall, precision) of the two honest CVs for a grid
    of settings: the corpus folds (the rules never saw the corpus) and the frozen-rules folds."""
    corpus_groups = list(dict.fromkeys(e.group for e in exs if e.group.startswith(CORPUS_PREFIX)))
    for l2 in l2s:
        s = Settings(emotion_l2=l2, kind_l2=l2)
        corpus = {}
        for g in corpus_groups:
            corpus.update(cross_validate(exs, s, only=g))
        frozen = frozen_folds(rows, s)
        for t in (0.03, 0.05, 0.07, 0.1, 0.15, 0.25):
            for bonus in (0.0, 0.15, 0.35):
                for veto in (0.0, 0.05, 0.1):
                    for readd in (0.5, 0.7, 2.0):
                        cells = [
                            " ".join(
                                f"{v:.3f}"
                                for v in _mean(combine(f, t, bonus, veto, readd), 1)[:3]
                            )
                            for f in (corpus, frozen)
                        ]
                        head = f"l2={l2} t={t} bonus={bonus} veto={veto} readd={readd}"
                        print(f"{head}: corpus {cells[0]} | frozen {cells[1]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Write the model, or print the cross-validation (``--cv``, ``--search``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="leave-one-batch-out table")
    parser.add_argument("--search", action="store_true", help="CV over a settings grid")
    parser.add_argument(
        "--l2", type=float, action="append", help="--search: L2 strengths (default 0.003, 0.01)"
    )
    parser.add_argument("--exclude", action="append", default=[], help="batch to leave out")
    args = parser.parse_args(argv)
    if args.cv or args.search:
        # the held-out batch is dropped before anything reads it
        rows = [r for r in [*load(), *load_corpus()] if r.get("batch") not in HELD_OUT]
        exs = examples(rows)
        if args.search:
            search(exs, rows, args.l2 or [0.003, 0.01])
        else:
            print("Leave one batch out, today's rules (seen every batch):")
            folds = cross_validate(exs, SETTINGS)
            print_table(combine(folds, SETTINGS.threshold, SETTINGS.rule_bonus, SETTINGS.veto))
            print("\nLeave one batch out, rules frozen before the left-out batch:")
            frozen = frozen_folds(rows, SETTINGS)
            print_table(combine(frozen, SETTINGS.threshold, SETTINGS.rule_bonus, SETTINGS.veto))
        return 0
    # the shipped model never sees a held-out batch, so its first run stays a first run
    left_out = HELD_OUT | set(args.exclude)
    rows = [r for r in [*load(), *load_corpus()] if r.get("batch") not in left_out]
    model = train(examples(rows))
    model.save(MODEL_PATH)
    print(f"wrote {MODEL_PATH} ({len(rows)} rows, {len(model.vocabulary)} features)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
