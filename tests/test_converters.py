"""Document formats: PDF, DOCX and HTML files read through the real folder reader.

Every file here is written by the test itself with a library (fpdf2 writes the PDFs, python-docx the
DOCX, the HTML is a string): no binaries of unknown origin. Checked: the extracted text, that every
sentence, chunk and citation is an exact slice of it (``quote == text[start:end]``), a PDF's pages
(where each starts, which page a citation is on), the message for a PDF without text (a scan) and
for damaged files, that the parsers are imported only when such a file is read, and (``integration``)
a real engine answering from a PDF and a DOCX with citations into the right file and page.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.ingest import (
    chunk_document, chunk_to_node, converter_for, load_document, load_documents, node_to_chunk, page_at, parse_document,
    split_sentences,
)
from qa.types import Document, Hit

from tests.conftest import ROOT

PAGE_ONE = (
    "Harbor Bridge Report\n"
    "The Harbor Bridge reopened on Monday after eight months of repairs, the city engineer said in a statement "
    "that was long enough to wrap over several lines of the printed page. The repairs cost 12 million dollars.\n"
    "Traffic returned within the hour."
)
PAGE_TWO = (
    "The River Tunnel\n"
    "The tunnel under the Vesna river was designed by the engineer Amara Okafor in 1998, and it carries "
    "forty thousand cars a day between the old town and the harbor district."
)
DOCX_PARAGRAPHS = (
    "Lighthouse Annual Review",
    "The Skerry lighthouse was automated in 2004.",
    "Its last keeper, Tomas Berglund, lit the lamp every night for thirty-one years.",
)
DOCX_TABLE = (("Year", "Visitors"), ("2022", "18,400"), ("2023", "21,950"))
HTML_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Glacier Survey | Mountain Weekly</title>
<style>body { color: red; }</style><script>var tracking = "Related Articles";</script></head>
<body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sports">Sports</a> <a href="/about">About us</a></nav></header>
<div id="sidebar"><h3>Trending</h3><ul><li><a href="/a">Ski prices rise</a></li><li><a href="/b">Pass closed</a></li></ul></div>
<main><article>
<h1>Glacier lost a fifth of its ice</h1>
<p>The Morteratsch glacier lost a fifth of its ice between 2000 and 2020, the survey by glaciologist Lena Brunner found.</p>
<p>Brunner's team measured the ice with <b>drones</b> and ground radar over <i>eleven</i> summers.</p>
<table><tr><th>Year</th><th>Thickness</th></tr><tr><td>2000</td><td>210 m</td></tr></table>
</article></main>
<footer><p>Copyright 2024 Mountain Weekly. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>
"""


# ------------------------------------------------------------------------------------------------
# Writing real files
# ------------------------------------------------------------------------------------------------


def write_pdf(path: Path, pages: list[str]) -> Path:
    """A PDF with one page per entry (fpdf2 wraps long lines as a printer would)."""
    from fpdf import FPDF

    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    path.write_bytes(bytes(pdf.output()))
    return path


