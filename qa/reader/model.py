"""Load a span reader and read passages with it.

``reader`` (config ``QA_READER``) selects it:

* ``packaged`` (default): the adapter trained here (``qa/reader/artifact``), merged into the packaged
  all-MiniLM-L6-v2 encoder at load time: no download;
* a folder holding ``reader.json`` + ``adapter.safetensors`` (what ``qa train-reader --out`` writes);
* any transformers question-answering model, by name or folder (e.g. a SQuAD-trained BERT for users
  with internet);
* ``rules``: no model; the rule-based short-answer cutter of :mod:`qa.answer` only.

>>> reader = TransformersReader("packaged")                                    # doctest: +SKIP
>>> reader.read("Who was sworn in?", ["Delcy Rodríguez was sworn in on Monday."])[0][0]  # doctest: +SKIP
ReadSpan(start=0, end=15, score=14.2)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

PACKAGED_READER = "packaged"
RULES = "rules"
ARTIFACT_DIR = Path(__file__).resolve().parent / "artifact"


@dataclass(frozen=True)
class ReadSpan:
    """A span the reader proposes: character offsets into the passage it read, and its score."""

    start: int
    end: int
    #: start logit + end logit; comparable across passages of one question
    score: float
    #: the "no answer" score of the window the span came from ([CLS] start + end logit); a reader
    #: trained with no-answer windows puts it above every span when the passage does not answer
    null: float | None = None

    @property
    def margin(self) -> float | None:
        """How far the span beats "no answer" (SQuAD 2.0's score difference); None if unknown."""
        return None if self.null is None else self.score - self.null

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "score": self.score, "null": self.null}


@runtime_checkable
class SpanReader(Protocol):
    """Proposes answer spans in passages (the swap point for another reader model)."""

    def read(self, question: str, passages: Sequence[str], top: int = 3) -> list[list[ReadSpan]]:
        """For each passage, its best ``top`` spans, best first."""


class ReaderError(RuntimeError):
    """The configured reader cannot be loaded; the message says what to do."""


def is_rules(spec: str | None) -> bool:
    return not spec or spec.strip().lower() in (RULES, "none", "off")


