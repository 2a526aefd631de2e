"""``marks.wake``: at most one Redis enqueue per process per defer window, and it still wakes."""

from __future__ import annotations

import pytest

from app.services import jobs, marks


class FakeQueue:
    """Stands in for ``jobs``: records enqueues, answers as Redis up or down."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.up = True

    async def enqueue(self, function: str, **kwargs) -> bool:
        self.calls.append({"function": function, **kwargs})
        return self.up


@pytest.fixture
def queue(monkeypatch):
    fake = FakeQueue()
    clock = {"now": 1_000_000.25}
    monkeypatch.setattr(jobs, "enqueue", fake.enqueue)
    monkeypatch.setattr(jobs, "_pool", object())
    monkeypatch.setattr(jobs, "_queue_name", "q")
    monkeypatch.setattr(marks, "_woken", None)
    monkeypatch.setattr(marks.time, "time", lambda: clock["now"])
    monkeypatch.setattr(marks, "_defer", 1.0)  # as marks.configure(1.0)
    fake.clock = clock
    return fake


async def test_a_burst_in_one_window_enqueues_one_wake_up(queue):
    assert all([await marks.wake() for _ in range(50)])
    assert len(queue.calls) == 1
    call = queue.calls[0]
    assert call["function"] == marks.WAKE_JOB
    assert call["_job_id"] == "rollup-wake:q:1000000" and call["_defer_by"] == 1.0


async def test_the_next_window_enqueues_again(queue):
    await marks.wake()
    queue.clock["now"] += 0.5  # same window
    await marks.wake()
    queue.clock["now"] += 0.5  # next window
    await marks.wake()
    await marks.wake()
    assert [c["_job_id"] for c in queue.calls] == ["rollup-wake:q:1000000", "rollup-wake:q:1000001"]


async def test_a_failed_enqueue_is_retried_by_the_next_write(queue):
    queue.up = False
    assert await marks.wake() is False
    queue.up = True
    assert await marks.wake() is True
    assert await marks.wake() is True
    assert len(queue.calls) == 2


async def test_a_new_queue_connection_enqueues_again_in_the_same_window(queue, monkeypatch):
    await marks.wake()
    monkeypatch.setattr(jobs, "_pool", object())  # reopened (or dropped after an error)
    await marks.wake()
    assert len(queue.calls) == 2


async def test_another_defer_is_another_window(queue):
    await marks.wake()
    await marks.wake(defer=0.0)  # 0.2 s windows: another job id, enqueued
    await marks.wake(defer=0.0)
    assert [(c["_job_id"], c["_defer_by"]) for c in queue.calls] == [
        ("rollup-wake:q:1000000", 1.0),
        ("rollup-wake:q:5000001", 0.0),
    ]
