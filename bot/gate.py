"""One gate around the model: whatever path uses it (answers, follow-up rewriting, the judge),
only one call is inside llama.cpp at a time, whichever page listener or thread asked.

A streamed answer is a generator that the page may resume from a different worker thread on
every step, or abandon half-way (a closed tab). So the work runs in one thread of its own that
takes and releases the gate itself, and hands its items over through a queue: an abandoned
consumer never leaves the gate held, and the gate can be reentrant (the judge takes it too).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Raised:
    error: BaseException


_DONE = object()


def model_gate() -> threading.RLock:
    """The lock a Briefer shares between its chains and its judge."""
    return threading.RLock()


def gated(gate: threading.RLock, work: Callable[[], Iterator[T]]) -> Iterator[T]:
    """The items of work(), produced under the gate in a worker thread, as they come."""
    items: queue.Queue = queue.Queue()
    abandoned = threading.Event()

    def produce() -> None:
        try:
            with gate:
                for item in work():
                    items.put(item)
                    if abandoned.is_set():  # nobody reads on: free the model for the next
                        break
        except BaseException as err:  # handed to the consumer, raised in its thread
            items.put(_Raised(err))
        finally:
            items.put(_DONE)

    threading.Thread(target=produce, name="model-gate", daemon=True).start()
    try:
        while (item := items.get()) is not _DONE:
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        abandoned.set()