class TransformersReader:
    """A transformers question-answering model, loaded lazily and thread-safely on first use.

    >>> r = TransformersReader("packaged", quantize=True)                            # doctest: +SKIP
    >>> spans = r.read("When?", ["It happened on January 3, 2026."])                # doctest: +SKIP
    """

    def __init__(
        self,
        spec: str = PACKAGED_READER,
        *,
        max_length: int | None = None,
        stride: int | None = None,
        max_answer_tokens: int | None = None,
        quantize: bool = False,
    ):
        self.spec = spec
        self.quantize = quantize
        self._overrides = {"max_length": max_length, "stride": stride, "max_answer_tokens": max_answer_tokens}
        self.meta: dict[str, Any] = {}
        self._artifact_meta: dict[str, Any] | None = None
        self.max_length = max_length or 256
        self.stride = stride or 96
        self.max_answer_tokens = max_answer_tokens or 30
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._tokenize_lock = threading.Lock()

    # --- loading --------------------------------------------------------------------------------

    def artifact_dir(self) -> Path | None:
        if self.spec == PACKAGED_READER:
            return ARTIFACT_DIR
        p = Path(self.spec).expanduser()
        return p if (p / "reader.json").is_file() else None

    def artifact_meta(self) -> dict[str, Any]:
        """The artifact's ``reader.json`` ({} for a reader that is not an artifact folder); read without loading the model."""
        if self._artifact_meta is None:  # read once: the answerer asks on every question (knows_no_answer)
            art = self.artifact_dir()
            found = art is not None and (art / "reader.json").is_file()
            self._artifact_meta = json.loads((art / "reader.json").read_text(encoding="utf-8")) if found else {}
        return self._artifact_meta

    def knows_no_answer(self) -> bool:
        """Was this reader trained with "no answer" windows (so its null score means something)?"""
        return self.artifact_meta().get("no_answer") == "trained"

    def reads_passages(self) -> bool:
        """Was this reader trained on whole paragraphs (``--context-sentences -1``)? Then the engine gives
        it whole passages; a reader trained on a sentence and its neighbours reads such windows."""
        return int(self.artifact_meta().get("hyperparameters", {}).get("context_sentences", 1)) < 0

    def answerer_settings(self) -> dict[str, Any]:
        """How the engine weighs this reader's evidence and where it refuses, as calibrated for it by
        ``benchmarks/calibrate_reader.py`` (the artifact's ``answerer`` block, or ``answerer_int8``
        for the int8 reader when it was calibrated apart: int8 moves the scores a little; {} if never
        calibrated)."""
        meta = self.artifact_meta()
        block = meta.get("answerer_int8") if self.quantize and "answerer_int8" in meta else meta.get("answerer", {})
        return dict(block.get("settings", {}))

    def trained_on(self) -> tuple[str, ...]:
        """Titles of the SQuAD articles this reader was trained on (evaluation leaves them out)."""
        return tuple(self.artifact_meta().get("training_data", {}).get("train_articles", ()))

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            import torch
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()  # no 'Loading weights' bar on every start
            art = self.artifact_dir()
            if art is not None:
                from safetensors.torch import load_file

                from qa.reader.lora import merge_into
                from qa.reader.artifacts import ARTIFACT_FILE, META_FILE, base_model_path

                if not (art / META_FILE).is_file() or not (art / ARTIFACT_FILE).is_file():
                    raise ReaderError(
                        f"reader artifact missing in {art} (expected {META_FILE} and {ARTIFACT_FILE}); "
                        f"train one with `qa train-reader`, or set QA_READER=rules"
                    )
                self.meta = json.loads((art / META_FILE).read_text(encoding="utf-8"))
                base = self.meta.get("hyperparameters", {}).get("base_model") or ""
                path = base_model_path(base)
                tokenizer = AutoTokenizer.from_pretrained(path)
                model = AutoModelForQuestionAnswering.from_pretrained(path)
                merge_into(model, load_file(str(art / ARTIFACT_FILE)), float(self.meta["scale"]))
            else:
                try:
                    tokenizer = AutoTokenizer.from_pretrained(self.spec)
                    model = AutoModelForQuestionAnswering.from_pretrained(self.spec)
                except Exception as e:  # noqa: BLE001 - any load failure gets the same way out
                    raise ReaderError(
                        f"cannot load reader {self.spec!r}: {e}. QA_READER takes 'packaged', a folder written by "
                        f"`qa train-reader`, a transformers question-answering model name or folder, or 'rules'"
                    ) from e
            model.eval()
            if self.quantize:
                # the encoder's linear layers only: the 2-output span head stays float, since int8
                # logits there cost accuracy and save nothing
                import warnings

                with warnings.catch_warnings():  # torch 2.13 flags its own quantize_per_tensor as deprecated
                    warnings.simplefilter("ignore", UserWarning)
                    model = torch.ao.quantization.quantize_dynamic(model, int8_layers(model), dtype=torch.qint8)
            for key in ("max_length", "stride", "max_answer_tokens"):
                if self._overrides[key] is None and key in self.meta:
                    setattr(self, key, int(self.meta[key]))
            self._tokenizer, self._model = tokenizer, model

    # --- reading --------------------------------------------------------------------------------

    def read(self, question: str, passages: Sequence[str], top: int = 3) -> list[list[ReadSpan]]:
        if not passages:
            return []
        self.load()
        from qa.reader.features import best_spans, make_windows, window_logits

        # a fast tokenizer sets its truncation state per call, and two threads doing that at once
        # can fail with "Already borrowed": tokenising is ~1 ms, so it is serialised
        with self._tokenize_lock:
            win = make_windows(self._tokenizer, [question] * len(passages), list(passages), self.max_length, self.stride)
        if self.quantize:  # dynamic int8 scales over the whole pass: each window alone, so its logits are its own
            rows = [window_logits(self._model, win, [k]) for k in range(len(win.input_ids))]
            s, e = [r[0][0] for r in rows], [r[1][0] for r in rows]
        else:
            s, e = window_logits(self._model, win, range(len(win.input_ids)))
        found: list[list[ReadSpan]] = [[] for _ in passages]
        for k, p in enumerate(win.pair_index):
            n = len(win.input_ids[k])
            null = float(s[k][0] + e[k][0])
            for score, a, b in best_spans(s[k][:n], e[k][:n], win.offsets[k], self.max_answer_tokens, top=top):
                found[p].append(ReadSpan(a, b, score, null))
        out_: list[list[ReadSpan]] = []
        for spans in found:
            seen, keep = set(), []
            for sp in sorted(spans, key=lambda x: -x.score):
                if (sp.start, sp.end) not in seen:
                    seen.add((sp.start, sp.end))
                    keep.append(sp)
            out_.append(keep[:top])
        return out_


def int8_layers(model: Any) -> set[str]:
    """The encoder's linear layers; the 2-output span head stays float (int8 logits there cost
    accuracy and save nothing). Measured on the 765 held-out SQuAD questions, gold paragraph:
    fp32 F1 58.1; int8 encoder 54.1 (int8 head too: 53.8; feed-forward layers only: 53.9)."""
    import torch

    return {name for name, m in model.named_modules() if isinstance(m, torch.nn.Linear) and ".encoder." in f".{name}."}
