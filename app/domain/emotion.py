"""Emotion and extreme-risk signal analysis of petition and field-work text (信访 · 走访 · 调解).

The smart platform's "emotion analysis of petition text" (DOMAIN.md §4): given what a
petitioner said or what a grid worker logged, tell the dominant emotion, how strong it is, and
which extreme-risk signals the text carries *now*, so that a key-person ledger or a risk list
can pick them up.

How it works, in the order :func:`analyze` runs:

1. **Signals** are regular expressions from ``emotion_data/signals.toml`` run over the raw
   text, so every :class:`Signal` carries the exact phrase and its offsets. The expressions are
   written as combinations of named concepts (``{water}``, ``{poison}``, ``{weapon}``,
   ``{higher}``, ``{crowd}``, ``{online}`` ...), so one rule such as "a jump verb and a body of
   water in one clause" covers its paraphrases. An occurrence is dropped when it is negated
   (不会去上访, 犯不上去找媒体), talked about as policy (关于越级上访的规定), someone else's act
   reported as news (听说隔壁小区有人跳楼了), or reported as a past threat that was withdrawn or
   settled (曾扬言去北京，经调解已表示不会再去; 当时说要堵路，后来事情就平息了), or when its
   sentence shows an innocent context (教练说要从跳台上跳下去, 社区组织老党员集体去扫墓).
   A conditional threat is a signal: in 不解决就去北京 the negation belongs to the condition;
   so is a hearsay report of a plan (听说有人准备去堵路).
2. **Emotion** is scored with a private jieba tokenizer (loaded lazily, once) that knows the
   petition vocabulary and every lexicon word. Each emotion word adds its weight to its class,
   scaled by a preceding degree adverb (非常 ×1.8, 有点 ×0.6); a preceding negator turns a
   satisfied word into mild anger (不满意) and cancels a negative one (不生气了, 没有不满).
   Sentence cues then adjust: a contrast (但/不过) weighs what follows more, praise next to a
   delay is sarcasm (真是太感谢你们了，拖了三年还没解决 → anger), a reported resolution leans
   satisfied, and inquiry or grid-log phrasing leans calm. Current signals add anger (threats)
   or sadness (despair), unless they are reported rather than voiced (听说, 据了解, 摸排).
   If no emotion clears the floor, the text is calm; the floor is lower
   when the text has no calm evidence at all (no inquiry or log phrasing), so a complaint
   without a strong lexicon word (又要我们补材料？) does not default to calm.

Pure Python; the only I/O is reading ``emotion_data/`` on first use. Thread-safe after that.
"""

from __future__ import annotations

import math
import re
import sys
import threading
import tomllib
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from app.domain import emotion_encoder, emotion_model
from app.domain.emotion_model import RuleOutputs

ANGER = "anger"
ANXIETY = "anxiety"
SADNESS = "sadness"
CALM = "calm"
SATISFIED = "satisfied"
EMOTIONS = (ANGER, ANXIETY, SADNESS, CALM, SATISFIED)
SCORED_EMOTIONS = (ANGER, ANXIETY, SADNESS, SATISFIED)

SELF_HARM = "self_harm"
HARM_OTHERS = "harm_others"
ESCALATE = "escalate"
GATHERING = "gathering"
MEDIA = "media"
SIGNAL_KINDS = (SELF_HARM, HARM_OTHERS, ESCALATE, GATHERING, MEDIA)

DATA_DIR = Path(__file__).with_name("emotion_data")

# Clause and sentence boundaries. Negation and degree never reach across a clause boundary.
_CLAUSE_BREAK = '，,、：:；;。！？!?…\n\r“”"「」（）()'
_SENTENCE_RE = re.compile(r"[^。！？!?\n；;]+[。！？!?\n；;]*")
_SENTENCE_ENDS = "。！？!?；;\n"
_CLAUSE_RE = re.compile(r"[^，,、：:；;。！？!?…\n\r“”\"「」（）()]+")
# How far a withdrawal (已表示不会再去) is looked for after a threat, and how far back a
# spectator or a speech frame; bounded so that a long text without punctuation stays linear.
_WITHDRAWN_REACH = 400
_FRAME_REACH = 80

