"""The ``qa`` command line: thin wrappers over :class:`qa.QA`, one click group.

    qa index [--rebuild] [--source FILE.jsonl]   build or refresh the index (only changed documents are embedded)
    qa ask "QUESTION" [--json]     answer with quoted sources
    qa chat                        ask, then ask follow-ups ("When was she sworn in?")
    qa eval --gold FILE | --squad FILE [--squad FILE ...]   measure answers, citations, refusals and retrieval
    qa serve [--host H] [--port P] [--auth U:P]   the web chat, REST and OpenAI-compatible APIs (= python app.py)
    qa train-reader --squad FILE --out DIR         train the span reader

Every setting is resolved by :mod:`qa.config`: a flag wins over its ``QA_*`` variable (named in
each option's help), which wins over the default. Answers are rendered by :mod:`qa.render`. The
port and the folders are checked by :mod:`qa.startup` before anything loads; a user error is one
``error: ...`` line (its traceback with ``--debug`` / ``QA_DEBUG=1``).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from qa.config import Config
from qa.documents_cli import collection_option
from qa.progress import Bar as _Bar
from qa.startup import OneLineCommand, OneLineGroup


def _config(ctx: click.Context, **extra: Any) -> Config:
    try:
        return Config.resolve(**(ctx.obj or {}), **extra)
    except (TypeError, ValueError) as e:
        raise click.UsageError(str(e)) from None


def _engine(ctx: click.Context, check_documents: bool = True, **extra: Any) -> Any:
    """The engine, once its folders are checked (a named documents folder that is not there, an
    index folder that cannot be written: one line, before any model loads)."""
    from qa import QA
    from qa.startup import StartupError, check_folders, explicit_folders

    config = _config(ctx, **extra)
    try:
        check_folders(config, explicit_folders(ctx.obj or {}), documents=check_documents)
    except StartupError as e:
        _fail(e)
    try:
        return QA(config=config)
    except ValueError as e:  # a setting the engine cannot be built with (QA_ANSWERER=llm without QA_LLM_BASE_URL, ...)
        _fail(e)


def _engine_of(ctx: click.Context, collection: str | None, **extra: Any) -> Any:
    """The named collection's engine (``--collection`` / QA_DOCUMENT_COLLECTION), else the default one's."""
    from qa.documents_cli import collection_engine

    return collection_engine(ctx, collection) if collection else _engine(ctx, **extra)


def _fail(e: BaseException, status: int = 2) -> None:
    """A user error: one ``error:`` line and exit ``status``; its traceback with --debug / QA_DEBUG=1."""
    from qa.startup import debug

    if debug():
        raise e
    click.echo(f"error: {e}", err=True)
    sys.exit(status)


ENGINE_OPTIONS = ("seeds_dir", "documents_dir", "index_dir", "model")


def engine_options(f: Any) -> Any:
    """The folders and model of the engine (the ``qa`` group's options, and ``python app.py``'s)."""
    for option in reversed((
        click.option("--seeds", "seeds_dir", type=click.Path(file_okay=False),
                     help="The shipped documents, read only [QA_SEEDS_DIR; default: seeds/]."),
        click.option("--documents", "documents_dir", type=click.Path(file_okay=False),
                     help="Your documents: uploads are written here and indexed with the seeds [QA_DOCUMENTS_DIR; default: documents/, git-ignored]."),
        click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [QA_INDEX_DIR; default: index/]."),
        click.option("--model", help="sentence-transformers model name or folder [QA_MODEL; default: packaged all-MiniLM-L6-v2]."),
    )):
        f = option(f)
    return f


def logging_options(f: Any) -> Any:
    """``--log-level`` and ``--debug`` (the ``qa`` group's options, and ``python app.py``'s)."""
    f = click.option("--debug", is_flag=True, help="Show the traceback of an error, and DEBUG logs [QA_DEBUG=1].")(f)
    return click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False), default=None,
                        help="Log level [QA_LOG_LEVEL; default WARNING, and qa's own INFO lines when serving; "
                             "libraries stay at WARNING unless DEBUG].")(f)


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@engine_options
@click.option("-v", "--verbose", is_flag=True, help="Log what the engine does (= --log-level INFO).")
@logging_options
@click.version_option(package_name="qa")
@click.pass_context
def main(ctx: click.Context, verbose: bool, log_level: str | None, debug: bool, **folders: str | None) -> None:
    """Answer questions from a document collection, quoting the sources."""
    from qa.startup import StartupError, configure_logging

    try:
        configure_logging(log_level or ("INFO" if verbose else None), debug)
    except StartupError as e:  # a bad QA_LOG_LEVEL
        _fail(e)
    ctx.obj = {k: v for k, v in folders.items() if v}


class _NotWarnings(logging.Filter):
    """Drops WARNING records: what `qa index` prints itself as `warning:` lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno != logging.WARNING


