"""Reports back to the students: each one's HTML report, in their language, zipped in the layout the
LMS's bulk feedback upload takes.

* Moodle, "Upload multiple feedback files in a zip": the download's own folder name
  (``Full Name_123456_assignsubmission_file_/report.html``): Moodle reads the participant id from it;
* Canvas, "Re-upload submissions": the bulk download's file name with ``.html`` for its suffix
  (``lastfirst_12345_67890_chapter4.html``): Canvas reads the user and attachment ids from it and adds
  the file as a comment on that submission.

A student whose download carried no such name (graded from another layout) is listed, never guessed.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .lms_ids import CANVAS_FILE, MOODLE_ENTRY, Graded
from .outcome import UsageError

FEEDBACK_LMS = ("canvas", "moodle")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the same reports make the same zip


@dataclass
class FeedbackResult:
    written: list[tuple[str, str]] = field(default_factory=list)  # (student, name in the zip)
    unmatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # no HTML report in OUTDIR


def feedback_name(student: Graded, lms: str) -> str | None:
    for name in student.files:
        first = PurePosixPath(name).parts[0] if name else ""
        if lms == "moodle":
            match = MOODLE_ENTRY.match(first)
            if match:
                folder = f"{match['name']}_{match['pid']}_assignsubmission_{match['plugin']}_"
                return f"{folder}/report.html" if match["file"] == "" else f"{folder}report.html"
        if lms == "canvas" and CANVAS_FILE.match(first):
            return f"{PurePosixPath(first).stem if '.' in first else first}.html"
    return None


def write_feedback(outdir: Path, students: list[Graded], lms: str, output: Path) -> FeedbackResult:
    if lms not in FEEDBACK_LMS:
        raise UsageError(f"--lms {lms}: feedback zips are written for {' and '.join(FEEDBACK_LMS)}")
    result = FeedbackResult()
    pages: list[tuple[str, bytes]] = []
    for student in students:
        name = feedback_name(student, lms)
        if name is None:
            result.unmatched.append(student.student)
            continue
        try:
            page = (outdir / "reports" / f"{student.slug}.html").read_bytes()
        except OSError:
            result.missing.append(student.student)
            continue
        pages.append((name, page))
        result.written.append((student.student, name))
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, page in sorted(pages):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, page, compress_type=zipfile.ZIP_DEFLATED)
    partial.replace(output)
    return result