# How many tokens after a negator or degree adverb it still applies to.
_MODIFIER_REACH = 3
# A negated satisfied word (不满意, 不太满意) is dissatisfaction, a little weaker than the word.
_NEGATED_POSITIVE_FACTOR = 0.8
# A negated negative word (不生气了, 没有不满, 不担心) is evidence of calm.
_NEGATED_NEGATIVE_CALM = 0.6
# Intensity = 1 - exp(-score / scale); a signal puts a floor under it.
_INTENSITY_SCALE = 2.0
_SIGNAL_INTENSITY_FLOOR = {
    SELF_HARM: 0.9,
    HARM_OTHERS: 0.9,
    ESCALATE: 0.75,
    GATHERING: 0.75,
    MEDIA: 0.7,
}
_CALM_INTENSITY_CAP = 0.25
# A reported resolution (问题解决了, 工资到账了) and scare-quoted promises (“马上办”).
_RESOLVED_WEIGHT = 1.2
_SCARE_QUOTE_WEIGHT = 1.2


@dataclass(frozen=True, slots=True)
class Signal:
    """One extreme-risk signal: its kind and the exact substring ``text[start:end]``."""

    kind: str
    phrase: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        """Return the signal as a JSON-ready dict."""
        return {"kind": self.kind, "phrase": self.phrase, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class Analysis:
    """The result of :func:`analyze`: dominant emotion, its intensity (0..1) and signals."""

    emotion: str
    intensity: float
    signals: list[Signal] = field(default_factory=list)

    @property
    def signal_kinds(self) -> set[str]:
        """The distinct kinds among :attr:`signals`."""
        return {s.kind for s in self.signals}

    def to_dict(self) -> dict[str, Any]:
        """Return the analysis as a JSON-ready dict (the shape stored and sent to the UI)."""
        return {
            "emotion": self.emotion,
            "intensity": self.intensity,
            "signals": [s.to_dict() for s in self.signals],
        }


def analyze(text: str | None) -> Analysis:
    """Analyse one petition, visit note or call summary.

    :param text: Chinese free text of any length; ``None`` or blank counts as empty.
    :return: :class:`Analysis` with ``emotion`` in :data:`EMOTIONS`, ``intensity`` in 0..1 and
        the current extreme-risk ``signals`` in text order. Empty text is calm with intensity 0.
    """
    if not text or not text.strip():
        return Analysis(CALM, 0.0, [])
    rules, outputs, words = rule_view(text)
    model = emotion_model.load()
    if model is None:
        return rules
    emotion_p, kind_p = model.predict(text, words, outputs)
    emotion, kept, added = model.decide(emotion_p, kind_p, outputs)
    signals = [s for s in rules.signals if s.kind in kept]
    for kind in added:
        start, end = model.trigger(text, kind)
        signals.append(Signal(kind, text[start:end], start, end))
    signals.sort(key=lambda s: s.start)
    if emotion == rules.emotion:
        intensity = rules.intensity
    else:
        # the lexicon barely saw this emotion; its probability stands in for the evidence
        top = max(outputs.scores.get(emotion, 0.0), _INTENSITY_SCALE * emotion_p[emotion])
        intensity = _intensity(emotion, top, signals)
    return Analysis(emotion, intensity, signals)


def rule_view(
    text: str, rules: ModuleType | None = None
) -> tuple[Analysis, RuleOutputs, list[str]]:
    """The rules alone on non-blank ``text``: their analysis, the outputs the learned model
    reads (see :mod:`app.domain.emotion_model`) and the text's jieba words.

    ``rules``: another version of this module to take the rules from (``tools.train_emotion``
    loads the rules as they stood before a batch); this one by default.
    """
    m = rules or sys.modules[__name__]
    res = m._resources()
    cancelled: dict[str, set[str]] = {}
    # rule versions from before cancellation reasons take no third argument
    signals = (
        m._find_signals(text, res, cancelled)
        if hasattr(m, "_cancel_reason")
        else m._find_signals(text, res)
    )
    scores = m._score_emotions(text, res)
    m._apply_signal_boosts(text, signals, scores, res)
    emotion, top = m._decide(scores, res)
    outputs = RuleOutputs(
        emotion=emotion,
        scores=scores.scaled,
        calm=scores.calm,
        fired=frozenset(s.kind for s in signals),
        # a kind matched if a pattern of it fired or was dropped (the same pass); rule
        # versions from before cancellation reasons need a pass of their own
        matched=(
            frozenset(s.kind for s in signals) | frozenset(cancelled)
            if hasattr(m, "_cancel_reason")
            else frozenset(p.kind for p in res.patterns if p.regex.search(text))
        ),
        # rule versions from before innocent_uses have none
        innocent=_innocent_kinds(text, getattr(res, "innocent_uses", {})),
        cancelled={k: frozenset(v) for k, v in cancelled.items()},
    )
    words = res.tokenizer.lcut(text, HMM=False)
    return Analysis(emotion, _intensity(emotion, top, signals), signals), outputs, words


def _innocent_kinds(text: str, uses: dict[str, re.Pattern[str]]) -> frozenset[str]:
    """The kinds with an innocent use in ``text`` (``any`` stands for every kind)."""
    found = {k for k, r in uses.items() if r.search(text)}
    return frozenset(SIGNAL_KINDS) if "any" in found else frozenset(found)


def find_signals(text: str | None) -> list[Signal]:
    """Return only the current extreme-risk signals of ``text`` (see :func:`analyze`)."""
    return analyze(text).signals


def warm_up() -> None:
    """Load the lexicons, the jieba dictionary, the model and (if the model reads it) the
    sentence encoder now rather than on first use."""
    _resources()
    model = emotion_model.load()
    if model is not None and model.uses_encoder:
        emotion_encoder.available()


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True, slots=True)
class _Pattern:
    kind: str
    regex: re.Pattern[str]
    not_before: re.Pattern[str] | None
    not_after: re.Pattern[str] | None
    not_in_sentence: re.Pattern[str] | None
    in_sentence: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class _Resources:
    tokenizer: Any
    lexicon: dict[str, tuple[str, float]]
    calm_cues: dict[str, float]
    degree: dict[str, float]
    negators: frozenset[str]
    patterns: tuple[_Pattern, ...]
    window: int
    long_window: int
    signal_negators: tuple[str, ...]
    bare_negators: tuple[str, ...]
    bare_reach: int
    negation_exempt: tuple[str, ...]
    condition_markers: tuple[str, ...]
    negation_undone: re.Pattern[str]
    policy_markers: tuple[str, ...]
    policy_exempt: tuple[str, ...]
    policy_after: re.Pattern[str]
    policy_document: re.Pattern[str]
    past_markers: tuple[str, ...]
    withdrawn_markers: tuple[str, ...]
    withdrawn_not_before: re.Pattern[str]
    withdrawn_not_after: re.Pattern[str]
    withdrawn_before: re.Pattern[str]
    resolved_markers: tuple[str, ...]
    event_kinds: frozenset[str]
    event_after: re.Pattern[str]
    event_frame: re.Pattern[str]
    spectator_frame: re.Pattern[str]
    negated_after: re.Pattern[str]
    innocent_uses: dict[str, re.Pattern[str]]
    cues: dict[str, Any]
    contrast: re.Pattern[str]
    former_state: re.Pattern[str]
    sarcasm_praise: re.Pattern[str]
    sarcasm_failure: re.Pattern[str]
    scare_quotes: re.Pattern[str]
    resolved: re.Pattern[str]
    resolved_cancel: re.Pattern[str]
    log_register: re.Pattern[str]
    self_harm_threat: re.Pattern[str]
    report_frame: re.Pattern[str]
    voiced_frame: re.Pattern[str]
    resigned_frame: re.Pattern[str]
    phrases: tuple[tuple[str, float, re.Pattern[str]], ...]