@main.command()
@click.option("--rebuild", is_flag=True, help="Embed everything again into a new generation (the old one answers until it is done; deletes only what qa owns).")
@click.option("--source", "source", type=click.Path(exists=True, dir_okay=False),
              help="Index this JSONL corpus (one {\"id\", \"title\", \"text\"} object per line, streamed) instead of the documents folder.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (it is also off when stderr is not a terminal).")
@collection_option
@click.pass_context
def index(ctx: click.Context, rebuild: bool, source: str | None, quiet: bool, collection: str | None) -> None:
    """Build or refresh the index from the documents folder (or --source FILE.jsonl).

    Only added and edited documents are embedded. Crash-safe: the previous index stays live until
    the new one is complete, and a run killed at any point is finished by the next one.
    """
    import time
    from pathlib import Path

    from qa import NoDocuments
    from qa.store import IndexError_

    engine = _engine_of(ctx, collection, check_documents=not source)  # a JSONL corpus needs no documents folder
    bar = _Bar(enabled=not quiet and sys.stderr.isatty())
    t0 = time.perf_counter()
    # what the folder reader warns about is printed below as `warning:` lines, once each, not also logged
    ingest_log, printed_below = logging.getLogger("qa.ingest"), _NotWarnings()
    ingest_log.addFilter(printed_below)
    try:
        if source:
            from qa.ingest import load_jsonl

            path = Path(source).resolve()
            report = engine.store.sync(load_jsonl(path), progress=bar, rebuild=rebuild, source=f"jsonl:{path}")
        else:
            report = engine.index(progress=bar, rebuild=rebuild)
        engine.store.drop_retired()
        engine.store.wait_bm25()  # an append rebuilds BM25 in the background: leave a complete one
        from qa.runtime import prepare_exports

        prepare_exports(engine)  # ONNX exports of the embedder and reader: `qa ask` then needs no torch
    except (NoDocuments, IndexError_, ValueError, OSError) as e:
        bar.close()
        _fail(e)
    finally:
        ingest_log.removeFilter(printed_below)
    bar.close()
    seconds = time.perf_counter() - t0
    for w in engine.last_load.warnings if engine.last_load else ():
        click.echo(f"warning: {w}", err=True)
    click.echo(report.summary())
    rate = report.chunks_added / seconds if seconds > 0 else 0.0
    click.echo(f"embedded {report.chunks_added} chunks in {seconds:.1f}s ({rate:.1f} chunks/s); "
               f"{engine.store.count()} chunks from {report.documents} documents in {engine.config.index_dir}"
               + (f" (vectors on {engine.config.chroma_url})" if engine.config.chroma_url else ""))


@main.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print Answer.to_dict() as JSON.")
@click.option("--top-k", type=click.IntRange(1, 100), default=None, help="Passages to read [QA_TOP_K; default 5].")
@collection_option
@click.pass_context
def ask(ctx: click.Context, question: tuple[str, ...], as_json: bool, top_k: int | None, collection: str | None) -> None:
    """Answer QUESTION from the documents."""
    from qa import InvalidQuestion, NoDocuments
    from qa.store import IndexError_

    text = " ".join(question)
    engine = _engine_of(ctx, collection)
    from qa.runtime import preload

    preload(engine)  # the ONNX sessions load while the index is opened
    try:
        answer = engine.ask(text, top_k=top_k)
    except (InvalidQuestion, NoDocuments, IndexError_, ValueError, OSError) as e:  # one line, no traceback
        _fail(e)
    from qa import render

    click.echo(render.json_text(answer) if as_json else render.plain_text(answer))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print each Answer.to_dict() as JSON.")
@collection_option
@click.pass_context
def chat(ctx: click.Context, as_json: bool, collection: str | None) -> None:
    """Ask questions one per line (standard input); follow-ups refer back to the previous answer.
    An empty line or end of input stops."""
    from qa import InvalidQuestion, NoDocuments, render
    from qa.conversation import Turn
    from qa.store import IndexError_

    engine = _engine_of(ctx, collection)
    history: list[Turn] = []
    prompt = sys.stdin.isatty()
    while True:
        line = click.prompt("question", default="", show_default=False) if prompt else sys.stdin.readline()
        if not line.strip():
            return
        try:
            answer = engine.ask(line.strip(), history=history)
        except InvalidQuestion as e:
            click.echo(f"error: {e}", err=True)
            continue
        except (NoDocuments, IndexError_, ValueError, OSError) as e:
            _fail(e)
        history.append(Turn.of(answer))
        click.echo(render.json_text(answer, indent=None) if as_json else render.plain_text(answer) + "\n")