def write_scanned_pdf(path: Path) -> Path:
    """What a scanner makes: a page that is one picture, with no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(img).text((20, 80), "This text is only pixels.", fill="black")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(img, x=10, y=10, w=180)
    path.write_bytes(bytes(pdf.output()))
    return path


def write_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading(DOCX_PARAGRAPHS[0], level=1)
    for text in DOCX_PARAGRAPHS[1:]:
        d.add_paragraph(text)
    d.add_paragraph("")  # an empty paragraph is not a line
    table = d.add_table(rows=len(DOCX_TABLE), cols=2)
    for row, values in zip(table.rows, DOCX_TABLE):
        for cell, value in zip(row.cells, values):
            cell.text = value
    d.add_paragraph("The review was published in March.")
    d.sections[0].footer.paragraphs[0].text = "Page footer: Confidential"
    d.save(str(path))
    return path


def one_document(folder: Path) -> Document:
    report = load_documents(folder)
    assert len(report.documents) == 1, report
    return report.documents[0]


def assert_exact_slices(doc: Document) -> None:
    """Every sentence and chunk is what its offsets say, and no sentence runs across a masked range."""
    for s in split_sentences(doc):
        assert doc.text[s.start : s.end] == s.text
    for c in chunk_document(doc, max_words=30):
        assert doc.text[c.start : c.end] == c.text
        for s in c.sentences:
            assert doc.text[s.start : s.end] == s.text


# ------------------------------------------------------------------------------------------------
# PDF
# ------------------------------------------------------------------------------------------------


def test_pdf_text_pages_and_offsets(tmp_path):
    write_pdf(tmp_path / "report.pdf", [PAGE_ONE, PAGE_TWO])
    doc = one_document(tmp_path)
    assert doc.doc_id == "report.pdf" and doc.path == str(tmp_path / "report.pdf")
    assert doc.title == "Harbor Bridge Report"
    assert len(doc.pages) == 2 and doc.pages[0] == 0
    page_one, page_two = doc.text[: doc.pages[1]], doc.text[doc.pages[1] :]
    assert "12 million dollars" in page_one and "Amara Okafor" not in page_one
    assert page_two.startswith("The River Tunnel\n") and "Amara Okafor in 1998" in page_two
    # the printer wrapped the long sentences; the extracted text has each paragraph on one line, so
    # a sentence is not cut at a line end
    lines = doc.text.splitlines()
    assert any(line.startswith("The Harbor Bridge reopened") and line.endswith("12 million dollars.") for line in lines)
    sentences = [s.text for s in split_sentences(doc)]
    assert any(s.startswith("The tunnel under the Vesna river") and s.endswith("harbor district.") for s in sentences)
    assert_exact_slices(doc)


def test_pdf_chunks_and_citations_carry_the_page(tmp_path):
    from qa.answer.compose import cite

    write_pdf(tmp_path / "report.pdf", [PAGE_ONE, PAGE_TWO])
    doc = one_document(tmp_path)
    chunks = chunk_document(doc, max_words=30)
    by_page = {}
    for c in chunks:
        for s in c.sentences:
            by_page[s.text] = page_at(c.pages, s.start)
            assert page_at(c.pages, s.start) == (1 if s.start < doc.pages[1] else 2)
    assert by_page["Traffic returned within the hour."] == 1
    tunnel = next(s for s in by_page if s.startswith("The tunnel under"))
    assert by_page[tunnel] == 2
    # one chunk across the page break (max_words large): it knows both pages
    (whole,) = chunk_document(doc, max_words=500)
    assert [p for p, _ in whole.pages] == [1, 2]
    # the pages survive the trip through the store's node metadata, and reach the citation
    back = node_to_chunk(chunk_to_node(whole))
    assert back.pages == whole.pages
    sentence = next(s for s in back.sentences if s.text.startswith("The tunnel under"))
    citation = cite(1, Hit(chunk=back, score=1.0), sentence, 1.0)
    assert citation.page == 2 and citation.doc_id == "report.pdf"
    assert doc.text[citation.start : citation.end] == citation.quote
    assert json.loads(json.dumps(citation.to_dict()))["page"] == 2


def test_text_documents_have_no_pages_and_unchanged_nodes(tmp_path):
    from qa.answer.compose import cite

    doc = parse_document("a.txt", "Headline\nOne sentence here. Another one.\n")
    (chunk,) = chunk_document(doc)
    assert doc.pages == () and chunk.pages == ()
    node = chunk_to_node(chunk)
    assert "pages" not in node.metadata  # a text document's stored node is what it was before pages
    assert cite(1, Hit(chunk=node_to_chunk(node), score=1.0), chunk.sentences[0], 1.0).page is None


def test_pdf_with_an_empty_page_numbers_pages_as_printed(tmp_path):
    write_pdf(tmp_path / "gap.pdf", [PAGE_ONE, "", PAGE_TWO])
    doc = one_document(tmp_path)
    assert len(doc.pages) == 3 and doc.pages[1] == doc.pages[2]  # the blank page 2 holds no offset
    tunnel = next(s for s in split_sentences(doc) if s.text.startswith("The tunnel"))
    (chunk,) = chunk_document(doc, max_words=500)
    assert page_at(chunk.pages, tunnel.start) == 3


def test_scanned_pdf_is_skipped_with_a_clear_message_and_others_are_read(tmp_path):
    write_scanned_pdf(tmp_path / "scan.pdf")
    write_pdf(tmp_path / "report.pdf", [PAGE_ONE, PAGE_TWO])
    (tmp_path / "notes.txt").write_text("Notes\nA plain note.\n", encoding="utf-8")
    report = load_documents(tmp_path)
    assert [d.doc_id for d in report.documents] == ["notes.txt", "report.pdf"]
    (warning,) = report.warnings
    assert warning.startswith("scan.pdf: skipped, no text could be extracted from this PDF")
    assert "scanned" in warning and "OCR" in warning


def test_a_password_protected_pdf_is_named_and_an_owner_only_lock_is_read(tmp_path):
    from fpdf import FPDF

    for name, user_password in (("locked.pdf", "secret"), ("owner-only.pdf", "")):
        pdf = FPDF()
        pdf.set_font("Helvetica", size=12)
        pdf.add_page()
        pdf.multi_cell(0, 8, f"The text of {name}.")
        pdf.set_encryption(owner_password="owner", user_password=user_password)
        (tmp_path / name).write_bytes(bytes(pdf.output()))
    report = load_documents(tmp_path)
    assert [d.text for d in report.documents] == ["The text of owner-only.pdf."]
    assert report.warnings == ("locked.pdf: skipped, the PDF is encrypted (password-protected)",)


@pytest.mark.parametrize("name,data,why", [
    ("broken.pdf", b"%PDF-1.4\nnot really a pdf", "not a readable PDF"),
    ("empty.pdf", b"", "not a readable PDF"),
    ("broken.docx", b"PK\x03\x04 not a zip", "not a readable DOCX"),
    ("renamed.docx", b"Just text with a .docx name.", "not a readable DOCX"),
    ("binary.html", b"\x00\x01\x02<html>", "looks binary"),
    ("blank.html", b"<html><body>  </body></html>", "no text could be extracted"),
])
def test_damaged_files_are_skipped_by_name_and_others_are_read(tmp_path, name, data, why):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "ok.md").write_text("# Ok\nStill read.\n", encoding="utf-8")
    report = load_documents(tmp_path)
    assert [d.doc_id for d in report.documents] == ["ok.md"]
    (warning,) = report.warnings
    assert warning.startswith(f"{name}: skipped") and why in warning, warning


def test_a_docx_that_unpacks_too_large_is_refused_before_parsing(tmp_path, monkeypatch):
    import qa.ingest.office as office

    write_docx(tmp_path / "review.docx")
    monkeypatch.setattr(office, "MAX_UNPACKED_BYTES", 1000)
    report = load_documents(tmp_path)
    assert report.documents == () and "unpacks to more than 1,000 bytes" in report.warnings[0]


def test_a_pdf_link_out_of_the_folder_is_not_read(tmp_path):
    outside = write_pdf(tmp_path / "outside.pdf", [PAGE_TWO])
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "link.pdf").symlink_to(outside)
    report = load_documents(docs)
    assert report.documents == () and "outside the documents folder" in report.warnings[0]


@pytest.mark.timeout(30)
def test_a_fifo_with_a_document_suffix_is_never_opened(tmp_path):
    import os

    for name in ("pipe.pdf", "pipe.docx", "pipe.html"):
        os.mkfifo(tmp_path / name)  # opening one for reading would block until a writer came
    write_docx(tmp_path / "review.docx")
    report = load_documents(tmp_path)
    assert [d.doc_id for d in report.documents] == ["review.docx"]
    assert sorted(w.partition(":")[0] for w in report.warnings) == ["pipe.docx", "pipe.html", "pipe.pdf"]
    assert all("not a regular file (a FIFO)" in w for w in report.warnings)


# ------------------------------------------------------------------------------------------------
# DOCX and HTML
# ------------------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_order(tmp_path):
    write_docx(tmp_path / "review.docx")
    doc = one_document(tmp_path)
    assert doc.title == "Lighthouse Annual Review" and doc.pages == ()
    lines = doc.text.split("\n")
    assert lines[:3] == ["# " + DOCX_PARAGRAPHS[0], *DOCX_PARAGRAPHS[1:]]  # a heading keeps its level, as in Markdown
    assert lines[3:6] == ["Year | Visitors", "2022 | 18,400", "2023 | 21,950"]
    assert lines[6:] == ["The review was published in March."]
    assert "Confidential" not in doc.text  # the footer is page furniture
    assert_exact_slices(doc)
    keeper = next(s for s in split_sentences(doc) if "Berglund" in s.text)
    assert keeper.text == DOCX_PARAGRAPHS[2]


def test_an_empty_table_cell_keeps_the_cells_after_it_in_their_columns(tmp_path):
    """A user's supplier agreement: the signature table's blank corner was dropped, so "For the Buyer"
    stood over the labels' column and "Who signed for the supplier?" got "the Buyer"."""
    import docx

    from qa.ingest.webpage import _text

    d = docx.Document()
    table = d.add_table(rows=3, cols=3)
    for row, values in zip(table.rows, [("", "For the Buyer", "For the Supplier"), ("Name", "", "Marco Bellini"), ("", "", "")]):
        for cell, value in zip(row.cells, values):
            cell.text = value
    d.save(str(tmp_path / "agreement.docx"))
    doc = one_document(tmp_path)
    assert doc.text.split("\n") == ["- | For the Buyer | For the Supplier", "Name | - | Marco Bellini"]  # a blank row is no line
    assert_exact_slices(doc)
    html = ("<table><tr><th></th><th>For the Buyer</th><th>For the Supplier</th></tr>"
            "<tr><td>Name</td><td></td><td><b>Marco</b> Bellini</td></tr><tr><td></td><td> </td><td></td></tr></table>")
    assert _text(html).split("\n") == ["- | For the Buyer | For the Supplier", "Name | - | Marco Bellini"]


