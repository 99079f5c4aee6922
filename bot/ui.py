"""The Gradio chat page: streamed answers, numbered sources under each, and article upload."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import gradio as gr

from bot.answer import Answer, Briefer
from bot.config import Settings
from bot.errors import BriefingError
from bot.ingest import ingest_paths
from bot.store import Store

UPLOAD_TYPES = [".md", ".markdown", ".txt", ".json", ".jsonl"]
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape_markdown(text: str) -> str:
    """Article text is data: shown literally, never rendered as markup or HTML."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def render_answer(answer: Answer) -> str:
    """The answer followed by its numbered sources, each with title, source, date and passage."""
    parts = [escape_markdown(answer.answer).replace(r"\[", "[").replace(r"\]", "]")]
    if answer.citations:
        parts.append("**Sources**")
    for c in answer.citations:
        meta = ", ".join(escape_markdown(x) for x in (c.source, c.published) if x)
        title = f"*{escape_markdown(c.title)}*"
        if c.url and c.url.startswith(("http://", "https://")):
            title = f"[{title}](<{c.url}>)"
        quote = "\n> ".join(escape_markdown(line) for line in c.passage.splitlines())
        parts.append(f"**[{c.n}]** {title}" + (f" — {meta}" if meta else "") + f"\n> {quote}")
    return "\n\n".join(parts)


def article_rows(briefer: Briefer) -> list[list]:
    return [
        [r["published"] or "", r["title"], r["source"] or "", r["article_id"], r["passages"]]
        for r in briefer.store.articles()
    ]


def build_app(briefer: Briefer) -> gr.Blocks:
    """The whole page; one Briefer (one loaded model) serves every visitor, one at a time."""
    with gr.Blocks(title="Briefing bot") as app:
        gr.Markdown(
            "## Briefing bot\nAsk about the articles in the index. Every claim cites its "
            "passage; when the articles don't hold the answer, the bot says so."
        )
        chatbot = gr.Chatbot(label="Briefing", height=520, elem_id="chat")
        turns = gr.State([])  # plain question/answer turns, for rewriting follow-ups
        with gr.Row():
            question = gr.Textbox(
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
            status = gr.Markdown()
            table = gr.Dataframe(
                headers=["published", "title", "source", "id", "passages"],
                value=lambda: article_rows(briefer),
                interactive=False,
                elem_id="articles",
            )

        def respond(message: str, history: list, plain: list) -> Iterator[tuple]:
            message = (message or "").strip()
            if not message:
                gr.Warning("Type a question first.")
                yield "", history, plain
                return
            history = history + [
                {"role": "user", "content": message},
                {"role": "assistant", "content": "…"},
            ]
            yield "", history, plain
            draft = ""
            try:
                for event in briefer.stream(message, plain):
                    if isinstance(event, Answer):
                        history[-1] = {"role": "assistant", "content": render_answer(event)}
                        plain = plain + [
                            {"role": "user", "content": message},
                            {"role": "assistant", "content": event.answer},
                        ]
                    else:
                        draft += event
                        history[-1] = {"role": "assistant", "content": escape_markdown(draft)}
                    yield "", history, plain
            except BriefingError as err:
                history[-1] = {
                    "role": "assistant",
                    "content": f"Error: {escape_markdown(str(err))}",
                }
                yield "", history, plain

        # Gradio injects progress through this default; it mirrors the ingest tqdm bar.
        def add_files(files: list | None, progress: gr.Progress = gr.Progress(track_tqdm=True)):  # noqa: B008
            if not files:
                return "Choose one or more article files first.", article_rows(briefer)
            paths = [getattr(f, "name", f) for f in files]
            try:
                report = ingest_paths(paths, briefer.settings, store=briefer.store)
            except BriefingError as err:
                return f"Nothing was added: {escape_markdown(str(err))}", article_rows(briefer)
            return f"Done: {report.summary()}.", article_rows(briefer)

        for trigger in (question.submit, ask.click):
            trigger(respond, [question, chatbot, turns], [question, chatbot, turns])
        add.click(add_files, [uploads], [status, table])
    return app


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 7860, store: Store | None = None
) -> None:
    briefer = Briefer(settings, store=store)
    app = build_app(briefer)
    app.queue(default_concurrency_limit=1).launch(server_name=host, server_port=port)
