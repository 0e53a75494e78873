"""`grade class`: every staging and archive limit costs only the student past it, in one line.

One class holds an honest zip and one student past each limit: an encrypted zip member, a zip
whose headers declare less than its member holds, more members than an archive may have, more
bytes declared than an archive may hold, more files than a folder may hold, more bytes in all
than a hand-in may hold, one file past that size alone, and a file of code past the size of one. Each archive is built here (zipfile,
and byte surgery where Python's zipfile will not write the lie); the large files are sparse.
Each of those students gets a row that says why, in one line, naming the file; the honest one is
graded; nothing is written anywhere but OUTDIR and the run's own (emptied) temporary folder.
"""
from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from test_classroom import CLASS, grade_class

pytestmark = pytest.mark.usefixtures("class_isolation")  # every test here grades a class

CODE = (CLASS / "kim_minsu.py").read_bytes()
MB = 1024 * 1024

# student: the whole gradebook error of their row (--lang en); "" for the honest student.
EXPECTED = {
    "honest": "",
    "encrypted": "encrypted.zip: refused: member 'chapter4.py' is encrypted",
    "lying_size": "lying_size.zip: not a readable zip archive (Bad CRC-32 for file 'chapter4.py')",
    "many_members": "many_members.zip: refused: more than 2000 members",
    "declared_too_big": "declared_too_big.zip: refused: more than 100 MB uncompressed (a zip bomb?)",
    "many_files": "more than 2000 files handed in; remove what is not needed",
    "too_big_in_all": "more than 100 MB handed in (at b.npy); remove data sets and large files",
    "one_file_too_big": "more than 100 MB handed in (at one_file_too_big.py); remove data sets and large files",
    # Under the hand-in's limit, but past what one file of code may be.
    "code_too_big": "code_too_big.py: 3.1 MB of code; a chapter-4 submission is far smaller, so the grader refuses "
                    "more than 2 MB (is a data file pasted into the code?)",
}


def make_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def lie(path: Path, member: str, *, flags: int = 0, size: int | None = None, compressed: int | None = None) -> None:
    """Rewrite ``member``'s local header and central directory entry: set general-purpose ``flags``
    bits, and declare another uncompressed (``size``) or compressed size (``compressed``)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    # (signature, offset of the name's length, of the name, of the flags, of the compressed size)
    for signature, name_length, name_at, flags_at, compressed_at in ((b"PK\x03\x04", 26, 30, 6, 18),
                                                                     (b"PK\x01\x02", 28, 46, 8, 20)):
        found = 0
        at = data.find(signature)
        while at != -1:
            length = struct.unpack_from("<H", data, at + name_length)[0]
            if data[at + name_at:at + name_at + length] == name:
                found += 1
                struct.pack_into("<H", data, at + flags_at, struct.unpack_from("<H", data, at + flags_at)[0] | flags)
                if compressed is not None:
                    struct.pack_into("<I", data, at + compressed_at, compressed)
                if size is not None:  # the uncompressed size follows the compressed one
                    struct.pack_into("<I", data, at + compressed_at + 4, size)
            at = data.find(signature, at + 4)
        assert found == 1, (signature, member)
    path.write_bytes(bytes(data))


def sparse(path: Path, size: int) -> None:
    """A file of ``size`` zero bytes that takes no room on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.truncate(size)


