"""The Gradio chat page: streamed answers and briefings with numbered sources that open the
whole article beside the chat; adding files, feeds and URLs."""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote, unquote

import gradio as gr

from bot.access import check_bind, parse_logins
from bot.answer import Briefer
from bot.briefing import Briefing, BriefingWriter, BriefRequest
from bot.config import Settings
from bot.errors import BriefingError, QuestionError
from bot.ingest import ingest_inputs
from bot.limits import clean_question
from bot.periods import Period, parse_when
from bot.sources import SUPPORTED_SUFFIXES, is_url
from bot.store import Store
from bot.sync import sync

UPLOAD_TYPES = sorted(SUPPORTED_SUFFIXES)
DRAFT_REFRESH_S = 0.25
"""Shortest time between two updates of a streamed draft. Each update sends the whole chat
to the browser and re-renders it; once a token, that work competes with the model for the
same 2 cores. Four updates a second still read as streaming."""
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


def cite_key(citation: dict) -> str:
    """What a clickable [n] carries to the source viewer: the article and the cited span.
    The id is %-encoded, so nothing in it can leave the attribute it sits in."""
    return f"{quote(citation['article_id'], safe='')}:{citation['start']}:{citation['end']}"


CITE_TITLE = "Open the source: "


def cite_marker(citation: dict) -> str:
    """[n] as an element the page's click handler opens the source from. No href (the only
    links in the chat are articles' own http(s) URLs) and no data-* attribute (the chat's
    sanitizer drops them): the key rides in the title, which a hover also shows."""
    key = html.escape(CITE_TITLE + cite_key(citation), quote=True)
    return f'<span class="cite" title="{key}">[{citation["n"]}]</span>'


def with_markers(escaped: str, citations: list[dict]) -> str:
    """Escaped text whose escaped [n] markers become clickable ones."""
    by_n = {c["n"]: c for c in citations}

    def marker(match: re.Match) -> str:
        c = by_n.get(int(match.group(1)))
        return cite_marker(c) if c else match.group(0)

    return re.sub(r"\\\[(\d+)\\\]", marker, escaped)


def render_sources(citations: list[dict]) -> list[str]:
    """The numbered sources, each with title, source, date and passage."""
    parts = ["**Sources**"] if citations else []
    for c in citations:
        meta = ", ".join(escape_markdown(x) for x in (c["source"], c["published"]) if x)
        title = f"*{escape_markdown(c['title'])}*"
        if target := link_target(c["url"]):
            title = f"[{title}](<{target}>)"
        quote_ = "\n> ".join(escape_markdown(line) for line in c["passage"].splitlines())
        head = f"**{cite_marker(c)}** {title}" + (f" — {meta}" if meta else "")
        parts.append(f"{head}\n> {quote_}")
    return parts


def render_answer(answer: dict) -> str:
    """The answer JSON as Markdown: the answer with clickable [n], then its numbered sources."""
    text = with_markers(escape_markdown(answer["answer"]), answer["citations"])
    return "\n\n".join([text, *render_sources(answer["citations"])])


def render_briefing(briefing: dict, done: bool = True) -> str:
    """A briefing (JSON, or the points so far) as Markdown: dated points, then sources."""
    period = ", ".join(
        f"{label} {day}"
        for label, day in (("since", briefing["since"]), ("until", briefing["until"]))
        if day
    )
    new = "new articles only; " if briefing.get("new_only") else ""
    head = f"**Briefing: {escape_markdown(briefing['topic'])}**"
    head += f" ({escape_markdown(period) + '; ' if period else ''}{new}newest first)"
    if done and briefing["empty"]:
        return f"{head}\n\n{escape_markdown(briefing['message'])}"
    seen: dict[int, dict] = {}
    lines = [head]
    for point in briefing["points"]:
        seen |= {c["n"]: c for c in point["citations"]}
        text = with_markers(escape_markdown(point["text"]), point["citations"])
        lines.append(f"- **{escape_markdown(point['date'] or 'undated')}** {text}")
    if not done:
        lines.append("…")
    return "\n\n".join(lines + render_sources([seen[n] for n in sorted(seen)]))