def serve_options(f: Any) -> Any:
    """Where and how the server listens (``qa serve`` and ``python app.py``); resolved by ServeSettings."""
    for option in reversed((
        click.option("--host", default=None, help="Interface to bind [QA_HOST; default 127.0.0.1]."),
        click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port [QA_PORT; default 7860]."),
        click.option("--auth", default=None, metavar="USER:PASSWORD", help="Require HTTP basic auth [QA_AUTH; default off]."),
        click.option("--max-upload", "max_upload_bytes", type=click.IntRange(1, None), default=None, metavar="BYTES",
                     help="Size limit per uploaded document [QA_MAX_UPLOAD_BYTES; default 2 MB]."),
        click.option("--max-body", "max_body_bytes", type=click.IntRange(1, None), default=None, metavar="BYTES",
                     help="Request body limit of the REST and OpenAI routes, 413 above it [QA_MAX_BODY_BYTES; default 1 MB]."),
        click.option("--keep-alive", "keep_alive_s", type=click.FloatRange(0, None, min_open=True), default=None, metavar="SECONDS",
                     help="Idle keep-alive connection timeout [QA_KEEP_ALIVE; default 30]."),
        click.option("--shutdown-grace", "shutdown_grace_s", type=click.FloatRange(0, None), default=None, metavar="SECONDS",
                     help="On SIGTERM or Ctrl-C, wait this long for open connections, then close them [QA_SHUTDOWN_GRACE; default 5]."),
    )):
        f = option(f)
    return f


def run_server(engine_opts: dict[str, Any], **flags: Any) -> None:
    """Check the settings, the folders and the port (in well under a second), then build the engine
    and serve until interrupted; a bad setting, folder, port or index is one line and exit status 2."""
    from qa import NoDocuments
    from qa.config import ServeSettings
    from qa.startup import StartupError, check_folders, explicit_folders, level_given, reserve_port
    from qa.store import IndexError_

    if not level_given():  # the server says where it listens and what it loaded (qa's INFO lines)
        logging.getLogger("qa").setLevel(logging.INFO)
    try:
        settings = ServeSettings.resolve(**flags)
        config = Config.resolve(**{k: v for k, v in engine_opts.items() if v})
        check_folders(config, explicit_folders(engine_opts))
        sock = reserve_port(settings.host, settings.port)  # held from here on: no model loads for a port in use
    except (StartupError, ValueError, TypeError) as e:
        _fail(e)
    from qa import QA
    from qa.server import serve as serve_app

    try:
        serve_app(QA(config=config), settings, sock=sock)
    except (NoDocuments, IndexError_, StartupError, ValueError) as e:  # a bad folder or index: one line, no traceback
        _fail(e)
    except KeyboardInterrupt:  # pragma: no cover
        pass


@main.command()
@serve_options
@click.pass_context
def serve(ctx: click.Context, **flags: Any) -> None:
    """Start the web chat, REST and OpenAI-compatible APIs on one port (same as `python app.py`)."""
    run_server(ctx.obj or {}, **flags)


@click.command(cls=OneLineCommand, context_settings={"help_option_names": ["-h", "--help"]})
@engine_options
@serve_options
@logging_options
def app_main(log_level: str | None, debug: bool, **options: Any) -> None:
    """Serve the qa web chat, REST and OpenAI-compatible APIs (`python app.py`, same as `qa serve`)."""
    from qa.startup import StartupError, configure_logging

    try:
        configure_logging(log_level, debug, fmt="%(asctime)s %(levelname)s %(name)s: %(message)s")
    except StartupError as e:  # a bad QA_LOG_LEVEL
        _fail(e)
    run_server({k: options.pop(k) for k in ENGINE_OPTIONS}, **options)


@main.command("train-reader", context_settings={"ignore_unknown_options": True, "help_option_names": []}, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def train_reader(args: tuple[str, ...]) -> None:
    """Train the span reader (see `qa train-reader --help`: its options are qa.reader.train's click command's)."""
    from qa.reader.train import command  # loaded only when asked for: it pulls in the training code

    command().main(list(args), prog_name="qa train-reader")


from qa.documents_cli import COMMANDS as _DOCUMENT_COMMANDS  # noqa: E402  (qa documents, qa collections)
from qa.eval_cli import bind as _bind_eval  # noqa: E402  (qa eval)

_EVAL = _bind_eval(engine_of=lambda ctx, collection: _engine_of(ctx, collection), config=lambda ctx: _config(ctx),
                   fail=lambda e: _fail(e))  # looked up at call time: tests replace _engine
for _command in (*_DOCUMENT_COMMANDS, _EVAL):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