_lock = threading.Lock()
_loaded: _Resources | None = None


def _resources() -> _Resources:
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded = _load()
    return _loaded


def _read_lines(name: str) -> list[list[str]]:
    rows = []
    for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rows.append(line.split())
    return rows


def _weighted(name: str) -> dict[str, float]:
    return {row[0]: float(row[1]) if len(row) > 1 else 1.0 for row in _read_lines(name)}


_CONCEPT_REF = re.compile(r"\{([a-z_]+)\}")


def _expand(pattern: str, concepts: dict[str, str]) -> str:
    """Replace each ``{name}`` in ``pattern`` by the alternation of concept ``name``.

    Regex quantifiers such as ``{0,6}`` hold digits only, so they never look like a name.
    """

    def alternation(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in concepts:
            raise ValueError(f"signals.toml: unknown concept {{{name}}} in {pattern!r}")
        return concepts[name]

    return _CONCEPT_REF.sub(alternation, pattern)


def _concepts(table: dict[str, list[str]]) -> dict[str, str]:
    """Compile the concept word lists into non-capturing alternations, longest word first.

    A concept may name other concepts (``{water}``), expanded in the order they are defined.
    """
    out: dict[str, str] = {}
    for name, words in table.items():
        items = sorted((_expand(w, out) for w in words), key=len, reverse=True)
        out[name] = "(?:" + "|".join(items) + ")"
    return out


def _load() -> _Resources:
    import jieba  # deferred: importing and initialising jieba costs about a second

    lexicon: dict[str, tuple[str, float]] = {}
    for emotion in SCORED_EMOTIONS:
        for word, weight in _weighted(f"{emotion}.txt").items():
            lexicon[word] = (emotion, weight)
    calm_cues = _weighted("calm.txt")
    degree = _weighted("degree.txt")
    negators = frozenset(row[0] for row in _read_lines("negators.txt"))

    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(DATA_DIR / "userdict.txt"))
    # Every lexicon word becomes a token, so 忍无可忍 or 踢皮球 is seen whole. Negators and
    # degree adverbs are left to jieba's own dictionary so that 不满意 stays one word.
    for word in (*lexicon, *calm_cues):
        tokenizer.add_word(word, freq=20000)

    signals = tomllib.loads((DATA_DIR / "signals.toml").read_text(encoding="utf-8"))
    ctx = signals["context"]
    concepts = _concepts(signals.get("concepts", {}))

    def compiled(pattern: str | None) -> re.Pattern[str] | None:
        return re.compile(_expand(pattern, concepts)) if pattern else None

    patterns = tuple(
        _Pattern(
            kind=p["kind"],
            regex=re.compile(_expand(p["regex"], concepts)),
            not_before=compiled(p.get("not_before")),
            not_after=compiled(p.get("not_after")),
            not_in_sentence=compiled(p.get("not_in_sentence")),
            in_sentence=compiled(p.get("in_sentence")),
        )
        for p in signals["pattern"]
    )
    unknown = {p.kind for p in patterns} - set(SIGNAL_KINDS)
    if unknown:
        raise ValueError(f"signals.toml names unknown signal kinds: {sorted(unknown)}")

    cues = tomllib.loads((DATA_DIR / "cues.toml").read_text(encoding="utf-8"))
    return _Resources(
        tokenizer=tokenizer,
        lexicon=lexicon,
        calm_cues=calm_cues,
        degree=degree,
        negators=negators,
        patterns=patterns,
        window=int(ctx["window"]),
        long_window=int(ctx["long_window"]),
        # longest first, so 没有 is found before 没
        signal_negators=tuple(sorted(ctx["negators"], key=len, reverse=True)),
        bare_negators=tuple(ctx["bare_negators"]),
        bare_reach=int(ctx["bare_reach"]),
        negation_exempt=tuple(ctx["negation_exempt"]),
        condition_markers=tuple(ctx["condition_markers"]),
        negation_undone=re.compile(_expand(ctx["negation_undone"], concepts)),
        policy_markers=tuple(ctx["policy_markers"]),
        policy_exempt=tuple(ctx["policy_exempt"]),
        policy_after=re.compile(ctx["policy_after"]),
        policy_document=re.compile(ctx["policy_document"]),
        past_markers=tuple(ctx["past_markers"]),
        withdrawn_markers=tuple(ctx["withdrawn_markers"]),
        withdrawn_not_before=re.compile(ctx["withdrawn_not_before"]),
        withdrawn_not_after=re.compile(ctx["withdrawn_not_after"]),
        withdrawn_before=re.compile(ctx["withdrawn_before"]),
        resolved_markers=tuple(ctx["resolved_markers"]),
        event_kinds=frozenset(ctx["event_kinds"]),
        event_after=re.compile(ctx["event_after"]),
        event_frame=re.compile(_expand(ctx["event_frame"], concepts)),
        spectator_frame=re.compile(ctx["spectator_frame"]),
        negated_after=re.compile(ctx["negated_after"]),
        innocent_uses={k: compiled(v) for k, v in ctx.get("innocent_uses", {}).items()},
        cues=cues,
        contrast=re.compile(cues["contrast"]),
        former_state=re.compile(cues["former_state"]),
        sarcasm_praise=re.compile(cues["sarcasm_praise"]),
        sarcasm_failure=re.compile(cues["sarcasm_failure"]),
        scare_quotes=re.compile(cues["scare_quotes"]),
        resolved=re.compile(cues["resolved"]),
        resolved_cancel=re.compile(cues["resolved_cancel"]),
        log_register=re.compile(cues["log_register"]),
        self_harm_threat=re.compile(cues["self_harm_threat"]),
        report_frame=re.compile(cues["report_frame"]),
        voiced_frame=re.compile(cues["voiced_frame"]),
        resigned_frame=re.compile(cues["resigned_frame"]),
        phrases=tuple(
            (p["emotion"], float(p["weight"]), re.compile(p["regex"])) for p in cues["phrase"]
        ),
    )


