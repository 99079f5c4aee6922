"""The stock LangChain RAG recipe, run in the eval harness as the peer to beat.

Recursive character splitter (1000/200), Chroma top-4, the widely copied "use the context; if
you don't know, say so" prompt, the same embeddings and the same chat model as ours. Its
"citations" are the four retrieved chunks, which is what such recipes show as sources.
"""

from __future__ import annotations

import re
import time

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_text_splitters import RecursiveCharacterTextSplitter

from bot.answer import Answer, Citation
from bot.articles import Article
from bot.config import Settings
from bot.store import Passage, Store, passage_of

STOCK_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "human",
            "You are an assistant for question-answering tasks. Use the following pieces of "
            "retrieved context to answer the question. If you don't know the answer, just say "
            "that you don't know. Use three sentences maximum and keep the answer concise.\n"
            "Question: {question}\nContext: {context}\nAnswer:",
        )
    ]
)


DECLINES = re.compile(
    r"articles? (?:do(?:es)?n[o’']?t|do not|does not) say|"
    r"(?:do(?:es)?n[’']t|do not|does not|cannot|can't) (?:contain|mention|provide|specify|answer)|"
    r"not (?:mentioned|provided|specified|stated|given) in the (?:given |provided )?"
    r"(?:passages|articles|context|text)|no (?:information|mention)|(?:don[’']t|do not) know",
    re.IGNORECASE,
)
"""How the recipe's replies say "I don't know" (the recipe has no fixed abstention sentence)."""


def stock_split(article: Article) -> list[Passage]:
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=1000, chunk_overlap=200, add_start_index=True
    )
    return [
        passage_of(article, start, start + len(doc.page_content))
        for doc in splitter.create_documents([article.text])
        for start in [doc.metadata["start_index"]]
    ]


class StockPipeline:
    top_k = 4

    def __init__(
        self, settings: Settings, store: Store, chat_model: BaseChatModel | None, model: str
    ):
        self.settings = settings
        self.store = store
        self.chain = STOCK_PROMPT | chat_model | StrOutputParser() if chat_model else None
        self.model = model

    def retrieve(self, question: str, as_of=None) -> list[Passage]:
        """The recipe's top-4 dense chunks (it has no notion of the day a question is asked)."""
        return self.store.search(question, self.top_k)

    def ask(self, question: str, history: list[dict] | None = None, as_of=None) -> Answer:
        """Answer the question alone: the stock recipe has no notion of a conversation."""
        started = time.perf_counter()
        passages = self.retrieve(question)
        timings = {"retrieve_s": time.perf_counter() - started}
        context = "\n\n".join(p.text for p in passages)
        reply = []
        for chunk in self.chain.stream({"question": question, "context": context}):
            timings.setdefault("first_token_s", time.perf_counter() - started)
            reply.append(chunk)
        timings.setdefault("first_token_s", time.perf_counter() - started)
        timings["total_s"] = time.perf_counter() - started
        text = "".join(reply).strip()
        abstained = bool(DECLINES.search(text))
        cited = [] if abstained else passages
        return Answer(
            question=question,
            answer=text,
            abstained=abstained,
            citations=[Citation.from_passage(n, p) for n, p in enumerate(cited, 1)],
            timings={k: round(v, 3) for k, v in timings.items()},
            model=self.model,
            retrieved=passages,
        )
