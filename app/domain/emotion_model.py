"""The learned half of the emotion analyser: two small linear models over the rules' view.

:mod:`app.domain.emotion` runs its rules first; this module then reads the text together with
what the rules saw and decided, and gives

* a probability per emotion (multinomial logistic regression); the emotion is the arg-max of
  those probabilities with a bonus added to the rules' own pick (the rules keep a text the
  model is unsure of);
* a probability per signal kind (one logistic regression per kind). A kind the rules did not
  fire is added when its probability clears the kind threshold chosen in cross-validation;
  the phrase shown for it is the clause whose features push hardest towards that kind. A kind
  the rules fired is dropped only when the model all but rules it out (probability below
  ``veto``, also chosen in cross-validation): the rules' false alarms on new text are mostly
  innocent uses the model has seen many of. A kind the rules matched and then cancelled
  (withdrawn, negated, someone else's act) comes back only above the higher ``readd``
  threshold.

Features: character 1..n-grams of the text and the rules' jieba words (each text's n-gram
block scaled to unit length), plus the rules' outputs (their emotion, their per-emotion scores,
the kinds they fired and the kinds whose patterns matched before the cancellation layer) scaled
by ``rule_weight``. Cross-validation chose ``rule_weight`` 0: the rules were tuned on every
training row, so a model that reads their outputs learns to trust them more than they deserve
on new text; the two are combined only at the decision (see ``tools/train_emotion.py``).

A model may also carry an *encoder head* (one logistic regression per kind over a pretrained
sentence encoder's embedding, :mod:`app.domain.emotion_encoder`) whose probability is mixed into
the n-gram model's with share ``enc_mix``. The tenth pass tried it and found no share that
helped (``emotion_data/README.md``): the shipped model has none, and the encoder is never run.

The weights live in ``emotion_data/model.npz`` and are written by ``python -m
tools.train_emotion``; they are read once, on first use. Pure numpy at run time, deterministic.
If the file is missing, :func:`load` returns ``None`` and the analyser is the rules alone.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.domain import emotion_encoder

MODEL_PATH = Path(__file__).with_name("emotion_data") / "model.npz"
# how many clauses (those the n-grams favour most) the encoder reads to place a phrase
TRIGGER_CLAUSES = 8
log = logging.getLogger(__name__)

# Feature name prefixes: char n-gram, jieba word, rule output.
CHAR = "c:"
WORD = "w:"
RULE = "r:"
# Why the rules did not keep a kind whose pattern matched: a pattern's own filter (not_before,
# not_after, sentence conditions), negation, policy talk, someone else's act seen in the media or
# reported as news, a withdrawn or settled threat; "innocent": an innocent use of the kind's
# words is in the text (signals.toml ``innocent_uses``).
CANCEL_REASONS = ("filter", "negated", "policy", "spectator", "event", "withdrawn", "innocent")
_CLAUSE_RE = re.compile(r"[^，,、：:；;。！？!?…\n\r“”\"「」（）()]+")


@dataclass(frozen=True, slots=True)
class RuleOutputs:
    """What the rules saw and decided on one text: the model's non-lexical features."""

    emotion: str
    scores: Mapping[str, float]
    calm: float
    fired: frozenset[str]
    matched: frozenset[str]
    # kinds with an innocent use in the text (signals.toml ``innocent_uses``)
    innocent: frozenset[str] = frozenset()
    # per kind matched and not fired: why its matches were dropped (CANCEL_REASONS)
    cancelled: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def reasons(self, kind: str) -> frozenset[str]:
        """Why the rules ruled ``kind`` out ("innocent" included); empty if they did not."""
        out = set(self.cancelled.get(kind, ()))
        if kind in self.innocent:
            out.add("innocent")
        if kind in self.matched and kind not in self.fired and not out:
            out.add("unknown")  # rules from before reasons were recorded
        return frozenset(out)


def rule_features(rules: RuleOutputs) -> dict[str, float]:
    """Name the rules' outputs as features (scores compressed with log1p)."""
    out = {f"{RULE}emotion={rules.emotion}": 1.0, f"{RULE}calm": math.log1p(rules.calm)}
    for emotion, score in rules.scores.items():
        out[f"{RULE}score={emotion}"] = math.log1p(max(0.0, score))
    for kind in rules.fired:
        out[f"{RULE}fired={kind}"] = 1.0
    for kind in rules.matched - rules.fired:
        out[f"{RULE}cancelled={kind}"] = 1.0
    if not rules.fired:
        out[f"{RULE}no_signal"] = 1.0
    return out