# --------------------------------------------------------------------------- signals


def _find_signals(
    text: str, res: _Resources, cancelled: dict[str, set[str]] | None = None
) -> list[Signal]:
    """The current signals of ``text``; ``cancelled`` (if given) collects, per kind, why
    matches of that kind were not kept (see :data:`~app.domain.emotion_model.CANCEL_REASONS`)."""
    found: list[Signal] = []

    def drop(kind: str, reason: str) -> None:
        if cancelled is not None:
            cancelled.setdefault(kind, set()).add(reason)

    for pattern in res.patterns:
        # a sentence's context checks are the same for every match in it
        sentence_ok: dict[int, bool] = {}
        for m in pattern.regex.finditer(text):
            start, end = m.span()
            if start == end:
                continue
            if pattern.not_before and pattern.not_before.search(text[max(0, start - 6) : start]):
                drop(pattern.kind, "filter")
                continue
            if pattern.not_after and pattern.not_after.search(text[end : end + 10]):
                drop(pattern.kind, "filter")
                continue
            if pattern.not_in_sentence or pattern.in_sentence:
                begin, stop = _sentence_span(text, start, end)
                ok = sentence_ok.get(begin)
                if ok is None:
                    sentence = text[begin:stop]
                    ok = not (
                        (pattern.not_in_sentence and pattern.not_in_sentence.search(sentence))
                        or (pattern.in_sentence and not pattern.in_sentence.search(sentence))
                    )
                    sentence_ok[begin] = ok
                if not ok:
                    drop(pattern.kind, "filter")
                    continue
            reason = _cancel_reason(text, pattern.kind, start, end, res)
            if reason is None:
                found.append(Signal(pattern.kind, m.group(), start, end))
            else:
                drop(pattern.kind, reason)
    return _dedupe(found)