BRIEF_ME = re.compile(
    r"^\s*brief me (?:on|about)\s+(?P<rest>.+?)[\s.?!]*$", re.IGNORECASE | re.DOTALL
)
_UNTIL = re.compile(r"\s+(?:until|till|up to)\s+(?P<until>.+)$", re.IGNORECASE)
_SINCE = re.compile(r"\s+(?:since|from|after)\s+(?P<since>.+)$", re.IGNORECASE)
_SPAN = re.compile(
    r"\s+(?P<since>(?:this|last|past) (?:week|month|year)|today|yesterday|recently)$", re.IGNORECASE
)


def brief_request_in(message: str) -> tuple[str, str | None, str | None] | None:
    """ "brief me on Syria since Friday" -> ("Syria", "Friday", None); None for a question."""
    match = BRIEF_ME.match(message)
    if not match:
        return None
    rest, since, until = match.group("rest"), None, None
    if (found := _UNTIL.search(rest)) and is_date(found.group("until")):
        rest, until = rest[: found.start()], found.group("until")
    if (found := _SINCE.search(rest) or _SPAN.search(rest)) and is_date(found.group("since")):
        rest, since = rest[: found.start()], found.group("since")
    return rest.strip(), since, until


def is_date(text: str) -> bool:
    """Is it a date? "brief me on aid from Qatar" is a topic, not a period from "Qatar"."""
    try:
        parse_when(text, dt.date.today())
    except QuestionError:
        return False
    return True


def render_source(store: Store, key: str) -> str:
    """The whole article a citation comes from, as escaped HTML, the cited span marked."""
    try:
        quoted, start_, end_ = (key or "").rsplit(":", 2)
        start, end = int(start_), int(end_)
    except ValueError:
        return "<p>Click a numbered citation to read its article here.</p>"
    found = store.article_text(unquote(quoted))
    if found is None:
        return "<p>That article is no longer in the index.</p>"
    meta, text = found
    details = " — ".join(html.escape(x) for x in (meta["source"], meta["published"]) if x)
    if target := link_target(meta["url"]):
        details += (
            f' — <a href="{html.escape(target)}" target="_blank" rel="noopener noreferrer">link</a>'
        )
    body = (
        html.escape(text[:start])
        + f'<mark id="cited-span">{html.escape(text[start:end])}</mark>'
        + html.escape(text[end:])
    )
    return (
        f"<h3>{html.escape(meta['title'] or meta['article_id'])}</h3><p>{details}</p>"
        f'<div class="article-text" style="white-space: pre-wrap">{body}</div>'
    )


CITE_CLICKS_JS = """() => {
  document.addEventListener('click', (event) => {
    const marker = event.target.closest('.cite[title^="Open the source: "]');
    if (!marker) return;
    event.preventDefault();
    const key = marker.title.slice('Open the source: '.length);
    const box = document.querySelector('#cite-key textarea');
    const shown = document.querySelector('#cited-span');
    if (box.value !== key) {
      shown?.classList.add('stale');  // the viewer is about to show another article
      box.value = key;
      box.dispatchEvent(new Event('input', {bubbles: true}));
      setTimeout(() => document.querySelector('#cite-open').click(), 50);
    }
    let tries = 0;  // scroll the span into view once the viewer shows it
    const scroll = setInterval(() => {
      const span = document.querySelector('#cited-span:not(.stale)');
      if (span) span.scrollIntoView({block: 'center'});
      if (span || ++tries > 100) clearInterval(scroll);
    }, 100);
  }, true);
}"""
"""One click handler for every [n], in answers and briefings, present and future."""
CITE_CSS = """<style>
.cite { color: var(--link-text-color, #2563eb); cursor: pointer; text-decoration: underline; }
#source-view mark { background: #fde68a; }
#source-view { max-height: 640px; overflow-y: auto; }
</style>"""


def article_listing(briefer: Briefer) -> tuple[list[list], gr.Dropdown]:
    """The article table and the remove menu, from one read of the index."""
    rows = briefer.store.articles()
    menu = [(f"{r['title']} ({r['article_id']})", r["article_id"]) for r in rows]
    return table_rows(rows), gr.Dropdown(choices=menu, value=None)


def table_rows(rows: list[dict]) -> list[list]:
    return [
        [r["published"] or "", r["title"], r["source"] or "", r["article_id"], r["passages"]]
        for r in rows
    ]