@pytest.mark.integration
def test_a_signature_table_with_a_blank_corner_names_each_party_s_signatory(tmp_path):
    import docx

    from qa import QA

    d = docx.Document()
    d.add_paragraph("This agreement is made between Kaffeehaus Vogel GmbH (the Buyer) and Molino Tecnico S.r.l. (the Supplier).")
    d.add_heading("Signatures", level=2)
    table = d.add_table(rows=3, cols=3)
    rows = [("", "For the Buyer", "For the Supplier"), ("Name", "Hanna Vogel", "Marco Bellini"), ("Date", "15 January 2026", "19 January 2026")]
    for row, values in zip(table.rows, rows):
        for cell, value in zip(row.cells, values):
            cell.text = value
    (tmp_path / "docs").mkdir()
    d.save(str(tmp_path / "docs" / "supplier_agreement.docx"))
    engine = QA(seeds_dir=tmp_path / "docs", documents_dir=tmp_path / "uploads", index_dir=tmp_path / "index")
    engine.index()
    assert engine.ask("Who signed for the supplier?").short_answer == "Marco Bellini"
    assert engine.ask("Who signed for the buyer?").short_answer == "Hanna Vogel"


def test_html_main_content_without_navigation_or_footer(tmp_path):
    (tmp_path / "glacier.html").write_text(HTML_PAGE, encoding="utf-8")
    doc = one_document(tmp_path)
    assert doc.title == "Glacier lost a fifth of its ice"
    assert doc.text.splitlines()[0] == "# Glacier lost a fifth of its ice"
    assert "Lena Brunner found." in doc.text
    # inline markup is text, not a line break: the sentence is one line
    assert "Brunner's team measured the ice with drones and ground radar over eleven summers." in doc.text.splitlines()
    # (readability drops a tiny data table like this one as it drops link lists: its heuristics, accepted)
    for furniture in ("About us", "Copyright", "Privacy policy", "tracking", "color: red", "Mountain Weekly", "Ski prices"):
        assert furniture not in doc.text, furniture
    assert_exact_slices(doc)