def _sentence_of(text: str, start: int, end: int) -> str:
    """The sentence (between 。！？!?; or newlines) that contains ``text[start:end]``."""
    begin, stop = _sentence_span(text, start, end)
    return text[begin:stop]


def _sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of the sentence that contains ``text[start:end]`` (found by bisection)."""
    ends = _sentence_ends(text)
    i = bisect_left(ends, start)
    j = bisect_left(ends, end)
    return (ends[i - 1] + 1 if i else 0), (ends[j] if j < len(ends) else len(text))


@lru_cache(maxsize=16)
def _sentence_ends(text: str) -> tuple[int, ...]:
    return tuple(i for i, c in enumerate(text) if c in _SENTENCE_ENDS)


def _dedupe(signals: list[Signal]) -> list[Signal]:
    """Keep, per kind, the longest of overlapping occurrences; return them in text order."""
    kept: list[Signal] = []
    # in start order, an occurrence overlaps a kept one of its kind only if it starts before
    # the furthest end kept so far for that kind
    reach: dict[str, int] = {}
    for s in sorted(signals, key=lambda s: (s.start, -(s.end - s.start))):
        if s.start < reach.get(s.kind, -1):
            continue
        kept.append(s)
        reach[s.kind] = max(reach.get(s.kind, -1), s.end)
    return kept


def _clause_before(text: str, start: int, window: int) -> str:
    """The text of the current clause before ``start``, at most ``window`` characters."""
    i = start
    while i > 0 and start - i < window and text[i - 1] not in _CLAUSE_BREAK:
        i -= 1
    return text[i:start]


def _clause_after(text: str, end: int) -> str:
    """The text of the current clause after ``end``."""
    i = end
    while i < len(text) and text[i] not in _CLAUSE_BREAK:
        i += 1
    return text[end:i]


def _cancel_reason(text: str, kind: str, start: int, end: int, res: _Resources) -> str | None:
    """Why the match ``text[start:end]`` of ``kind`` is not a current threat (one of
    :data:`~app.domain.emotion_model.CANCEL_REASONS`), or ``None`` when it is one."""
    before = _clause_before(text, start, res.long_window)
    if _negated(before, res) and not res.negation_undone.search(_clause_after(text, end)):
        return "negated"
    near = before[-res.window :]
    # an exempt office name may run into the match (去教育|局门口站着)
    span = near + text[start:end]
    for word in res.policy_exempt:
        span = span.replace(word, "_" * len(word))
    if any(marker in span[: len(near)] for marker in res.policy_markers):
        return "policy"
    if res.policy_after.search(text[end : end + 8]):
        return "policy"
    sentence_begin = _sentence_span(text, start, end)[0]
    if res.policy_document.search(text[sentence_begin:start]):
        # a notice relayed or studied: 转发《…通告》，禁止…聚集、拉横幅、静坐
        return "policy"
    if res.negated_after.search(text[end : end + 16]):
        return "negated"
    sentence_start = max(sentence_begin, start - _FRAME_REACH)
    if res.spectator_frame.search(text[sentence_start:start]):
        # seen in the media as someone else's doing (抖音上刷到隔壁区有人开直播讨薪)
        return "spectator"
    if (
        kind in res.event_kinds
        and res.event_after.search(text[end : end + 16])
        and res.event_frame.search(_sentence_of(text, start, end))
    ):
        # someone else's completed act reported as news (有人跳楼了), not a threat
        return "event"
    return "withdrawn" if _withdrawn(text, start, end, res) else None


def _negated(before: str, res: _Resources) -> bool:
    """Is the match negated by a negator in ``before`` (its clause, up to ``long_window``)?

    One-character negators count only right before the match (不越级, 别曝光); longer ones
    (不会, 没打算, 不至于) anywhere in the clause, unless a condition marker follows them.
    """
    for word in res.negation_exempt:
        before = before.replace(word, "_" * len(word))
    near = before[-res.bare_reach :]
    if any(n in near for n in res.bare_negators) and not any(
        m in near for m in res.condition_markers
    ):
        return True
    last = -1
    for negator in res.signal_negators:
        pos = before.rfind(negator)
        if pos >= 0:
            last = max(last, pos + len(negator))
    if last < 0:
        return False
    # "不解决就去北京": a condition marker after the negator means the negation is the
    # condition's, and the threat itself stands.
    return not any(marker in before[last:] for marker in res.condition_markers)


def _withdrawn(text: str, start: int, end: int, res: _Resources) -> bool:
    # "当场撤回'去市里上访'的说法": withdrawn before it is quoted
    if res.withdrawn_before.search(text[max(0, start - 16) : start]):
        return True
    after = text[end : end + _WITHDRAWN_REACH]
    for marker in res.withdrawn_markers:
        pos = after.find(marker)
        # "这不是气话": a withdrawal word that is itself negated withdraws nothing
        # "是气话，但这次不是": a withdrawal the text then takes back withdraws nothing
        rest = pos + len(marker)
        if (
            pos >= 0
            and not res.withdrawn_not_before.search(after[max(0, pos - 3) : pos])
            and not res.withdrawn_not_after.search(after[rest : rest + 12])
        ):
            return True
    sentence_start = max(
        text.rfind(p, max(0, start - _WITHDRAWN_REACH), start) for p in "。！？!?\n"
    )
    before = text[max(sentence_start + 1, start - _WITHDRAWN_REACH) : start]
    return any(m in before for m in res.past_markers) and any(
        m in after for m in res.resolved_markers
    )


# --------------------------------------------------------------------------- emotion


@dataclass(slots=True)
class _Scores:
    """Evidence per emotion: ``scaled`` ranks and sets intensity; ``raw`` ignores degree
    adverbs and decides whether there is an emotion at all (有点害怕 is fear, only weaker)."""

    scaled: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SCORED_EMOTIONS, 0.0))
    raw: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SCORED_EMOTIONS, 0.0))
    calm: float = 0.0

    def add(self, emotion: str, value: float, degree: float = 1.0) -> None:
        self.scaled[emotion] += value * degree
        self.raw[emotion] += value


def _score_emotions(text: str, res: _Resources) -> _Scores:
    scores = _Scores(calm=float(res.cues["calm_base"]))
    for sentence in _SENTENCE_RE.findall(text):
        clauses = _CLAUSE_RE.findall(sentence)
        # a phrase found in the sentence counts in each of its clauses; searched once
        in_sentence = [regex.search(sentence) is not None for _, _, regex in res.phrases]
        turn = next(
            (i for i in range(len(clauses) - 1, 0, -1) if res.contrast.search(clauses[i])), None
        )
        if turn is None and len(clauses) > 1 and res.former_state.search(clauses[0]):
            turn = 1
        for i, clause in enumerate(clauses):
            weight = 1.0
            if turn is not None:
                weight = (
                    res.cues["after_contrast_weight"]
                    if i >= turn
                    else res.cues["before_contrast_weight"]
                )
            _score_clause(clause, weight, scores, res)
            for m in res.resolved.finditer(clause):
                if not res.resolved_cancel.search(clause[max(0, m.start() - 2) : m.start()]):
                    scores.add(SATISFIED, _RESOLVED_WEIGHT * weight)
                    break
            for (emotion, w, regex), hit in zip(res.phrases, in_sentence, strict=True):
                if hit or regex.search(clause):
                    scores.add(emotion, w * weight)
        if res.log_register.search(sentence.strip()):
            scores.calm += float(res.cues["log_register_bonus"])
    if res.sarcasm_praise.search(text) and res.sarcasm_failure.search(text):
        # the praise is the sarcasm's vehicle: it counts for anger, not satisfaction
        scores.add(ANGER, scores.scaled[SATISFIED] + 1.0)
        scores.scaled[SATISFIED] = scores.raw[SATISFIED] = 0.0
    if res.scare_quotes.search(text):
        scores.add(ANGER, _SCARE_QUOTE_WEIGHT)
    return scores


def _score_clause(clause: str, weight: float, scores: _Scores, res: _Resources) -> None:
    """Add the clause's lexicon evidence (emotion words, calm cues) to ``scores``."""
    negated_for = 0
    degree = 1.0
    degree_for = 0
    for token in res.tokenizer.lcut(clause, HMM=False):
        if token in res.negators:
            negated_for = _MODIFIER_REACH
            continue
        if token in res.degree:
            degree = (degree if degree_for else 1.0) * res.degree[token]
            degree_for = _MODIFIER_REACH
            continue
        hit = res.lexicon.get(token)
        if hit is not None:
            emotion, w = hit
            scale = degree if degree_for else 1.0
            if negated_for and emotion == SATISFIED:
                scores.add(ANGER, w * weight * _NEGATED_POSITIVE_FACTOR, scale)
            elif negated_for:
                scores.calm += _NEGATED_NEGATIVE_CALM
            else:
                scores.add(emotion, w * weight, scale)
            negated_for = degree_for = 0
            continue
        cue = res.calm_cues.get(token)
        if cue is not None:
            scores.calm += cue
        negated_for = max(0, negated_for - 1)
        degree_for = max(0, degree_for - 1)


