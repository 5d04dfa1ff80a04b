"""Renamed :mod:`qa.engine` (the :class:`~qa.engine.QA` class), its checks and errors now in
:mod:`qa.guards`. These names stay importable from here until the last importer switches."""

from __future__ import annotations

import os  # noqa: F401 - tests patch qa.pipeline.os.access

from qa.engine import QA, Prepared, make_answerer
from qa.guards import (
    InvalidQuestion, NoDocuments, StoreOutage, StoreUnavailable, check_document, check_top_k, clean_question,
    require_writable_index, scrub_text, store_errors, unreachable_cause,
)
from qa.ingest import load_documents

__all__ = [
    "QA", "InvalidQuestion", "NoDocuments", "Prepared", "StoreOutage", "StoreUnavailable", "check_document", "check_top_k",
    "clean_question", "load_documents", "make_answerer", "require_writable_index", "scrub_text", "store_errors",
    "unreachable_cause",
]