def text_features(text: str, words: Iterable[str], max_n: int) -> set[str]:
    """The text's character 1..``max_n``-grams and its words, as feature names."""
    names = {CHAR + text[i : i + n] for n in range(1, max_n + 1) for i in range(len(text) - n + 1)}
    names.update(WORD + w for w in words if w.strip())
    return names


def featurize(
    text: str, words: Iterable[str], rules: RuleOutputs, max_n: int, rule_weight: float
) -> dict[str, float]:
    """All features of one text: unit-length text block plus weighted rule outputs."""
    names = text_features(text, words, max_n)
    value = 1.0 / math.sqrt(len(names)) if names else 0.0
    out = dict.fromkeys(names, value)
    for name, v in rule_features(rules).items():
        out[name] = v * rule_weight
    return out


@dataclass(frozen=True)
class Model:
    """Trained weights: ``emotion_w`` is features × emotions, ``kind_w`` features × kinds."""

    vocabulary: dict[str, int]
    emotions: tuple[str, ...]
    kinds: tuple[str, ...]
    emotion_w: np.ndarray
    emotion_b: np.ndarray
    kind_w: np.ndarray
    kind_b: np.ndarray
    thresholds: np.ndarray
    max_n: int
    rule_weight: float
    rule_bonus: float
    veto: float = 0.0
    readd: float = 2.0  # above any probability: a cancelled kind is never added back
    # the reasons for which a ruled-out kind may come back at ``readd``
    readd_reasons: frozenset[str] = frozenset()
    # the encoder head (see :mod:`app.domain.emotion_encoder`): a logistic regression per kind
    # over the standardised embedding; a kind's probability is ``enc_mix`` of the head's and the
    # rest of the n-gram model's (0: the n-gram model alone, the encoder is never run)
    enc_mean: np.ndarray | None = None
    enc_scale: np.ndarray | None = None
    enc_kind_w: np.ndarray | None = None
    enc_kind_b: np.ndarray | None = None
    enc_mix: float = 0.0

    @property
    def uses_encoder(self) -> bool:
        """Does the decision read the encoder head?"""
        return self.enc_mix > 0 and self.enc_kind_w is not None

    def _index(self, features: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        pairs = [(self.vocabulary[k], v) for k, v in features.items() if k in self.vocabulary]
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx, vals = zip(*pairs, strict=True)
        return np.asarray(idx, dtype=np.int64), np.asarray(vals)

    def predict(
        self,
        text: str,
        words: Iterable[str],
        rules: RuleOutputs,
        embedding: np.ndarray | None = None,
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Return (probability per emotion, probability per signal kind) for one text.

        The kind probabilities mix in the encoder head's when :attr:`uses_encoder`;
        ``embedding``: the text's, if already computed (else the encoder is run, and if it is
        unavailable the n-gram model's probabilities stand alone)."""
        emotion_p, kind_p = self.ngram_predict(text, words, rules)
        if not self.uses_encoder:
            return emotion_p, kind_p
        if embedding is None:
            embedding = _embed_or_none([text])
            if embedding is None:
                return emotion_p, kind_p
            embedding = embedding[0]
        return emotion_p, self.mix(kind_p, self.encoder_probs(embedding))

    def ngram_predict(
        self, text: str, words: Iterable[str], rules: RuleOutputs
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The n-gram model's (probability per emotion, probability per signal kind)."""
        idx, vals = self._index(featurize(text, words, rules, self.max_n, self.rule_weight))
        logits = vals @ self.emotion_w[idx] + self.emotion_b
        p = np.exp(logits - logits.max())
        p /= p.sum()
        z = vals @ self.kind_w[idx] + self.kind_b
        q = 1.0 / (1.0 + np.exp(-z))
        return (
            dict(zip(self.emotions, p.tolist(), strict=True)),
            dict(zip(self.kinds, q.tolist(), strict=True)),
        )

    def encoder_probs(self, embedding: np.ndarray) -> dict[str, float]:
        """The encoder head's probability per signal kind for one text's embedding."""
        x = (np.asarray(embedding, dtype=np.float64) - self.enc_mean) / self.enc_scale
        z = x @ self.enc_kind_w + self.enc_kind_b
        q = 1.0 / (1.0 + np.exp(-z))
        return dict(zip(self.kinds, q.tolist(), strict=True))

    def mix(
        self,
        kind_p: Mapping[str, float],
        enc_p: Mapping[str, float],
        kinds: Iterable[str] | None = None,
    ) -> dict[str, float]:
        """``enc_mix`` of the encoder head's probability and the rest of the n-gram model's
        (for ``kinds``, by default every kind)."""
        a = self.enc_mix
        return {k: (1.0 - a) * kind_p[k] + a * enc_p[k] for k in kinds or self.kinds}

    def emotion(self, emotion_probs: Mapping[str, float], rule_emotion: str) -> str:
        """The emotion: the model's probabilities with ``rule_bonus`` added to the rules' pick."""
        return max(
            self.emotions,
            key=lambda e: emotion_probs[e] + (self.rule_bonus if e == rule_emotion else 0.0),
        )

    def added_kinds(self, kind_probs: Mapping[str, float], rules: RuleOutputs) -> list[str]:
        """The kinds the rules did not fire whose probability clears their threshold.

        A kind the rules ruled out (a pattern matched and the context rules dropped it, or an
        innocent use of its words is in the text) comes back only when every reason it was
        ruled out for is one of ``readd_reasons`` and its probability clears ``readd``.
        """
        out = []
        for k, t in zip(self.kinds, self.thresholds.tolist(), strict=True):
            if k in rules.fired:
                continue
            reasons = rules.reasons(k)
            if not reasons:
                bar = t
            elif reasons <= self.readd_reasons:
                bar = max(t, self.readd)
            else:
                continue
            if kind_probs[k] >= bar:
                out.append(k)
        return out

    def kept_kinds(self, kind_probs: Mapping[str, float], fired: Iterable[str]) -> set[str]:
        """The kinds the rules fired that the model does not veto (probability >= ``veto``)."""
        return {k for k in fired if kind_probs.get(k, 1.0) >= self.veto}

    def decide(
        self,
        emotion_probs: Mapping[str, float],
        kind_probs: Mapping[str, float],
        rules: RuleOutputs,
    ) -> tuple[str, set[str], list[str]]:
        """The hybrid's decision: (emotion, the rules' kinds kept, the kinds the model adds)."""
        return (
            self.emotion(emotion_probs, rules.emotion),
            self.kept_kinds(kind_probs, rules.fired),
            self.added_kinds(kind_probs, rules),
        )

    def trigger(self, text: str, kind: str) -> tuple[int, int]:
        """Offsets of the clause of ``text`` most like ``kind``: the one whose n-grams and
        words weigh most for it, or, when the decision reads the encoder, the one with the
        highest mixed probability (each clause read alone by both heads) among the
        :data:`TRIGGER_CLAUSES` the n-grams favour most."""
        col = self.kinds.index(kind)
        clauses = [(m.span(), m.group()) for m in _CLAUSE_RE.finditer(text) if m.group().strip()]
        if not clauses:
            return (0, len(text))
        scores = []
        for _span, clause in clauses:
            names = text_features(clause, _substrings_in_vocab(clause, self.vocabulary), self.max_n)
            weight = sum(
                float(self.kind_w[self.vocabulary[n], col]) for n in names if n in self.vocabulary
            )
            scores.append((weight, len(names)))
        best = max(range(len(clauses)), key=lambda i: scores[i][0])
        if len(clauses) > 1 and self.uses_encoder:
            # the clauses the n-grams favour most (a long record has hundreds), read by both
            top = sorted(range(len(clauses)), key=lambda i: -scores[i][0])[:TRIGGER_CLAUSES]
            vectors = _embed_or_none([clauses[i][1] for i in top])
            if vectors is not None:
                mixed = []
                for i, vec in zip(top, vectors, strict=True):
                    weight, n = scores[i]
                    ngram = 1.0 / (1.0 + math.exp(-(weight / math.sqrt(n) + self.kind_b[col])))
                    mixed.append(self.mix({kind: ngram}, self.encoder_probs(vec), (kind,))[kind])
                best = top[int(np.argmax(mixed))]
        return clauses[best][0]

    def save(self, path: Path = MODEL_PATH) -> None:
        """Write the weights (float32) and settings to a compressed ``.npz``."""
        names = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(
            path,
            vocabulary=np.array(names),
            emotions=np.array(self.emotions),
            kinds=np.array(self.kinds),
            emotion_w=self.emotion_w.astype(np.float32),
            emotion_b=self.emotion_b.astype(np.float32),
            kind_w=self.kind_w.astype(np.float32),
            kind_b=self.kind_b.astype(np.float32),
            thresholds=self.thresholds.astype(np.float32),
            max_n=np.array(self.max_n),
            rule_weight=np.array(self.rule_weight),
            rule_bonus=np.array(self.rule_bonus),
            veto=np.array(self.veto),
            readd=np.array(self.readd),
            readd_reasons=np.array(sorted(self.readd_reasons), dtype=str),
            **(
                {
                    "enc_mean": self.enc_mean.astype(np.float32),
                    "enc_scale": self.enc_scale.astype(np.float32),
                    "enc_kind_w": self.enc_kind_w.astype(np.float32),
                    "enc_kind_b": self.enc_kind_b.astype(np.float32),
                    "enc_mix": np.array(self.enc_mix),
                }
                if self.enc_kind_w is not None
                else {}
            ),
        )


def _embed_or_none(texts: list[str]) -> list[np.ndarray] | None:
    """The texts' embeddings, or ``None`` when the encoder is unavailable or fails (the
    n-gram model then decides alone; logged)."""
    if not emotion_encoder.available():
        return None
    try:
        return emotion_encoder.embed_many(texts)
    except Exception:  # noqa: BLE001 - an analysis must not fail for want of the encoder
        log.exception("sentence encoder failed; the n-gram model decides alone")
        return None


def _substrings_in_vocab(clause: str, vocabulary: Mapping[str, int]) -> list[str]:
    """The clause's substrings that are known words (a clause is short; no tokenizer needed)."""
    return [
        clause[i:j]
        for i in range(len(clause))
        for j in range(i + 2, min(len(clause), i + 8) + 1)
        if WORD + clause[i:j] in vocabulary
    ]


def read(path: Path) -> Model:
    """Read a model written by :meth:`Model.save`."""
    with np.load(path, allow_pickle=False) as z:
        return Model(
            vocabulary={str(n): i for i, n in enumerate(z["vocabulary"].tolist())},
            emotions=tuple(z["emotions"].tolist()),
            kinds=tuple(z["kinds"].tolist()),
            emotion_w=z["emotion_w"].astype(np.float64),
            emotion_b=z["emotion_b"].astype(np.float64),
            kind_w=z["kind_w"].astype(np.float64),
            kind_b=z["kind_b"].astype(np.float64),
            thresholds=z["thresholds"].astype(np.float64),
            max_n=int(z["max_n"]),
            rule_weight=float(z["rule_weight"]),
            rule_bonus=float(z["rule_bonus"]),
            veto=float(z["veto"]) if "veto" in z.files else 0.0,
            readd=float(z["readd"]) if "readd" in z.files else 2.0,
            readd_reasons=frozenset(
                z["readd_reasons"].tolist() if "readd_reasons" in z.files else ()
            ),
            **(
                {
                    "enc_mean": z["enc_mean"].astype(np.float64),
                    "enc_scale": z["enc_scale"].astype(np.float64),
                    "enc_kind_w": z["enc_kind_w"].astype(np.float64),
                    "enc_kind_b": z["enc_kind_b"].astype(np.float64),
                    "enc_mix": float(z["enc_mix"]),
                }
                if "enc_kind_w" in z.files
                else {}
            ),
        )


_lock = threading.Lock()
_state: dict[str, Model | None] = {}


def load() -> Model | None:
    """The shipped model, read once; ``None`` if ``emotion_data/model.npz`` is absent."""
    if "model" not in _state:
        with _lock:
            if "model" not in _state:
                _state["model"] = read(MODEL_PATH) if MODEL_PATH.exists() else None
    return _state["model"]
