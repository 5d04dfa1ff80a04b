"""People's views of an :class:`~qa.eval.results.EvalReport`: the console table and ``report.md``
with its chart (the JSON is ``EvalReport.to_dict()``)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qa.eval.chart import COLOUR_NAMES, write_chart
from qa.eval.registry import METRICS, kind_of, label_of
from qa.eval.results import EvalReport, QuestionResult

#: the figures drawn in chart.png, in order (rates only, so one 0-100 axis fits all)
CHART_KEYS = (
    "exact_match", "f1", "contains", "correct_with_citation", "citation_precision_answer", "citation_precision_source",
    "citation_recall", "refusal_accuracy", "doc_hit@5", "answer_hit@5", "paragraph_recall@10", "refusal_precision",
    "refusal_recall",
)


def format_value(key: str, value: Any) -> str:
    """A figure as shown to people: rates as percentages, MRR to 3 places, latency in ms."""
    if value is None:
        return "—"
    kind = kind_of(key)
    if kind == "rate":
        return f"{100 * value:.1f}%"
    if kind == "mrr":
        return f"{value:.3f}"
    if kind == "ms":
        return f"{value:,.0f} ms"
    return str(value)


def _clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _left_out_line(meta: Mapping[str, Any]) -> str:
    n, titles = meta["excluded_reader_training_questions"], meta.get("left_out_articles") or []
    named = meta.get("reader_training_articles")
    if n:
        return f"left out: {n} questions of {len(titles)} article(s) the reader was trained on ({', '.join(titles)})"
    if named:
        return f"left out: none (the reader's metadata names {named} training articles, none of them in the evaluated files)"
    return "left out: none (the reader's metadata names no training articles)"


def _reader_details(meta: Mapping[str, Any]) -> str:
    """" (artifact, format F, S steps, runtime R)" for a trained reader; "" for the rules."""
    parts: list[str] = []
    if meta.get("reader_artifact") and meta["reader_artifact"] != meta.get("reader"):
        parts.append(str(meta["reader_artifact"]))
    if meta.get("reader_format"):
        parts.append(f"format {meta['reader_format']}")
    if meta.get("reader_steps") is not None:
        parts.append(f"{meta['reader_steps']} training steps")
    if meta.get("reader_runtime"):
        parts.append(f"runs as {meta['reader_runtime']}")
    return f" ({', '.join(parts)})" if parts else ""


def describe_run(meta: Mapping[str, Any]) -> list[str]:
    """What ran, one line each: answerer and reader, refusal threshold, commit; for SQuAD, what was
    left out as the reader's training data."""
    lines: list[str] = []
    asked = [f"{meta['mode']} {meta.get('gold') or ', '.join(meta.get('squad_files') or []) or ''}".strip()] if meta.get("mode") else []
    asked += [f"{k} {meta[k]}" for k in ("top_k", "limit", "sample", "seed") if meta.get(k) is not None]
    if asked:  # two runs that differ only here must not look alike
        lines.append("questions: " + ", ".join(asked))
    if "answerer" in meta:
        lines.append(f"answerer: {meta['answerer']}, reader {meta.get('reader', 'rules')}{_reader_details(meta)}")
    if "refusal_threshold" in meta:
        lines.append(f"refusal threshold: {meta['refusal_threshold']}")
    if meta.get("llm_model"):
        lines.append(f"LLM: {meta['llm_model']} at {meta.get('llm_base_url')}, support threshold {meta.get('support_threshold')}, "
                     f"unsupported sentences {meta.get('unsupported')}, fallback {meta.get('fallback')}")
    if "git_commit" in meta:
        lines.append(f"commit: {meta['git_commit']}{' (with uncommitted changes)' if meta.get('git_dirty') else ''}")
    if "excluded_reader_training_questions" in meta:
        lines.append(_left_out_line(meta))
    return lines


def format_overall(report: EvalReport) -> str:
    """The overall figures, one per line, then what ran."""
    lines = [f"Overall ({report.meta.get('mode', 'eval')})"]
    for m in METRICS:
        if m.key in report.overall:
            lines.append(f"  {m.label:<40} {format_value(m.key, report.overall[m.key]):>10}")
    if report.meta.get("gold_paragraphs_not_in_corpus"):
        lines.append(f"  note: {report.meta['gold_paragraphs_not_in_corpus']} gold paragraphs are not in the corpus")
    lines += [f"  {line}" for line in describe_run(report.meta)]
    return "\n".join(lines)


def wrong_type_cell(s: Mapping[str, Any]) -> str:
    if s.get("wrong_type") is None:
        return "—"
    return f"{s['wrong_type']} of {s['wrong_type_checked']}"