def _apply_signal_boosts(
    text: str, signals: list[Signal], scores: _Scores, res: _Resources
) -> None:
    """Shift the emotion by the current signals: threats add anger, despair adds sadness.

    A signal inside a reported frame (听说有人准备去堵路, 据了解该户计划进京, 王某称将赴省上访)
    adds nothing: the report is intelligence, and its emotion is what its words say. A threat
    the subject voices in a log (李某称“逼急了我先弄死她”) weighs more, so that the log's calm
    phrasing does not hide it. A recourse taken in resignation (只能去北京碰碰运气了, 只能发到网上
    求助了) next to words of worry or grief adds to those, not to anger; said bare (实在不行我就去
    省里) it is still a threat.
    """
    boost = float(res.cues["signal_anger_boost"])
    distress = max((ANXIETY, SADNESS), key=lambda e: scores.raw[e])
    threat_kinds: set[str] = set()
    resigned_kinds: set[str] = set()
    voiced = False
    self_harm_target: str | None = None
    seen: set[tuple[str, int]] = set()  # one look per kind and sentence keeps long texts linear
    for s in signals:
        begin, stop = _sentence_span(text, s.start, s.end)
        if (s.kind, begin) in seen:
            continue
        seen.add((s.kind, begin))
        sentence = text[begin:stop]
        if res.report_frame.search(sentence):
            continue
        if s.kind == SELF_HARM:
            if self_harm_target is None:
                self_harm_target = ANGER if res.self_harm_threat.search(sentence) else SADNESS
            continue
        if scores.raw[distress] > 0 and res.resigned_frame.search(sentence):
            resigned_kinds.add(s.kind)
            continue
        threat_kinds.add(s.kind)
        voiced = voiced or bool(
            res.voiced_frame.search(text[max(0, s.start - _FRAME_REACH) : s.start])
        )
    scores.add(ANGER, boost * len(threat_kinds))
    scores.add(distress, boost * len(resigned_kinds - threat_kinds))
    if voiced:
        scores.add(ANGER, float(res.cues["voiced_threat_boost"]))
    if self_harm_target is not None:
        scores.add(self_harm_target, float(res.cues["self_harm_boost"]))


def _decide(scores: _Scores, res: _Resources) -> tuple[str, float]:
    emotion = max(SCORED_EMOTIONS, key=lambda e: scores.scaled[e])
    top = scores.scaled[emotion]
    raw = scores.raw[emotion]
    calm_evidence = scores.calm > float(res.cues["calm_base"])
    floor = float(res.cues["emotion_floor"] if calm_evidence else res.cues["fallback_floor"])
    if raw < floor or raw < scores.calm:
        return CALM, top
    return emotion, top


def _intensity(emotion: str, top: float, signals: list[Signal]) -> float:
    if emotion == CALM:
        value = min(_CALM_INTENSITY_CAP, 0.1 * top)
    else:
        value = 1.0 - math.exp(-top / _INTENSITY_SCALE)
    for s in signals:
        value = max(value, _SIGNAL_INTENSITY_FLOOR[s.kind])
    return round(min(1.0, max(0.0, value)), 3)
