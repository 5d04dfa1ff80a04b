"""``qa eval``: answers, citations, refusals, retrieval and latency measured on a gold set or on
SQuAD (v1.1, v2.0). Registered into the ``qa`` group by :mod:`qa.cli`, which hands it how to build
an engine (:func:`bind`); the evaluation code itself (:mod:`qa.eval`) loads only when the command runs.
"""

from __future__ import annotations

import json
from typing import Any

import click

from qa.documents_cli import collection_option
from qa.progress import Bar as _Bar
from qa.progress import CountBar as _CountBar


#: what the ``qa`` group hands this command when it registers it (:func:`bind`): the engine of a
#: collection, the resolved config and the one-line failure, looked up at call time
_HOOKS: dict[str, Any] = {}


def bind(**hooks: Any) -> click.Command:
    """Give the command the ``qa`` group's ``engine_of(ctx, collection)``, ``config(ctx)`` and ``fail(e)``."""
    _HOOKS.update(hooks)
    return eval_command


def _fail(e: BaseException) -> None:
    _HOOKS["fail"](e)


@click.command("eval")
@click.option("--gold", "gold_path", type=click.Path(exists=True, dir_okay=False), help="Gold set (JSONL: id, question, answers, sources, unanswerable), e.g. gold/seeds.jsonl.")
@click.option("--squad", "squad_paths", type=click.Path(dir_okay=False), multiple=True,
              help="SQuAD v1.1 or v2.0 JSON file (e.g. dev-v1.1.json); repeat to evaluate several as one set, e.g. "
                   "answerable dev-half.json with SQuAD 2.0's dev-half-unanswerable.json.")
