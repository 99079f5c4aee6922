"""BriefingRetriever under LangChain's standard retriever suite, on the sample corpus."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from bot.config import SAMPLE_CORPUS
from bot.retrieval import BriefingRetriever, Retriever
from bot.sources import load_paths

QUESTION = "Who issued the joint statement?"


class TestBriefingRetriever(RetrieversIntegrationTests):
    params: dict[str, Any] = {}

    @pytest.fixture(autouse=True)
    def _sample_index(self, sample_store, default_settings) -> None:
        # the suite builds retrievers from a property, so the session's index is put there
        type(self).params = {"store": sample_store, "settings": default_settings}

    @property
    def retriever_constructor(self) -> type[BriefingRetriever]:
        return BriefingRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self.params

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


def test_documents_are_the_hybrid_search_passages_with_their_citation_fields(
    sample_store, default_settings
):
    retriever = BriefingRetriever(store=sample_store, settings=default_settings, k=3)
    documents = retriever.invoke(QUESTION)
    passages = Retriever(sample_store, default_settings).retrieve(QUESTION, 3)
    assert [d.page_content for d in documents] == [p.text for p in passages]
    text = load_paths([SAMPLE_CORPUS])[0].text
    for document, passage in zip(documents, passages, strict=True):
        assert isinstance(document, Document)
        meta = document.metadata
        assert meta == {
            "article_id": "homs-falls",
            "title": "Syrian rebels capture Homs",
            "source": passage.source,
            "published": passage.published,
            "url": passage.url,
            "start": passage.start,
            "end": passage.end,
            "score": passage.score,
        }
        assert text[meta["start"] : meta["end"]] == document.page_content
    assert "joint statement" in documents[0].page_content


def test_the_day_asked_leaves_later_articles_out(sample_store, default_settings):
    retriever = BriefingRetriever(store=sample_store, settings=default_settings)
    assert retriever.invoke(QUESTION, as_of=dt.date(2024, 12, 8))
    assert retriever.invoke(QUESTION, as_of=dt.date(2020, 1, 1)) == []
