"""Documents and collections over real HTTP (qa.server.create_app under uvicorn, real Chroma) and
through the ``qa`` command line (click's CliRunner). Temporary folders; the seeds copy stays unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from qa.config import ServeSettings

from tests.test_documents import NAME, NEWER, QUESTION, SEED, TEXT, make_engine, tree_digest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import shutil

    from qa.server import create_app
    from tests.webserver import SEEDS, ServerThread, free_port

    tmp = tmp_path_factory.mktemp("documents-http")
    seeds = tmp / "seeds"
    shutil.copytree(SEEDS, seeds)
    before = tree_digest(seeds)
    engine = make_engine(seeds, tmp)
    port = free_port()
    # a body limit under the upload limit: uploads have their own (the upload limit plus multipart framing)
    app = create_app(engine, ServeSettings(host="127.0.0.1", port=port, max_upload_bytes=64 * 1024, max_body_bytes=16 * 1024))
    with ServerThread(app, host="127.0.0.1", port=port) as server:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            yield {"client": client, "tmp": tmp, "engine": engine, "seeds": seeds, "url": server.url}
    assert tree_digest(seeds) == before


def ask(client: httpx.Client, question: str = QUESTION, **extra) -> dict:
    r = client.post("/api/ask", json={"question": question, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def cited(answer: dict) -> set[str]:
    return {c["doc_id"] for c in answer["citations"]}


def test_list_add_replace_delete_over_http(site):
    client, tmp = site["client"], site["tmp"]
    listed = client.get("/api/documents").json()
    assert listed["collection"] == "default" and {d["source"] for d in listed["documents"]} == {"seeds"}
    r = client.post("/api/documents", files={"file": (NAME, TEXT, "text/markdown")})
    assert r.status_code == 201, r.text
    assert r.json()["created"] and r.json()["document"]["source"] == "documents"
    assert NAME in cited(ask(client))
    r = client.post("/api/documents", files={"file": (NAME, NEWER, "text/markdown")})
    assert r.status_code == 200 and r.json()["replaced"] is True
    assert ask(client)["short_answer"] == "Mirta Olavide"
    chunk_ids = site["engine"].store.manifest.documents[NAME]["chunks"]
    r = client.delete(f"/api/documents/{NAME}")
    assert r.status_code == 200 and r.json()["deleted"] == NAME
    assert NAME not in cited(ask(client))
    assert NAME not in [d["doc_id"] for d in client.get("/api/documents").json()["documents"]]
    store = site["engine"].store
    assert store.chunks_collection.get(ids=chunk_ids).ids == [] and store.wait_bm25(60)
    assert not (tmp / "documents" / NAME).exists()


@pytest.mark.parametrize("method,path,kw,status,words", [
    ("delete", f"/api/documents/{SEED}", {}, 403, "seed"),
    ("delete", "/api/documents/nope.md", {}, 404, "nope.md"),
    ("delete", "/api/documents/..%2Fseeds%2F" + SEED, {}, 404, "no document"),
    ("post", "/api/documents", {"files": {"file": ("tool.exe", b"MZ", "application/octet-stream")}}, 415, ".exe"),
    ("post", "/api/documents", {"files": {"file": ("big.md", b"x" * (64 * 1024 + 1), "text/markdown")}}, 413, "limit"),
    ("post", "/api/documents", {"files": {"file": (SEED, b"Other text.\n", "text/plain")}}, 403, "seed"),
    ("post", "/api/documents", {"data": {"collection": "default"}}, 400, "file"),
    ("get", "/api/documents?collection=nope", {}, 404, "nope"),
    ("get", "/api/documents?collection=..", {}, 400, "collection name"),
    ("post", "/api/collections", {"content": b"harbour"}, 400, '{"name": "contracts"}'),  # not JSON
    ("post", "/api/collections", {"json": {"title": "harbour"}}, 400, '{"name": "contracts"}'),
])
def test_refusals_are_clean_json(site, method, path, kw, status, words):
    r = getattr(site["client"], method)(path, **kw)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


def test_two_files_in_one_request_are_refused_not_one_dropped(site):
    """Found by a user: `curl -F file=@a.txt -F file=@b.md` added b.md and dropped a.txt without a word."""
    client = site["client"]
    before = [d["doc_id"] for d in client.get("/api/documents").json()["documents"]]
    files = [("file", ("first.md", b"# First\n\nThe first note.\n", "text/markdown")),
             ("file", ("second.md", b"# Second\n\nThe second note.\n", "text/markdown"))]
    r = client.post("/api/documents", files=files)
    assert r.status_code == 400 and "one file per request" in r.json()["error"] and "first.md, second.md" in r.json()["error"]
    assert [d["doc_id"] for d in client.get("/api/documents").json()["documents"]] == before


def test_the_same_bytes_again_answer_with_the_document_as_it_stands(site):
    client = site["client"]
    first = client.post("/api/documents", files={"file": ("again.md", b"# Again\n\nThe same note.\n", "text/markdown")})
    again = client.post("/api/documents", files={"file": ("again.md", b"# Again\n\nThe same note.\n", "text/markdown")})
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json()["created"] is False and again.json()["title"] == first.json()["title"] == "Again"
    assert again.json()["chunks"] == first.json()["chunks"] >= 1
    assert client.delete("/api/documents/again.md").status_code == 200


def test_uploads_have_their_own_body_limit(site):
    client = site["client"]
    text = b"# Ledger\n\n" + b"The ledger of the harbour lists one more barrel of oil. " * 700  # 39 kB: over the body limit
    r = client.post("/api/documents", files={"file": ("ledger.md", text, "text/markdown")})
    assert r.status_code == 201, r.text
    assert client.delete("/api/documents/ledger.md").status_code == 200
    r = client.post("/api/documents", files={"file": ("huge.md", b"x" * 300_000, "text/markdown")})
    assert r.status_code == 413 and "for one document" in r.json()["error"]
    r = client.post("/api/ask", json={"question": "x" * 20_000})  # the questions' limit is unchanged
    assert r.status_code == 413


def test_collections_over_http(site):
    client = site["client"]
    r = client.post("/api/collections", json={"name": "harbour"})
    assert r.status_code == 201, r.text
    assert client.post("/api/collections", json={"name": "harbour"}).status_code == 409
    assert "harbour" in [c["name"] for c in client.get("/api/collections").json()["collections"]]
    r = client.post("/api/documents", files={"file": (NAME, TEXT, "text/markdown")}, data={"collection": "harbour"})
    assert r.status_code == 201, r.text
    assert [d["doc_id"] for d in client.get("/api/documents", params={"collection": "harbour"}).json()["documents"]] == [NAME]
    assert NAME not in [d["doc_id"] for d in client.get("/api/documents").json()["documents"]]
    assert NAME in cited(ask(client, collection="harbour")) and NAME not in cited(ask(client))
    for name, status in (("nope", 404), ("Bad/Name", 400), (7, 400)):
        r = client.post("/api/ask", json={"question": QUESTION, "collection": name})
        assert r.status_code == status and "error" in r.json(), r.text
    client.post("/api/collections", json={"name": "empty"})
    r = client.post("/api/ask", json={"question": QUESTION, "collection": "empty"})
    assert r.status_code == 404 and "no documents yet" in r.json()["error"] and str(site["tmp"]) not in r.text
    # the OpenAI route takes the same field (a user found it ignored: the default collection answered)
    chat = {"model": "qa", "messages": [{"role": "user", "content": QUESTION}]}
    for stream in (False, True):
        r = client.post("/v1/chat/completions", json={**chat, "collection": "harbour", "stream": stream})
        assert r.status_code == 200 and NAME in r.text, r.text
    assert NAME not in client.post("/v1/chat/completions", json=chat).text
    for name, status in (("nope", 404), ("Bad/Name", 400), (7, 400), ("empty", 404)):
        r = client.post("/v1/chat/completions", json={**chat, "collection": name})
        assert r.status_code == status and r.json()["error"]["type"] == "invalid_request_error", r.text
        assert str(site["tmp"]) not in r.text
    # and gradio_client's /ask (a user found only the default collection reachable from gradio_client)
    from gradio_client import Client

    gradio = Client(site["url"], verbose=False)
    assert NAME in cited(gradio.predict(QUESTION, "harbour", api_name="/ask_in_collection"))
    assert NAME not in cited(gradio.predict(QUESTION, api_name="/ask"))
    for name, words in (("nope", "no collection"), ("empty", "no documents yet")):
        with pytest.raises(Exception, match=words):
            gradio.predict(QUESTION, name, api_name="/ask_in_collection")
    r = client.delete(f"/api/documents/{NAME}", params={"collection": "harbour"})
    assert r.status_code == 200
    assert client.get("/api/documents", params={"collection": "harbour"}).json()["documents"] == []
    assert client.delete("/api/collections/harbour").status_code == 200
    assert client.get("/api/documents", params={"collection": "harbour"}).status_code == 404


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture
def cli(seeds_copy, tmp_path, monkeypatch):
    from qa import documents_cli
    from qa.answer import ExtractiveAnswerer
    from qa.cli import main
    from qa.engine import QA
    from tests.fakes import HashEmbedder

    monkeypatch.setattr(documents_cli, "engine_for", lambda cfg: QA(config=cfg, embedder=HashEmbedder(), answerer=ExtractiveAnswerer()))
    monkeypatch.delenv("QA_DOCUMENT_COLLECTION", raising=False)
    folders = ["--seeds", str(seeds_copy), "--documents", str(tmp_path / "documents"), "--index", str(tmp_path / "index")]
    before = tree_digest(seeds_copy)

    def run(*args: str, code: int = 0, env: dict | None = None, input: str | None = None) -> str:
        result = CliRunner().invoke(main, folders + list(args), env=env, input=input)
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    yield run
    assert tree_digest(seeds_copy) == before


def test_cli_documents_list_add_delete(cli, tmp_path):
    out = json.loads(cli("documents", "list", "--json"))
    assert {d["source"] for d in out} == {"seeds"}
    note = tmp_path / NAME
    note.write_bytes(TEXT)
    assert "added harbour-notes.md" in cli("documents", "add", str(note))
    assert NAME in [d["doc_id"] for d in json.loads(cli("documents", "list", "--json"))]
    note.write_bytes(NEWER)
    assert "replaced" in cli("documents", "add", str(note))
    assert "seed" in cli("documents", "delete", SEED, code=2)
    assert "no document" in cli("documents", "delete", "nope.md", code=2)
    assert "deleted" in cli("documents", "delete", NAME)
    assert NAME not in [d["doc_id"] for d in json.loads(cli("documents", "list", "--json"))]


def test_cli_documents_add_takes_several_files_and_keeps_the_good_ones(cli, tmp_path):
    """A user added six files with six commands, each loading the model again."""
    (tmp_path / "a").mkdir()
    good, other, bad, twin = tmp_path / NAME, tmp_path / "ferry.md", tmp_path / "menu.exe", tmp_path / "a" / NAME
    good.write_bytes(TEXT)
    other.write_text("# Ferry\n\nThe ferry leaves at noon.\n", encoding="utf-8")
    bad.write_bytes(b"MZ\x90\x00")
    twin.write_bytes(NEWER)
    out = cli("documents", "add", str(good), str(bad), str(other), str(twin), code=2)
    assert f"added {NAME}" in out and "added ferry.md" in out
    assert f"error: {bad}:" in out and f"error: {twin}: another file of this name" in out
    listed = [d["doc_id"] for d in json.loads(cli("documents", "list", "--json"))]
    assert NAME in listed and "ferry.md" in listed and "menu.exe" not in listed


def test_cli_collections_and_the_collection_variable(cli, tmp_path):
    assert "created notes" in cli("collections", "create", "notes")
    assert "notes" in cli("collections", "list")
    note = tmp_path / NAME
    note.write_bytes(TEXT)
    cli("documents", "add", str(note), "--collection", "notes")
    assert [d["doc_id"] for d in json.loads(cli("documents", "list", "--json", env={"QA_DOCUMENT_COLLECTION": "notes"}))] == [NAME]
    answer = json.loads(cli("ask", "--collection", "notes", "--json", QUESTION))
    assert {c["doc_id"] for c in answer["citations"]} == {NAME}
    assert NAME not in [d["doc_id"] for d in json.loads(cli("documents", "list", "--json"))]
    # chat, index and eval take the collection too (a user found `qa chat` answering from the default one)
    chat = cli("chat", "--json", input=QUESTION + "\n", env={"QA_DOCUMENT_COLLECTION": "notes"})
    assert {c["doc_id"] for c in json.loads(chat.splitlines()[0])["citations"]} == {NAME}
    (tmp_path / "documents" / ".collections" / "notes" / "more.md").write_text("# More\n\nThe ferry leaves at noon.\n", encoding="utf-8")
    assert "added 1: more.md" in cli("index", "--collection", "notes", "-q")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "n1", "question": QUESTION, "answers": ["Zorblax Quendry"], "sources": [NAME], "unanswerable": False}) + "\n")
    assert "warning" not in cli("eval", "--gold", str(gold), "--collection", "notes")  # its source is in that collection
    assert "no collection" in cli("chat", "--collection", "nope", input="x\n", code=2)
    assert "no collection" in cli("documents", "list", "--collection", "nope", code=2)
    assert "not a collection name" in cli("collections", "create", "Bad/Name", code=2)
    assert "deleted notes" in cli("collections", "delete", "notes")
    assert not (tmp_path / "documents" / ".collections" / "notes").exists()
    assert Path(tmp_path / "index").is_dir()