@click.option("--corpus", "corpus_path", type=click.Path(exists=True, dir_okay=False), help="With --squad: paragraphs JSONL to retrieve from (id = <title>#<index>); default: the SQuAD files' own paragraphs.")
@click.option("--limit", type=click.IntRange(1, None), default=None, help="Evaluate only the first N questions, in file order (after --sample).")
@click.option("--sample", type=click.IntRange(1, None), default=None, help="Evaluate a seeded random sample of N questions, across all files (file order kept).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample.")
@click.option("--gold-paragraph", is_flag=True, help="With --squad: read each question's own paragraph only (no retrieval).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the full report (EvalReport.to_dict()) to this file.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), help="Write report.md and chart.png into this folder.")
@click.option("--top-k", type=click.IntRange(1, 100), default=None, help="Passages per question [gold: QA_TOP_K, default 5; SQuAD: 10].")
@click.option("--rows", type=click.IntRange(0, None), default=None, help="Per-question rows to print, failures first [default: all].")
@click.option("--articles", default=None, metavar="TITLE,TITLE", help="With --squad: only these articles' questions (e.g. a reader's held-out articles).")
@collection_option
@click.pass_context
def eval_command(
    ctx: click.Context, gold_path: str | None, squad_paths: tuple[str, ...], corpus_path: str | None, limit: int | None,
    sample: int | None, seed: int, gold_paragraph: bool, json_out: str | None, report_dir: str | None, top_k: int | None,
    rows: int | None, articles: str | None, collection: str | None,
) -> None:
    """Measure answers, citations, refusals, retrieval and latency on a gold set or SQuAD (v1.1, v2.0).

    \b
      qa eval --gold gold/seeds.jsonl --report eval-report
      qa eval --squad dev-v1.1.json --corpus paragraphs-all.jsonl --limit 500
      qa eval --squad dev-half.json --squad dev-half-unanswerable.json --gold-paragraph --sample 1000
    """
    from pathlib import Path

    from qa import NoDocuments
    from qa import eval as ev
    from qa.store import IndexError_

    if (gold_path is None) == (not squad_paths):
        raise click.UsageError("give exactly one of --gold FILE or --squad FILE (--squad may be repeated)")
    if gold_path and (corpus_path or gold_paragraph or articles):
        raise click.UsageError("--corpus, --gold-paragraph and --articles go with --squad")
    if squad_paths and collection and ctx.get_parameter_source("collection") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--collection goes with --gold (--squad indexes its own paragraphs)")
    for squad_path in squad_paths:
        if not Path(squad_path).is_file():
            _fail(FileNotFoundError(ev.squad_missing_message(squad_path)))
    if len(squad_paths) > 1 and limit and not sample:
        click.echo(f"note: --limit {limit} takes the first {limit} questions in file order, starting with "
                   f"{Path(squad_paths[0]).name}; --sample N draws a seeded sample across all files", err=True)

    _check_writable(json_out, folder=False)
    _check_writable(report_dir, folder=True)
    index_bar, q_bar = _Bar(), _CountBar("eval", "q")
    warnings: list[str] = []
    try:
        if gold_path:
            report, warnings = _eval_gold(ctx, gold_path, collection, index_bar, q_bar, top_k=top_k, limit=limit, sample=sample, seed=seed)
        else:
            cfg = _HOOKS["config"](ctx)
            report = ev.evaluate_squad(
                list(squad_paths), corpus_path=corpus_path, limit=limit, gold_paragraph=gold_paragraph,
                top_k=top_k or 10, config=cfg, progress=q_bar, index_progress=index_bar,
                articles=[a.strip() for a in articles.split(",") if a.strip()] if articles else None,
                sample=sample, seed=seed,
            )
    except (NoDocuments, IndexError_, ValueError, OSError) as e:
        index_bar.close()
        q_bar.close()
        _fail(e)
    index_bar.close()
    q_bar.close()
    for line in warnings:  # after the bars: on a line of its own
        click.echo(f"warning: {line}", err=True)
    click.echo(ev.format_report(report, rows=rows, symbols=ev.console_symbols()))
    _write_outputs(report, json_out, report_dir)


def _write_outputs(report: Any, json_out: str | None, report_dir: str | None) -> None:
    """The report as JSON and as report.md + chart.png, where asked for; a full disk is one error
    line (the report is printed already)."""
    from pathlib import Path

    from qa import eval as ev

    try:
        if json_out:
            Path(json_out).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
            click.echo(f"wrote {json_out}", err=True)
        if report_dir:
            md, png = ev.write_markdown_report(report, report_dir)
            click.echo(f"wrote {md} and {png}", err=True)
    except OSError as e:
        _fail(OSError(f"the report could not be written: {e}"))


def _check_writable(path: str | None, folder: bool) -> None:
    """Fail now, not after the whole evaluation, when ``path`` (a file, or a ``folder``) cannot be
    written: its folder cannot be created (a file stands in the way) or is not writable."""
    import os
    from pathlib import Path

    if not path:
        return
    where = Path(path) if folder else Path(path).parent
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _fail(OSError(f"cannot write {path}: {e.strerror or e} ({where})"))
    if not os.access(where, os.W_OK):
        _fail(OSError(f"cannot write {path}: the folder {where} is not writable"))


def _eval_gold(ctx: click.Context, gold_path: str, collection: str | None, index_bar: Any, q_bar: Any,
               **options: Any) -> tuple[Any, list[str]]:
    """`qa eval --gold`: the file checked in full before any model loads (a bad file fails at once),
    the index brought up to date, every question asked; a source the collection lacks is warned of."""
    from qa import eval as ev

    gold = ev.load_gold(gold_path)
    engine = _HOOKS["engine_of"](ctx, collection)
    engine.index(progress=index_bar)  # embeds only what changed; shows progress if it must
    index_bar.close()
    report = ev.evaluate_gold(engine, gold_path, progress=q_bar, questions=gold, **options)
    warnings = [f"the gold set names source {doc_id!r} (question {', '.join(q.id for q in gold if doc_id in q.sources)}), "
                "which the collection does not hold (citation recall counts it as missed)"
                for doc_id in report.meta.get("unknown_sources", ())]
    return report, warnings