def build_class(subs: Path) -> None:
    subs.mkdir()
    make_zip(subs / "honest.zip", {"honest/chapter4.py": CODE})
    make_zip(subs / "encrypted.zip", {"chapter4.py": CODE})
    lie(subs / "encrypted.zip", "chapter4.py", flags=0x1)  # zipfile writes no encrypted member: say it is one
    make_zip(subs / "lying_size.zip", {"chapter4.py": CODE})
    lie(subs / "lying_size.zip", "chapter4.py", size=100)  # it expands to 7,624 bytes, not 100
    make_zip(subs / "many_members.zip", {"chapter4.py": CODE, **{f"data/{i}.txt": b"" for i in range(2000)}})
    # Two small stored members that declare 60 MB each (stored: no ratio to give them away), 120 MB in all.
    make_zip(subs / "declared_too_big.zip", {"chapter4.py": CODE, "data.npy": b"\x93NUMPY"}, zipfile.ZIP_STORED)
    for member in ("chapter4.py", "data.npy"):
        lie(subs / "declared_too_big.zip", member, size=60 * MB, compressed=60 * MB)
    (subs / "many_files").mkdir()
    (subs / "many_files" / "chapter4.py").write_bytes(CODE)
    for i in range(2000):
        (subs / "many_files" / f"note{i:04}.txt").write_bytes(b"")
    (subs / "too_big_in_all").mkdir()
    (subs / "too_big_in_all" / "chapter4.py").write_bytes(CODE)
    sparse(subs / "too_big_in_all" / "a.npy", 51 * MB)  # neither file alone is past the limit
    sparse(subs / "too_big_in_all" / "b.npy", 51 * MB)
    for name, size in (("one_file_too_big.py", 101 * MB), ("code_too_big.py", 3 * MB)):
        sparse(subs / name, size)
        with open(subs / name, "r+b") as out:
            out.write(CODE)


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def limited_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("limits")
    subs, out, tmp = base / "submissions", base / "graded", base / "tmp"
    build_class(subs)
    tmp.mkdir()
    before = listing(subs)
    proc = grade_class(subs, out, "--only", "sum_squares_error", "--lang", "en", tmpdir=tmp)
    book = {s["student"]: s for s in json.loads((out / "gradebook.json").read_text(encoding="utf-8"))["students"]}
    return base, before, proc, book


def test_each_student_past_a_limit_gets_a_one_line_row_saying_why(limited_class):
    _base, _before, proc, book = limited_class
    assert proc.returncode == 0, proc.stderr
    assert {name: book[name]["error"] for name in book} == EXPECTED
    for name, error in EXPECTED.items():
        if error:
            assert book[name]["error_kind"] == "unreadable" and book[name]["score"] == 0, name
            assert f"✘ {name}: {error}" in [line.strip() for line in proc.stdout.splitlines()]  # one line there too


def test_the_honest_student_beside_them_is_graded_and_nothing_crashes(limited_class):
    _base, _before, proc, book = limited_class
    assert book["honest"]["score"] == 10 and book["honest"]["error"] == ""
    assert f"{len(EXPECTED) - 1} in error" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_nothing_is_written_outside_outdir_and_the_runs_own_temporary_folder(limited_class):
    base, before, _proc, _book = limited_class
    assert sorted(p.name for p in base.iterdir()) == ["graded", "submissions", "tmp"]
    assert listing(base / "submissions") == before  # handed-in files untouched, nothing extracted beside them
    assert list((base / "tmp").iterdir()) == []  # every staging folder removed
    out = base / "graded"
    written = {p.relative_to(out).parts[0] for p in out.rglob("*")}
    assert written <= {".instructor-secret", ".results", ".adjusted.json", "reports", "gradebook.csv", "gradebook.json",
                       "similarity.csv", "index.html", "overview", "plots"}, written
    assert not [p for p in out.rglob("*") if p.suffix in (".py", ".npy", ".txt")]  # no extracted member


def test_a_refused_students_page_says_the_same_one_line(limited_class):
    base, _before, _proc, _book = limited_class
    page = json.loads((base / "graded" / "reports" / "encrypted.json").read_text(encoding="utf-8"))
    assert page == {"submission": "encrypted.zip", "lang": "en", "error": EXPECTED["encrypted"]}
    html = (base / "graded" / "reports" / "encrypted.html").read_text(encoding="utf-8")
    assert "refused: member &#39;chapter4.py&#39; is encrypted" in html
