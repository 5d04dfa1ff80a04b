"""``qa documents`` and ``qa collections``: the documents and collections a user owns, from the shell.

    qa documents list [--json] [--collection NAME]
    qa documents add FILE... [--collection NAME]     a file of the same name is replaced
    qa documents delete DOC_ID [--collection NAME]   shipped seeds are refused
    qa collections list | create NAME | delete NAME

``--collection`` defaults to ``QA_DOCUMENT_COLLECTION``, else the default collection (seeds +
documents folder). Not ``QA_COLLECTION``: that one is the Chroma collection-name prefix of every
index (:class:`qa.config.Config` ``collection``); changing it under an existing index rebuilds it. The folders and model are the ``qa`` group's options (``qa --documents D documents list``).
Registered into the ``qa`` group by :mod:`qa.cli`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from qa.config import Config

COLLECTION_ENV = "QA_DOCUMENT_COLLECTION"


def engine_for(config: Config) -> Any:
    """The engine of one collection (tests replace this with a lighter one)."""
    from qa.engine import QA

    return QA(config=config)


def _collections(ctx: click.Context) -> Any:
    from qa.collections import Collections

    try:
        config = Config.resolve(**(ctx.find_root().obj or {}))
    except (TypeError, ValueError) as e:
        raise click.UsageError(str(e)) from None
    return Collections(config, factory=lambda cfg: engine_for(cfg))


def collection_engine(ctx: click.Context, name: str) -> Any:
    """The engine of collection ``name`` (``qa ask --collection``); an unknown or bad name is a one-line error."""
    try:
        return _collections(ctx).get(name)
    except _errors() as e:
        _fail(e)


def _fail(e: BaseException) -> None:
    click.echo(f"error: {e}", err=True)
    sys.exit(2)


def _errors() -> tuple[type[BaseException], ...]:
    """What a command reports in one line (no traceback): refusals, unknown names, an unusable index."""
    from qa.collections import InvalidCollection, UnknownCollection
    from qa.documents import SeedDocument, UnknownDocument
    from qa.guards import NoDocuments, StoreUnavailable
    from qa.store import IndexUnusable
    from qa.uploads import InvalidDocument

    return (InvalidCollection, UnknownCollection, SeedDocument, UnknownDocument, InvalidDocument, NoDocuments,
            StoreUnavailable, IndexUnusable, OSError)


def collection_option(f: Any) -> Any:
    return click.option("--collection", envvar=COLLECTION_ENV, default=None, metavar="NAME",
                        help=f"The collection [{COLLECTION_ENV}; default: the default collection].")(f)


@click.group("documents")
def documents() -> None:
    """List, add and delete the documents of a collection."""


@documents.command("list")
@collection_option
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def list_command(ctx: click.Context, collection: str | None, as_json: bool) -> None:
    """The documents: id, source (seeds or documents), chunks, size, title."""
    try:
        docs = _collections(ctx).get(collection).documents.list()
    except _errors() as e:
        _fail(e)
    if as_json:
        click.echo(json.dumps([d.to_dict() for d in docs], ensure_ascii=False, indent=1))
        return
    from qa.render import counted

    for d in docs:
        size = f"{d.size:,} B" if d.size is not None else "-"
        click.echo(f"{d.doc_id}\t{d.source}\t{counted(d.chunks, 'passage')}\t{size}\t{d.title}")
    click.echo(f"{len(docs)} document(s)", err=True)


@documents.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@collection_option
@click.pass_context
def add_command(ctx: click.Context, files: tuple[Path, ...], collection: str | None) -> None:
    """Add FILES (.txt, .md, .pdf, .docx, .html) to the collection; one of the same name is replaced.

    Each file is added on its own, the model loaded once for all: one that cannot be added is named
    with the reason, the others are kept (exit status 2 if any was refused)."""
    try:
        library = _collections(ctx).get(collection).documents
    except _errors() as e:
        _fail(e)
    refused, names = 0, set()
    for file in files:
        try:
            if file.name in names:  # the second would replace the first at once
                raise click.ClickException("another file of this name is in the same command")
            names.add(file.name)
            click.echo(library.add(file.name, file.read_bytes()).summary())
        except (*_errors(), click.ClickException) as e:
            click.echo(f"error: {file}: {e.message if isinstance(e, click.ClickException) else e}", err=True)
            refused += 1
    if refused:
        sys.exit(2)


@documents.command("delete")
@click.argument("doc_id")
@collection_option
@click.pass_context
def delete_command(ctx: click.Context, doc_id: str, collection: str | None) -> None:
    """Delete DOC_ID (its file in the documents folder and everything indexed of it)."""
    try:
        change = _collections(ctx).get(collection).documents.delete(doc_id)
    except _errors() as e:
        _fail(e)
    click.echo(change.summary())


@click.group("collections")
def collections() -> None:
    """List, create and delete collections (each its own documents folder and index)."""


@collections.command("list")
@click.pass_context
def collections_list(ctx: click.Context) -> None:
    """The collections: name, documents folder and index folder, one a line (tab-separated)."""
    for c in _collections(ctx).list():
        click.echo(f"{c.name}\t{c.documents_dir}\t{c.index_dir}")


@collections.command("create")
@click.argument("name")
@click.pass_context
def collections_create(ctx: click.Context, name: str) -> None:
    """Create collection NAME (1-40 lower-case letters, digits, '-' or '_'), empty: add documents with
    `qa documents add FILE --collection NAME`."""
    try:
        c = _collections(ctx).create(name)
    except _errors() as e:
        _fail(e)
    click.echo(f"created {c.name} (documents in {c.documents_dir})")


@collections.command("delete")
@click.argument("name")
@click.pass_context
def collections_delete(ctx: click.Context, name: str) -> None:
    """Delete collection NAME: its documents folder and its index (the default one cannot be deleted)."""
    try:
        _collections(ctx).delete(name)
    except _errors() as e:
        _fail(e)
    click.echo(f"deleted {name}")


COMMANDS = (documents, collections)
