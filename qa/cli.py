"""The ``qa`` command line: thin wrappers over :class:`qa.QA`.

    qa index [--rebuild]           build or refresh the index (only changed documents are embedded)
    qa ask "QUESTION" [--json]     answer with quoted sources
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click

from qa.config import Config


def _engine(ctx: click.Context, **extra: Any) -> Any:
    from qa.pipeline import QA

    opts = ctx.obj or {}
    try:
        cfg = Config.resolve(**opts, **extra)
    except (TypeError, ValueError) as e:
        raise click.UsageError(str(e)) from None
    return QA(config=cfg)


def _fail(e: Exception) -> None:
    click.echo(f"error: {e}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--seeds", "seeds_dir", type=click.Path(file_okay=False), help="Documents folder [QA_SEEDS_DIR; default: seeds/].")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder [QA_INDEX_DIR; default: index/].")
@click.option("--model", help="sentence-transformers model name or folder [QA_MODEL; default: packaged all-MiniLM-L6-v2].")
@click.option("-v", "--verbose", is_flag=True, help="Log what the engine does.")
@click.version_option(package_name="qa")
@click.pass_context
def main(ctx: click.Context, seeds_dir: str | None, index_dir: str | None, model: str | None, verbose: bool) -> None:
    """Answer questions from a document collection, quoting the sources."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {k: v for k, v in {"seeds_dir": seeds_dir, "index_dir": index_dir, "model": model}.items() if v}


class _Bar:
    """tqdm progress for IndexStore.sync (chunks embedded, with chunks/s)."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr, dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@main.command()
@click.option("--rebuild", is_flag=True, help="Drop the index (only what qa owns inside the index folder) and embed everything again.")
@click.pass_context
def index(ctx: click.Context, rebuild: bool) -> None:
    """Build or refresh the index from the documents folder."""
    from qa.pipeline import NoDocuments
    from qa.store import IndexError_

    engine = _engine(ctx)
    bar = _Bar()
    try:
        report = engine.index(progress=bar, rebuild=rebuild)
    except (NoDocuments, IndexError_, ValueError) as e:
        bar.close()
        _fail(e)
    bar.close()
    for w in engine.last_load.warnings if engine.last_load else ():
        click.echo(f"warning: {w}", err=True)
    click.echo(report.summary())
    click.echo(f"{engine.store.count()} chunks from {len(report.added + report.updated + report.unchanged)} documents in {engine.config.index_dir}")


def format_answer(answer: Any) -> str:
    """A readable answer: the reply, then one line per source."""
    lines = [answer.text]
    if answer.refused and answer.passages:
        lines += ["", "Nearest passages:"]
        for h in answer.passages[:3]:
            snippet = " ".join(h.chunk.text.split())
            lines.append(f"  - {h.chunk.doc_id} [{h.chunk.start}:{h.chunk.end}] {snippet[:160]}{'…' if len(snippet) > 160 else ''}")
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            lines.append(f"  [{c.n}] {c.title}")
            lines.append(f"      {c.doc_id}, characters {c.start}-{c.end}")
    for n in answer.notices:
        lines += ["", f"note: {n}"]
    return "\n".join(lines)


@main.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print Answer.to_dict() as JSON.")
@click.option("--top-k", type=click.IntRange(1, 100), default=None, help="Passages to read [QA_TOP_K; default 5].")
@click.pass_context
def ask(ctx: click.Context, question: tuple[str, ...], as_json: bool, top_k: int | None) -> None:
    """Answer QUESTION from the documents."""
    from qa.pipeline import InvalidQuestion, NoDocuments
    from qa.store import IndexError_

    text = " ".join(question)
    engine = _engine(ctx)
    try:
        answer = engine.ask(text, top_k=top_k)
    except (InvalidQuestion, NoDocuments, IndexError_) as e:
        _fail(e)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_answer(answer))


if __name__ == "__main__":  # pragma: no cover
    main()
