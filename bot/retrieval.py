"""Find the passages a question needs."""

from __future__ import annotations

from bot.config import Settings
from bot.store import Passage, Store


class Retriever:
    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The best k passages for the question, best first, each with its cosine score."""
        return self.store.search(question, k or self.settings.top_k)