def format_question_types(report: EvalReport) -> str:
    """The per question-word table (count, EM, F1, refused, wrong type)."""
    lines = ["By question type (first wh-word; wrong type: answers not looking like a time / name / number)",
             f"  {'type':<9} {'n':>5} {'unans':>5} {'EM':>7} {'F1':>7} {'refused':>8} {'wrong type':>12}"]
    for t, s in report.by_question_type().items():
        lines.append(
            f"  {t:<9} {s['questions']:>5} {s['unanswerable']:>5} {format_value('exact_match', s['exact_match']):>7} "
            f"{format_value('f1', s['f1']):>7} {format_value('contains', s['refused']):>8} {wrong_type_cell(s):>12}"
        )
    return "\n".join(lines)


def _format_types(report: EvalReport) -> str:
    lines = ["", "By type", f"  {'type':<14} {'n':>4} {'passed':>8} {'EM':>7} {'F1':>7} {'refused':>8}"]
    for t, s in report.by_type().items():
        lines.append(
            f"  {_clip(t, 14):<14} {s['questions']:>4} {format_value('contains', s['passed']):>8} "
            f"{format_value('exact_match', s['exact_match']):>7} {format_value('f1', s['f1']):>7} "
            f"{format_value('contains', s['refused']):>8}"
        )
    return "\n".join(lines)


def _format_questions(report: EvalReport, rows: int | None, symbols: tuple[str, str], width: int) -> str:
    ordered = sorted(report.results, key=lambda r: r.passed)  # stable: failures first, file order kept
    shown = ordered if rows is None else ordered[:rows]
    if not shown:
        return ""
    id_w = min(24, max(4, max(len(r.id) for r in shown)))
    rest = max(40, width - id_w - 8)
    pred_w, gold_w = rest * 3 // 10, rest * 2 // 10
    reason_w = rest - pred_w - gold_w - 2
    lines = ["", f"Questions ({len(report.failures)} failed of {len(report.results)}; failures first)",
             f"  {'id':<{id_w}} ok {'prediction':<{pred_w}} {'gold':<{gold_w}} reason"]
    for r in shown:
        pred = "(refused)" if r.refused else r.prediction
        gold = "(unanswerable)" if r.unanswerable else " | ".join(dict.fromkeys(r.answers))
        mark = symbols[0] if r.passed else symbols[1]
        lines.append(f"  {_clip(r.id, id_w):<{id_w}} {mark:<2} {_clip(pred, pred_w):<{pred_w}} {_clip(gold, gold_w):<{gold_w}} "
                     f"{_clip(r.reason, reason_w)}")
    if len(shown) < len(ordered):
        lines.append(f"  … {len(ordered) - len(shown)} more rows (see --json or --report)")
    return "\n".join(lines)


def format_report(report: EvalReport, *, rows: int | None = None, symbols: tuple[str, str] = ("✓", "✗"), width: int = 120) -> str:
    """A console table: overall figures, per-type figures, then one row per question, failures first.

    ``rows`` caps the per-question rows (None: all); ``symbols`` are the passed/failed marks.
    """
    parts = [format_overall(report)]
    if report.by_type():
        parts.append(_format_types(report))
    if report.results:
        parts.append("\n" + format_question_types(report))
    questions = _format_questions(report, rows, symbols, width)
    if questions:
        parts.append(questions)
    o = report.overall
    parts.append(
        f"\n{o['questions']} questions: {format_value('correct_with_citation', o.get('correct_with_citation'))} correct with citation, "
        f"EM {format_value('exact_match', o.get('exact_match'))}, F1 {format_value('f1', o.get('f1'))}, "
        f"refusal accuracy {format_value('refusal_accuracy', o.get('refusal_accuracy'))}"
        + (f", refusal precision {format_value('refusal_precision', o.get('refusal_precision'))} / "
           f"recall {format_value('refusal_recall', o.get('refusal_recall'))}, "
           f"EM/F1 all (SQuAD 2.0) {format_value('exact_match_all', o.get('exact_match_all'))} / "
           f"{format_value('f1_all', o.get('f1_all'))}" if o.get("unanswerable") else "")
    )
    return "\n".join(parts)


def chart_items(report: EvalReport) -> list[tuple[str, str, float]]:
    """(key, label, percentage) of the figures :func:`write_markdown_report` draws."""
    return [(k, label_of(k), 100.0 * report.overall[k]) for k in CHART_KEYS if report.overall.get(k) is not None]


def chart_title(report: EvalReport) -> str:
    """The chart's title: which evaluation, and how many questions."""
    return f"qa eval ({report.meta.get('mode', 'eval')}), {report.overall.get('questions', 0)} questions: main figures"


