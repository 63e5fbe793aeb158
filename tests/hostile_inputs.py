"""Hostile inputs for tests and bench/hostile.py: YAML alias bombs, DOCX zip bombs, PDFs of huge shared streams."""

from __future__ import annotations

from pathlib import Path

LAUGHS = """a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""  # 9^9 "lol"s: some 3 GB once turned into text


def write_docx(path: Path, paragraph: bytes, count: int) -> None:
    """A .docx whose body is one paragraph's XML repeated, written as a stream (it may unzip to gigabytes)."""
    import io
    import zipfile

    import docx

    blank = io.BytesIO()
    docx.Document().save(blank)
    with zipfile.ZipFile(blank) as template, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in template.infolist():
            data = template.read(info)
            if info.filename != "word/document.xml":
                out.writestr(info, data)
                continue
            head, _, rest = data.partition(b"<w:body>")
            entry = zipfile.ZipInfo(info.filename)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with out.open(entry, "w", force_zip64=True) as body:
                body.write(head + b"<w:body>")
                block = paragraph * 10_000
                for _ in range(count // 10_000):
                    body.write(block)
                body.write(rest)


def write_pdf(path: Path, pages: int, lines: int, shared: bool) -> None:
    """A PDF of pages drawing long compressed text streams: one stream for every page, or one each."""
    import zlib

    def stream(page: int) -> bytes:
        line = b"(Victims of trafficking shall not be punished for compelled acts, page %d line %d.) Tj T*"
        ops = [b"BT /F1 11 Tf 14 TL 72 740 Td", *(line % (page, i) for i in range(lines)), b"ET"]
        data = zlib.compress(b"\n".join(ops), 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"

    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for page in range(pages):
        if page == 0 or not shared:
            objects.append(stream(page))
            content = len(objects)
        kids.append(b"%d 0 R" % (len(objects) + 1))
        resources = b"/Resources << /Font << /F1 3 0 R >> >>"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] %s /Contents %d 0 R >>" % (resources, content)
        )
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    out, offsets = [b"%PDF-1.4\n"], []
    for no, body in enumerate(objects, 1):
        offsets.append(sum(map(len, out)))
        out.append(b"%d 0 obj\n" % no + body + b"\nendobj\n")
    xref = sum(map(len, out))
    out.append(
        b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    )
    out.append(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    path.write_bytes(b"".join(out))
