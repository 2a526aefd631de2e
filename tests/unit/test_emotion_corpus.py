"""The emotion model's training corpus and the labelled evaluation set: apart, well formed."""

from collections import Counter

from app.domain.emotion import EMOTIONS, SIGNAL_KINDS
from bench.emotion_eval import CORPUS, CORPUS_PREFIX, load, load_corpus
from tools.train_emotion import HELD_OUT


def test_the_corpus_is_read_file_by_file_with_valid_labels():
    rows = load_corpus()
    files = sorted(CORPUS.glob("*.jsonl"))
    assert files, "the training corpus is missing"
    assert {r["batch"] for r in rows} == {CORPUS_PREFIX + f.stem for f in files}
    for r in rows:
        assert r["emotion"] in EMOTIONS
        assert set(r["signals"]) <= set(SIGNAL_KINDS)
        assert len(set(r["signals"])) == len(r["signals"])


def test_no_text_is_both_training_and_evaluation():
    labelled = {r["text"].strip() for r in load()}
    assert not [r["text"] for r in load_corpus() if r["text"].strip() in labelled]


def test_no_text_repeats_within_the_corpus():
    counts = Counter(r["text"].strip() for r in load_corpus())
    assert [t for t, n in counts.items() if n > 1] == []


def test_the_held_out_batches_exist_and_are_not_in_the_corpus():
    batches = {r.get("batch") for r in load()}
    assert batches >= HELD_OUT
    assert not {r["batch"] for r in load_corpus()} & HELD_OUT
