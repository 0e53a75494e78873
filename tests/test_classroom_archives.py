"""Archives handed in are untrusted: extracted safely or refused with a message, never past their folder.

Each malicious archive has an honest twin (the same files, nothing hostile) that extracts.
"""
from __future__ import annotations

import io
import json
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import run_grade
from grader.classroom.archives import ArchiveError, ArchiveLimits, extract

CODE = b"def sum_squares_error(y, t):\n    return 0.5 * ((y - t) ** 2).sum()\n"


def make_zip(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


def make_tar(path: Path, members: dict[str, bytes], special: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if special:
            info = tarfile.TarInfo(special)
            info.type = {"sym": tarfile.SYMTYPE, "dev": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[special.split(".")[0]]
            info.linkname = "/etc/passwd"
            tf.addfile(info)
    return path


def test_an_honest_zip_and_tar_extract_into_the_students_folder(tmp_path):
    good_zip = make_zip(tmp_path / "kim.zip", {"kim/chapter4.py": CODE, "__MACOSX/kim/._chapter4.py": b"\0"})
    assert extract(good_zip, tmp_path / "a") == ["kim/chapter4.py"]
    assert (tmp_path / "a" / "kim" / "chapter4.py").read_bytes() == CODE
    good_tar = make_tar(tmp_path / "lee.tar.gz", {"./lee/chapter4.py": CODE})
    assert extract(good_tar, tmp_path / "b") == ["lee/chapter4.py"]


@pytest.mark.parametrize("name, message", [
    ("../../escaped.py", "points outside the archive"),
    ("/tmp/absolute_escape.py", "absolute path"),
    ("C:/Windows/evil.py", "absolute path"),
    ("ok/../../escaped.py", "points outside the archive"),
])
def test_names_that_escape_the_folder_are_refused_before_anything_is_written(tmp_path, name, message):
    for archive in (make_zip(tmp_path / "x.zip", {"ok.py": CODE, name: CODE}),
                    make_tar(tmp_path / "x.tar.gz", {"ok.py": CODE, name: CODE})):
        dest = tmp_path / "dest" / archive.name
        dest.mkdir(parents=True)
        with pytest.raises(ArchiveError, match=message):
            extract(archive, dest)
        assert list(dest.iterdir()) == []  # refused as a whole: not even ok.py
    assert not (tmp_path / "escaped.py").exists() and not Path("/tmp/absolute_escape.py").exists()


def test_links_devices_and_fifos_inside_archives_are_refused(tmp_path):
    with pytest.raises(ArchiveError, match="is a link"):
        extract(make_zip(tmp_path / "l.zip", {"ok.py": CODE}, link="passwd.py"), tmp_path / "a")
    for special in ("sym.py", "dev.py", "fifo.py"):
        with pytest.raises(ArchiveError, match="link|device"):
            extract(make_tar(tmp_path / f"{special}.tar.gz", {"ok.py": CODE}, special=special), tmp_path / "b")


def test_zip_and_tar_bombs_are_refused_without_being_extracted(tmp_path):
    zeros = bytes(60 * 1024 * 1024)  # 60 MB of zeros compress to about 60 kB
    with pytest.raises(ArchiveError, match="zip bomb"):
        extract(make_zip(tmp_path / "bomb.zip", {"data.npy": zeros}), tmp_path / "a")
    with pytest.raises(ArchiveError, match="zip bomb"):
        extract(make_tar(tmp_path / "bomb.tar.gz", {"data.npy": zeros}), tmp_path / "b")
    assert not (tmp_path / "a" / "data.npy").exists() and not (tmp_path / "b" / "data.npy").exists()
    # The total limit holds whatever the ratio, and so does the number of members.
    many = {f"f{i}.py": CODE for i in range(30)}
    with pytest.raises(ArchiveError, match="members"):
        extract(make_zip(tmp_path / "many.zip", many), tmp_path / "c", ArchiveLimits(max_files=20))
    with pytest.raises(ArchiveError, match="uncompressed"):
        extract(make_tar(tmp_path / "big.tar.gz", many), tmp_path / "d", ArchiveLimits(max_bytes=1000))


def test_corrupt_archives_get_a_message(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ArchiveError, match="not a readable zip archive"):
        extract(tmp_path / "bad.zip", tmp_path / "a")
    good = make_tar(tmp_path / "cut.tar.gz", {"a.py": CODE * 500})
    good.write_bytes(good.read_bytes()[:200])  # a download cut short
    with pytest.raises(ArchiveError, match="not a readable tar archive"):
        extract(good, tmp_path / "b")


@pytest.mark.usefixtures("class_isolation")
def test_malicious_archives_cost_only_their_student_in_a_class(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    make_zip(subs / "kim.zip", {"kim/chapter4.py": CODE})  # the honest twin
    make_zip(subs / "bomb.zip", {"chapter4.py": CODE, "data.npy": bytes(60 * 1024 * 1024)})
    make_tar(subs / "escape.tar.gz", {"chapter4.py": CODE, "../../outside.py": CODE})
    (subs / "corrupt.zip").write_bytes(b"not a zip at all")
    proc = run_grade("class", str(subs), "-o", str(tmp_path / "out"), "-j", "2", "--only", "sum_squares_error")
    assert proc.returncode == 0, proc.stderr
    book = {s["student"]: s for s in json.loads((tmp_path / "out" / "gradebook.json").read_text())["students"]}
    assert book["kim"]["score"] == 10 and book["kim"]["error"] == ""
    assert "zip bomb" in book["bomb"]["error"]
    assert "points outside the archive" in book["escape"]["error"]
    assert "not a readable zip archive" in book["corrupt"]["error"]
    assert "3 in error" in proc.stdout
    assert not (tmp_path / "outside.py").exists()
