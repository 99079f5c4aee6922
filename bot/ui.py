"""The Gradio chat page: streamed answers with numbered sources; adding files, feeds and URLs."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import quote

import gradio as gr

from bot.access import check_bind, parse_logins
from bot.answer import Briefer
from bot.config import Settings
from bot.errors import BriefingError, QuestionError
from bot.ingest import ingest_inputs
from bot.limits import clean_question
from bot.sources import SUPPORTED_SUFFIXES, is_url
from bot.store import Store
from bot.sync import sync

UPLOAD_TYPES = sorted(SUPPORTED_SUFFIXES)
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape_markdown(text: str) -> str:
    """Article text is data: shown literally, never rendered as markup or HTML."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


_URL_SAFE = "/:?#&=%+,;@!$*~"
"""Kept as they are in a link target; everything else (spaces, <>()"'`\\[]) is %-encoded."""


def link_target(url: str | None) -> str | None:
    """An article's URL as a Markdown link target that cannot end the link early: only
    http(s), with every character that Markdown or HTML reads as syntax %-encoded."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    return quote(url, safe=_URL_SAFE)


def render_answer(answer: dict) -> str:
    """The answer JSON as Markdown: the answer, then its numbered sources, each with title,
    source, date and passage."""
    parts = [escape_markdown(answer["answer"]).replace(r"\[", "[").replace(r"\]", "]")]
    if answer["citations"]:
        parts.append("**Sources**")
    for c in answer["citations"]:
        meta = ", ".join(escape_markdown(x) for x in (c["source"], c["published"]) if x)
        title = f"*{escape_markdown(c['title'])}*"
        if target := link_target(c["url"]):
            title = f"[{title}](<{target}>)"
        quote = "\n> ".join(escape_markdown(line) for line in c["passage"].splitlines())
        parts.append(f"**[{c['n']}]** {title}" + (f" — {meta}" if meta else "") + f"\n> {quote}")
    return "\n\n".join(parts)


def article_listing(briefer: Briefer) -> tuple[list[list], gr.Dropdown]:
    """The article table and the remove menu, from one read of the index."""
    rows = briefer.store.articles()
    table = [
        [r["published"] or "", r["title"], r["source"] or "", r["article_id"], r["passages"]]
        for r in rows
    ]
    menu = [(f"{r['title']} ({r['article_id']})", r["article_id"]) for r in rows]
    return table, gr.Dropdown(choices=menu, value=None)


def problems_text(failures: list[str], warnings: list[str]) -> str:
    lines = [f"- Not added: {escape_markdown(f)}" for f in failures]
    lines += [f"- Note: {escape_markdown(w)}" for w in warnings]
    return "\n".join(lines)


def build_app(briefer: Briefer) -> gr.Blocks:
    """The whole page; one Briefer (one loaded model) serves every visitor, one at a time."""
    chain = briefer.as_runnable()
    with gr.Blocks(title="Briefing bot") as app:
        gr.Markdown(
            "## Briefing bot\nAsk about the articles in the index. Every claim cites its "
            "passage; when the articles don't hold the answer, the bot says so."
        )
        chatbot = gr.Chatbot(label="Briefing", height=520, elem_id="chat")
        turns = gr.State([])  # plain question/answer turns, for rewriting follow-ups
        # The last answer JSON (GUIDE.md): not shown, but what API clients of "/ask" read.
        last_answer = gr.JSON(label="Answer JSON", visible=False)
        with gr.Row():
            question = gr.Textbox(
                label="Question",
                placeholder="Who issued the joint statement?",
                show_label=False,
                scale=8,
                elem_id="question",
            )
            ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        with gr.Accordion("Articles", open=False):
            uploads = gr.File(
                label="Add article files",
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                elem_id="uploads",
            )
            add = gr.Button("Add to index", elem_id="add")
            with gr.Row():
                feed_url = gr.Textbox(
                    label="Feed or page URL",
                    placeholder="https://example.com/news/rss.xml",
                    scale=8,
                    elem_id="feed-url",
                )
                add_url = gr.Button("Add URL", scale=1, elem_id="add-url")
            status = gr.Markdown(elem_id="status")
            table = gr.Dataframe(
                headers=["published", "title", "source", "id", "passages"],
                interactive=False,
                elem_id="articles",
            )
            with gr.Row():
                doomed = gr.Dropdown(
                    label="Remove an article",
                    scale=8,
                    elem_id="remove-choice",
                )
                remove = gr.Button("Remove", variant="stop", scale=1, elem_id="remove")

        def respond(message: str, history: list, plain: list) -> Iterator[tuple]:
            try:  # a bad question never reaches the model
                message = clean_question(message, briefer.settings)
            except QuestionError as err:
                gr.Warning(str(err))
                error = {"role": "assistant", "content": f"Error: {escape_markdown(str(err))}"}
                yield message, history + [error], plain, None
                return
            history = history + [
                {"role": "user", "content": escape_markdown(message)},  # shown as typed
                {"role": "assistant", "content": "…"},
            ]
            yield "", history, plain, None
            draft = ""
            try:
                for event in chain.stream({"question": message, "history": plain}):
                    if "draft" in event:
                        draft += event["draft"]
                        history[-1] = {"role": "assistant", "content": escape_markdown(draft)}
                        yield "", history, plain, None
                    else:  # the checked answer JSON
                        history[-1] = {"role": "assistant", "content": render_answer(event)}
                        plain = plain + [
                            {"role": "user", "content": message},
                            {"role": "assistant", "content": event["answer"]},
                        ]
                        yield "", history, plain, event
            except BriefingError as err:
                history[-1] = {
                    "role": "assistant",
                    "content": f"Error: {escape_markdown(str(err))}",
                }
                yield "", history, plain, None

        def refreshed(message: str) -> tuple:
            return message, *article_listing(briefer)

        # Gradio injects progress through this default; it mirrors the ingest tqdm bar.
        def add_files(files: list | None, progress: gr.Progress = gr.Progress(track_tqdm=True)):  # noqa: B008
            if not files:
                return refreshed("Choose one or more article files first.")
            result = ingest_inputs(
                [getattr(f, "name", f) for f in files], briefer.settings, briefer.store
            )
            problems = problems_text(result.failures, result.warnings)
            return refreshed(f"Done: {result.report.summary()}.\n{problems}")

        def add_feed(url: str, progress: gr.Progress = gr.Progress(track_tqdm=True)):  # noqa: B008
            url = (url or "").strip()
            if not is_url(url):
                return refreshed("Give a feed or page address starting with http:// or https://.")
            # Through sync, so the feed joins the source record and `briefing sync` refreshes it.
            [outcome] = sync([url], briefer.settings, briefer.store)
            problems = problems_text(outcome.loaded.failures, outcome.loaded.warnings)
            return refreshed(f"Done: {outcome.report.summary()}.\n{problems}")

        def remove_article(article_id: str | None):
            if not article_id:
                return refreshed("Choose an article to remove first.")
            removed = briefer.store.remove(article_id)
            return refreshed(f"Removed {escape_markdown(article_id)} ({removed} passages).")

        # One listener for Enter and the Ask button: one public endpoint, "/ask", and one
        # queue for the model, which answers one question at a time, in turn.
        gr.on(
            [question.submit, ask.click],
            respond,
            [question, chatbot, turns],
            [question, chatbot, turns, last_answer],
            api_name="ask",
            concurrency_id="model",
            concurrency_limit=1,
        )
        add.click(add_files, [uploads], [status, table, doomed])
        gr.on([feed_url.submit, add_url.click], add_feed, [feed_url], [status, table, doomed])
        remove.click(remove_article, [doomed], [status, table, doomed])
        app.load(lambda: article_listing(briefer), None, [table, doomed])
    return app


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    store: Store | None = None,
    insecure: bool = False,
) -> None:
    """Serve the page; with BRIEFING_AUTH behind a login, and beyond loopback only with one
    (or --insecure): checked before the model loads."""
    logins = parse_logins(settings.auth)
    check_bind(host, logins, insecure)
    briefer = Briefer(settings, store=store)
    app = build_app(briefer)
    app.queue(max_size=settings.queue_size, default_concurrency_limit=1).launch(
        server_name=host, server_port=port, auth=logins or None
    )