def filtered_articles(store: Store, source: str | None, since: str | None) -> list[list]:
    """The article table limited to one source and to articles published since a date
    (in words too); an unreadable date filters nothing and says so."""
    rows = store.articles()
    if source:
        rows = [r for r in rows if (r["source"] or "") == source]
    if since and since.strip():
        try:
            day = parse_when(since, dt.date.today())
        except QuestionError as err:
            gr.Warning(str(err))
            return table_rows(rows)
        rows = [r for r in rows if Period(day, None).holds(r["published"])]
    return table_rows(rows)


def source_choices(store: Store) -> gr.Dropdown:
    sources = sorted({r["source"] for r in store.articles() if r["source"]})
    return gr.Dropdown(choices=["", *sources], value="")


def problems_text(failures: list[str], warnings: list[str]) -> str:
    lines = [f"- Not added: {escape_markdown(f)}" for f in failures]
    lines += [f"- Note: {escape_markdown(w)}" for w in warnings]
    return "\n".join(lines)


def build_app(briefer: Briefer) -> gr.Blocks:
    """The whole page; one Briefer (one loaded model) serves every visitor, one at a time."""
    chain = briefer.as_runnable()
    writer = BriefingWriter(briefer)
    with gr.Blocks(title="Briefing bot") as app:
        gr.HTML(CITE_CSS, padding=False)
        gr.Markdown(
            "## Briefing bot\nAsk about the articles in the index, or type *brief me on "
            "Syria since Friday*. Every claim cites its passage: click a number to read it in "
            "its article. When the articles don't hold the answer, the bot says so."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Briefing", height=520, elem_id="chat")
            with gr.Column(scale=2):
                source_view = gr.HTML(
                    "<p>Click a numbered citation to read its article here.</p>",
                    label="Source",
                    elem_id="source-view",
                )
        turns = gr.State([])  # plain question/answer turns, for rewriting follow-ups
        # The last answer JSON (GUIDE.md): not shown, but what API clients of "/ask" read.
        last_answer = gr.JSON(label="Answer JSON", visible=False)
        last_briefing = gr.JSON(label="Briefing JSON", visible=False)
        # In the page but hidden: the click handler writes a citation's key here and clicks.
        cite_key_box = gr.Textbox(visible="hidden", elem_id="cite-key", label="Citation")
        cite_open = gr.Button("Open source", visible="hidden", elem_id="cite-open")
        with gr.Row():
            question = gr.Textbox(
                label="Question",
                placeholder="Who issued the joint statement?",
                show_label=False,
                scale=8,
                elem_id="question",
            )
            ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        with gr.Row():
            topic = gr.Textbox(label="Topic", placeholder="Syria", scale=4, elem_id="brief-topic")
            since = gr.Textbox(
                label="Since", placeholder="Friday, last week, 2024-12-06", scale=3,
                elem_id="brief-since",
            )  # fmt: skip
            new_only = gr.Checkbox(
                label="Only what's new since my last briefing", scale=2, elem_id="brief-new"
            )
            brief = gr.Button("Brief me", scale=1, elem_id="brief")
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
                source_filter = gr.Dropdown(
                    label="Only this source", choices=[""], value="", scale=4,
                    elem_id="filter-source",
                )  # fmt: skip
                since_filter = gr.Textbox(
                    label="Published since", placeholder="2024-12-01, last week", scale=4,
                    elem_id="filter-since",
                )  # fmt: skip
            with gr.Row():
                doomed = gr.Dropdown(
                    label="Remove an article",
                    scale=8,
                    elem_id="remove-choice",
                )
                remove = gr.Button("Remove", variant="stop", scale=1, elem_id="remove")

        def briefing_turns(
            request: BriefRequest, history: list, shown: str
        ) -> Iterator[tuple[list, dict | None]]:
            """The chat with the briefing growing point by point; its JSON at the end."""
            history = history + [
                {"role": "user", "content": escape_markdown(shown)},
                {"role": "assistant", "content": "…"},
            ]
            yield history, None
            so_far = {"topic": request.topic, "since": request.since, "until": request.until}
            so_far |= {"points": [], "new_only": request.new_only, "empty": False}
            try:
                for event in writer.stream(request):
                    if isinstance(event, Briefing):
                        data = event.to_dict()
                        history[-1] = {"role": "assistant", "content": render_briefing(data)}
                        writer.remember(request.topic)
                        yield history, data
                    else:
                        so_far["points"].append(event.to_dict())
                        content = render_briefing(so_far, done=False)
                        history[-1] = {"role": "assistant", "content": content}
                        yield history, None
            except BriefingError as err:
                history[-1] = {
                    "role": "assistant",
                    "content": f"Error: {escape_markdown(str(err))}",
                }
                yield history, None

        def respond_brief(topic: str, since: str, new: bool, history: list) -> Iterator[tuple]:
            since = (since or "").strip()
            request = BriefRequest(topic or "", since or None, new_only=bool(new))
            shown = f"Brief me on {topic}" + (f" since {since}" if since else "")
            yield from briefing_turns(request, history, shown + (" (new)" if new else ""))

        def respond(message: str, history: list, plain: list) -> Iterator[tuple]:
            try:  # a bad question never reaches the model
                message = clean_question(message, briefer.settings)
            except QuestionError as err:
                gr.Warning(str(err))
                error = {"role": "assistant", "content": f"Error: {escape_markdown(str(err))}"}
                yield message, history + [error], plain, None
                return
            if asked := brief_request_in(message):  # "brief me on Syria since Friday"
                request = BriefRequest(asked[0], asked[1], asked[2])
                for chat, _ in briefing_turns(request, history, message):
                    yield "", chat, plain, None
                return
            history = history + [
                {"role": "user", "content": escape_markdown(message)},  # shown as typed
                {"role": "assistant", "content": "…"},
            ]
            yield "", history, plain, None
            draft, shown_at = "", 0.0
            try:
                for event in chain.stream({"question": message, "history": plain}):
                    if "draft" in event:
                        draft += event["draft"]
                        if time.monotonic() - shown_at < DRAFT_REFRESH_S:
                            continue
                        shown_at = time.monotonic()
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

        def reported(change: Callable[..., tuple]) -> Callable[..., tuple]:
            """An index change that fails (a full disk, Chroma gone) says why in the status
            line, one line naming the input, and leaves the table as it was."""

            @functools.wraps(change)
            def guarded(*args, **kwargs) -> tuple:
                try:
                    return change(*args, **kwargs)
                except BriefingError as err:
                    return f"Error: {escape_markdown(str(err))}", gr.update(), gr.update()

            return guarded

        # Gradio injects progress through this default; it mirrors the ingest tqdm bar.
        @reported
        def add_files(files: list | None, progress: gr.Progress = gr.Progress(track_tqdm=True)):  # noqa: B008
            if not files:
                return refreshed("Choose one or more article files first.")
            result = ingest_inputs(
                [getattr(f, "name", f) for f in files], briefer.settings, briefer.store
            )
            problems = problems_text(result.failures, result.warnings)
            return refreshed(f"Done: {result.report.summary()}.\n{problems}")

        @reported
        def add_feed(url: str, progress: gr.Progress = gr.Progress(track_tqdm=True)):  # noqa: B008
            url = (url or "").strip()
            if not is_url(url):
                return refreshed("Give a feed or page address starting with http:// or https://.")
            # Through sync, so the feed joins the source record and `briefing sync` refreshes it.
            [outcome] = sync([url], briefer.settings, briefer.store)
            problems = problems_text(outcome.loaded.failures, outcome.loaded.warnings)
            return refreshed(f"Done: {outcome.report.summary()}.\n{problems}")

        @reported
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
        gr.on(
            [topic.submit, since.submit, brief.click],
            respond_brief,
            [topic, since, new_only, chatbot],
            [chatbot, last_briefing],
            api_name="brief",
            concurrency_id="model",
            concurrency_limit=1,
        )

        def open_source(key: str) -> str:
            return render_source(briefer.store, key)

        def filter_articles(source: str | None, since: str | None) -> list[list]:
            return filtered_articles(briefer.store, source, since)

        def list_sources() -> gr.Dropdown:
            return source_choices(briefer.store)

        # Named functions, not lambdas: "/lambda" stays the article listing API clients call.
        cite_open.click(
            open_source,
            [cite_key_box],
            [source_view],
            api_visibility="private",
            queue=False,
        )
        app.load(None, None, None, js=CITE_CLICKS_JS)
        gr.on(
            [source_filter.change, since_filter.submit],
            filter_articles,
            [source_filter, since_filter],
            [table],
            api_visibility="private",
        )
        app.load(list_sources, None, [source_filter], api_visibility="private")
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