def console_symbols(stream: Any = None) -> tuple[str, str]:
    """✓/✗ where the console can print them, else "ok"/"X"."""
    enc = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗…".encode(enc)
        return ("✓", "✗")
    except (UnicodeEncodeError, LookupError):
        return ("ok", "X")


# =================================================================================================
# report.md
# =================================================================================================


def _md(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _md_group_table(title: str, intro: list[str], head: str, groups: Mapping[str, Mapping[str, Any]]) -> list[str]:
    lines = ["", title, "", *intro, f"| {head} | questions | unanswerable | EM | F1 | refused | wrong type |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for t, s in groups.items():
        lines.append(
            f"| {_md(t)} | {s['questions']} | {s['unanswerable']} | {format_value('exact_match', s['exact_match'])} | "
            f"{format_value('f1', s['f1'])} | {format_value('contains', s['refused'])} | {wrong_type_cell(s)} |"
        )
    return lines


def _md_breakdowns(report: EvalReport) -> list[str]:
    lines: list[str] = []
    types = report.by_type()
    if types:
        lines += ["", "## By type", "", "| type | questions | unanswerable | passed | EM | F1 | contains | refused |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for t, s in types.items():
            lines.append(
                f"| {_md(t)} | {s['questions']} | {s['unanswerable']} | {format_value('contains', s['passed'])} | "
                f"{format_value('exact_match', s['exact_match'])} | {format_value('f1', s['f1'])} | "
                f"{format_value('contains', s['contains'])} | {format_value('contains', s['refused'])} |"
            )
    qtypes = report.by_question_type()
    if qtypes:
        lines += _md_group_table("## By question type", [
            "First wh-word of the question. Wrong type: answers (not refusals) to when / who / how many "
            "questions that do not look like a time / a name / a number (`qa.answer.question.looks_like`).", ""], "type", qtypes)
    atypes = report.by_answer_type()
    if atypes:
        lines += _md_group_table("## By the engine's answer type", ["The engine's own typing (`qa.answer.question.question_type`).", ""],
                                 "answer type", atypes)
    return lines


def _md_failure(r: QuestionResult) -> list[str]:
    lines = [
        f"### {_md(r.id)}{f' ({_md(r.type)})' if r.type else ''}",
        "",
        f"- **question**: {_md(r.question)}",
        f"- **prediction**: {'(refused)' if r.refused else _md(r.prediction) or '(empty)'}",
        f"- **gold**: {'(unanswerable)' if r.unanswerable else '; '.join(_md(a) for a in dict.fromkeys(r.answers))}",
        f"- **reason**: {_md(r.reason)}",
    ]
    if r.sources or r.cited_docs:
        lines.append(f"- **gold sources**: {', '.join(r.sources) or '—'}; **cited**: {', '.join(r.cited_docs) or '—'}")
    if r.source_rank is not None or r.answer_rank is not None or r.passages:
        lines.append(f"- **ranks**: gold source {r.source_rank or '—'}, answer in passage {r.answer_rank or '—'} (of {r.passages})")
    return lines + [""]


def write_markdown_report(report: EvalReport, directory: str | Path) -> tuple[Path, Path]:
    """Write ``report.md`` (what ran, overall table, breakdowns, failures) and ``chart.png`` into
    ``directory`` (:func:`qa.eval.chart.write_chart`). Returns both paths."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    md_path = d / "report.md"
    items = chart_items(report)
    png_path = write_chart(d / "chart.png", [label for _, label, _ in items], [v for _, _, v in items], chart_title(report))

    lines = ["# Evaluation report", ""]
    lines += [f"- {_md(line)}" for line in describe_run(report.meta)]
    lines += [f"- **{k}**: {_md(v)}" for k, v in report.meta.items()]
    lines += ["", "![main figures](chart.png)", "", "Bars (percent):", ""]
    lines += [f"{i + 1}. {label}: {v:.1f}% ({COLOUR_NAMES[i % len(COLOUR_NAMES)]})" for i, (_, label, v) in enumerate(items)]
    lines += ["", "## Overall", "", "| figure | value |", "|---|---:|"]
    lines += [f"| {m.label} | {format_value(m.key, report.overall[m.key])} |" for m in METRICS if m.key in report.overall]
    lines += ["", "Definitions: see the docstring of `qa/eval/__init__.py`. Rates are over answerable questions unless "
              "the name says otherwise; refusal accuracy and the SQuAD 2.0-style EM/F1 are over all questions, refusal "
              "precision over the refusals made, refusal recall over unanswerable questions."]
    lines += _md_breakdowns(report)
    failures = report.failures
    lines += ["", f"## Failures ({len(failures)} of {len(report.results)})", ""]
    if not failures:
        lines.append("None.")
    for r in failures:
        lines += _md_failure(r)
    md_path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return md_path, png_path