def test_html_in_a_legacy_charset_and_htm_suffix(tmp_path):
    page = '<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9 cr\xe8me costs 4 euros in Z\xfcrich.</p></body></html>'
    (tmp_path / "menu.HTM").write_bytes(page.encode("cp1252"))
    doc = one_document(tmp_path)
    assert doc.doc_id == "menu.HTM" and doc.text == "Café crème costs 4 euros in Zürich."


def test_every_format_through_one_folder_and_one_file(tmp_path):
    write_pdf(tmp_path / "a" / "report.pdf", [PAGE_ONE, PAGE_TWO])
    write_docx(tmp_path / "review.docx")
    (tmp_path / "glacier.htm").write_text(HTML_PAGE, encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Notes\nMarkdown is read as it is.\n", encoding="utf-8")
    report = load_documents(tmp_path)
    assert [d.doc_id for d in report.documents] == ["a/report.pdf", "glacier.htm", "notes.md", "review.docx"]
    assert report.warnings == ()
    assert load_document(tmp_path, "review.docx").documents == tuple(d for d in report.documents if d.doc_id == "review.docx")
    assert converter_for("x.PDF").kind == "PDF" and converter_for("x.odt") is None


def test_parsers_are_imported_only_when_such_a_file_is_read(tmp_path):
    (tmp_path / "a.txt").write_text("Title\nBody.\n", encoding="utf-8")
    write_pdf(tmp_path / "pdfs" / "b.pdf", [PAGE_ONE])
    code = (
        "import sys; import qa.ingest as i; "
        f"i.load_document({str(tmp_path)!r}, 'a.txt'); "
        "before = sorted(m for m in ('pypdf', 'docx', 'readability', 'lxml') if m in sys.modules); "
        f"i.load_documents({str(tmp_path / 'pdfs')!r}); "
        "print(before, 'pypdf' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "True"]


# ------------------------------------------------------------------------------------------------
# The real engine
# ------------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_engine_answers_from_a_pdf_and_a_docx_with_page_citations(tmp_path):
    from qa import QA

    docs = tmp_path / "docs"
    docs.mkdir()
    write_pdf(docs / "report.pdf", [PAGE_ONE, PAGE_TWO])
    write_docx(docs / "review.docx")
    engine = QA(seeds_dir=docs, index_dir=tmp_path / "index")
    report = engine.index()
    texts = {d.doc_id: d for d in load_documents(docs).documents}
    cases = [
        ("Who designed the tunnel under the Vesna river?", "Amara Okafor", "report.pdf", 2),
        ("How much did the Harbor Bridge repairs cost?", "12 million dollars", "report.pdf", 1),
        ("Who was the last keeper of the Skerry lighthouse?", "Tomas Berglund", "review.docx", None),
    ]
    for question, expected, doc_id, page in cases:
        answer = engine.ask(question)
        assert not answer.refused, (question, answer.text)
        first = answer.citations[0]
        assert expected in first.quote and first.doc_id == doc_id and first.page == page, (question, first)
        for c in answer.citations:
            assert texts[c.doc_id].text[c.start : c.end] == c.quote
        assert answer.to_dict()["citations"][0]["page"] == page
    assert report is not None


def test_html_and_docx_headings_give_their_chunks_a_section(tmp_path):
    """A user's itinerary and lease: what stands under "<h2>Kyoto</h2>" or a "Heading 2" paragraph is
    known to be about it, as under a Markdown "## Kyoto" (qa.ingest.chunking)."""
    import docx

    stays = "".join(f"<li>Night {n}: room {n}00, breakfast included.</li>" for n in range(1, 30))
    (tmp_path / "trip.html").write_text(f"<html><body><article><h1>Our trip</h1><p>Two cities in spring, planned by the agency.</p>"
                                        f"<h2>Kyoto</h2><h3>Hotel</h3><ul>{stays}</ul><h2>Osaka</h2><p>One night near the station.</p>"
                                        f"</article></body></html>", encoding="utf-8")
    d = docx.Document()
    d.add_heading("House rules", level=1)
    d.add_heading("Rent", level=2)
    for n in range(1, 30):
        d.add_paragraph(f"Clause {n}: the rent is paid on day {n} of the month by bank transfer.")
    d.save(tmp_path / "lease.docx")
    for name, deep in (("trip.html", ((2, "Kyoto"), (3, "Hotel"))), ("lease.docx", ((2, "Rent"),))):
        doc = next(x for x in load_documents(tmp_path).documents if x.doc_id == name)
        chunks = chunk_document(doc, 40)
        assert deep in [c.section for c in chunks], (name, [c.section for c in chunks])
        assert_exact_slices(doc)



def test_a_pdf_table_is_read_one_row_a_line_with_its_cells_apart(tmp_path):
    """Users' leaflet, manual and paper: pypdf's plain text gave a table row as "4 to 6 years 16 to 20
    kg 7.5 ml up to 3 times", so no column could be asked for; a header cell set on two lines too."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 7, "How much to give. Measure each dose with the syringe supplied in the pack.")
    rows = [("Age", "Body weight", "Single dose", "How often in 24 hours"), ("1 to 3 years", "10 to 15 kg", "5 ml", "up to 3 times"),
            ("4 to 6 years", "16 to 20 kg", "7.5 ml", "up to 3 times"), ("7 to 9 years", "21 to 29 kg", "10 ml", "up to 3 times")]
    with pdf.table(col_widths=(40, 30, 30, 30)) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.multi_cell(0, 7, "Leave at least 4 hours between doses.")
    (tmp_path / "leaflet.pdf").write_bytes(bytes(pdf.output()))
    (doc,) = load_documents(tmp_path).documents
    lines = doc.text.split("\n")
    assert "4 to 6 years | 16 to 20 kg | 7.5 ml | up to 3 times" in lines
    assert "Age | Body weight | Single dose | How often in 24 hours" in lines
    assert lines[0].startswith("How much to give.") and lines[-1] == "Leave at least 4 hours between doses."
    assert [s.text for s in split_sentences(doc) if "7.5 ml" in s.text] == ["4 to 6 years | 16 to 20 kg | 7.5 ml | up to 3 times"]


def test_a_pdf_table_whose_cells_run_into_the_next_are_parted(tmp_path):
    """A user's term calendar: pypdf's layout text set "Tuesday 6 January 2026Monday 16 February ..."
    with no gap between the cells, so the rows stayed plain text and "When does the spring term end?"
    had no column to read; the heading under the table is not one of its rows."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=9)
    pdf.add_page()
    rows = [("Term", "First day for pupils", "Half term", "Last day"),
            ("Autumn 2025", "Wednesday 3 September 2025", "Monday 27 October to Friday 31 October 2025", "Friday 19 December 2025"),
            ("Spring 2026", "Tuesday 6 January 2026", "Monday 16 February to Friday 20 February 2026", "Friday 27 March 2026"),
            ("Summer 2026", "Monday 13 April 2026", "Monday 25 May to Friday 29 May 2026", "Wednesday 22 July 2026")]
    with pdf.table(col_widths=(25, 45, 75, 45)) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.ln(4)
    pdf.cell(0, 8, "Key dates", new_x="LMARGIN", new_y="NEXT")
    (tmp_path / "calendar.pdf").write_bytes(bytes(pdf.output()))
    (doc,) = load_documents(tmp_path).documents
    lines = doc.text.split("\n")
    assert lines == [" | ".join(r) for r in rows] + ["Key dates"], lines


def test_a_pdf_table_keeps_its_section_rows_and_a_total_with_empty_cells(tmp_path):
    """Users' annual report and service-charge statement: a one-cell "INCOME" row under the header
    split the table, so its header stayed plain text ("Item 2025 (£) 2024 (£)") and no row had
    columns; a "Total" row with an empty cell lost its columns. Empty cells are "-", as in DOCX."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    rows = [("Item", "Supplier", "2025", "2024"), ("INCOME", "", "", ""), ("Grants", "Aldwyn Trust", "142,500", "118,000"),
            ("Donations", "various", "61,320", "52,870"), ("EXPENDITURE", "", "", ""), ("Food", "FareShare", "96,300", "71,450"),
            ("Total", "", "300,120", "242,320")]
    with pdf.table(col_widths=(60, 50, 40, 40), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT")) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    (tmp_path / "report.pdf").write_bytes(bytes(pdf.output()))
    (doc,) = load_documents(tmp_path).documents
    assert doc.text.split("\n") == [" | ".join(c or "-" for c in r) for r in rows]


def test_a_pdf_table_with_right_aligned_prices_is_read_whole(tmp_path):
    """A user's price list: prices and weights set right-aligned start at other columns row by row
    ("€49.00", "€189.00"), so the header and the first and last rows were left as plain text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    rows = [("Code", "Product", "Capacity", "Price", "Weight"), ("G-100", "Hand Grinder Classic", "30 g beans", "49.00", "0.45 kg"),
            ("G-200", "Burr Grinder Home", "250 g hopper", "189.00", "2.8 kg"), ("E-700", "Espresso Machine Duo", "2.5 l", "1,149.00", "14.2 kg"),
            ("F-05", "Paper Filters", "size 02", "6.50", "0.15 kg")]
    with pdf.table(col_widths=(20, 60, 40, 30, 30), text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT")) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    (tmp_path / "catalogue.pdf").write_bytes(bytes(pdf.output()))
    (doc,) = load_documents(tmp_path).documents
    lines = doc.text.split("\n")
    assert lines == [" | ".join(r) for r in rows], lines
