"""``grade export``: grades and feedback from a ``grade class`` OUTDIR back into the LMS.

    grade export canvas|moodle|blackboard|brightspace OUTDIR --template EXPORT.csv -o upload.csv
                 [--column NAME] [--map FILE] [--overwrite] [--points scale|as-is]
    grade export feedback OUTDIR --lms canvas|moodle -o feedback.zip

Exit status: 0 every graded student is in the file, 1 the file is written but some students are
not in it (listed: no identifier matched, not graded, or a grade already there kept), 2 bad usage
or unreadable input, 3 an internal error of the grader.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
GRADE_TARGETS = ("canvas", "moodle", "blackboard", "brightspace")

EPILOG = """\
examples:
  grade export canvas graded/ --template "2026-10-06 Deep Learning Grades.csv" -o canvas-upload.csv
  grade export moodle graded/ --template worksheet.csv -o moodle-upload.csv --column Grade
  grade export blackboard graded/ --template gc_export.csv -o bb-upload.csv
  grade export brightspace graded/ --template brightspace.csv -o d2l-upload.csv --map usernames.csv
  grade export feedback graded/ --lms moodle -o feedback.zip

--map FILE: a CSV whose header is student,<a column of the template> (e.g. student,Email address),
then one row per student of the class: for downloads that carry no identifier the LMS knows."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grade export", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Write a graded class's grades into the LMS's own grade export, "
                                                 "or its reports into the LMS's bulk feedback upload.")
    parser.add_argument("target", choices=GRADE_TARGETS + ("feedback",), metavar="{canvas,moodle,blackboard,"
                        "brightspace,feedback}", help="the LMS whose grade export to fill, or feedback")
    parser.add_argument("outdir", type=Path, metavar="OUTDIR", help="the folder `grade class -o` wrote")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the file to upload to the LMS (upload.csv, or feedback.zip)")
    parser.add_argument("--template", type=Path, metavar="EXPORT.csv",
                        help="the grade export the LMS produced (grades only): written back with the column filled")
    parser.add_argument("--column", metavar="NAME", help="the assignment's column in the template (default: the only one)")
    parser.add_argument("--map", type=Path, metavar="FILE", help="student,<template column> rows (see below)")
    parser.add_argument("--overwrite", action="store_true", help="replace grades already in the template")
    parser.add_argument("--points", choices=("scale", "as-is"),
                        help="when the LMS's column is worth other points than the grader's maximum: scale "
                             "each score to the column's points, or write the scores as they are (without "
                             "either, such a column is refused)")
    parser.add_argument("--lms", choices=("canvas", "moodle"), help="feedback: the LMS whose upload layout to write")
    return parser


def main(argv: list[str]) -> int:
    from ..classroom.outcome import UsageError

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has said why
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    try:
        return _main(args)
    except UsageError as exc:
        print(f"grade export: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # never a traceback
        print(f"grade export: internal error: {type(exc).__name__}: {exc}\nThis is a bug in the grader.",
              file=sys.stderr)
        return EXIT_INTERNAL


def _listed(label: str, names: list[str]) -> None:
    from ..reporters.safe_text import one_line

    if names:
        print(f"  {label} ({len(names)}): {', '.join(one_line(n) for n in names)}")


def _scale(args: argparse.Namespace, template, target: int, maximum: float | None) -> float:
    """What each score is multiplied by: 1, unless the column is worth other points than the
    gradebook's maximum and ``--points scale`` says to convert. A mismatch nobody decided on is
    refused: 20 of 25 typed into a column out of 100 is a failing grade nobody meant."""
    from ..classroom.lms_export import LAYOUTS, points_possible
    from ..classroom.outcome import UsageError

    possible = points_possible(template, LAYOUTS[args.target], target)
    if possible is None or maximum is None or maximum <= 0 or abs(possible - maximum) < 1e-9:
        return 1.0
    if args.points == "scale":
        print(f"scores scaled from {maximum:g} to the column's {possible:g} points possible (each x {possible / maximum:g})")
        return possible / maximum
    if args.points == "as-is":
        print(f"note: the column is worth {possible:g} points, the scores are out of {maximum:g} (--points as-is)")
        return 1.0
    column = template.rows[0][target].strip()
    raise UsageError(f"the column {column!r} is worth {possible:g} points in {args.target}, but the gradebook's "
                     f"scores are out of {maximum:g}: give --points scale (each score x {possible / maximum:g}) "
                     f"or --points as-is, or change the points possible in {args.target}")


def _main(args: argparse.Namespace) -> int:
    from ..classroom.lms_ids import gradebook_max, read_gradebook, read_map
    from ..classroom.outcome import UsageError
    from ..classroom.results import write_atomic

    if args.output.resolve().is_relative_to(args.outdir.resolve()) and args.target != "feedback":
        raise UsageError(f"-o {args.output}: write the upload outside OUTDIR")
    students = read_gradebook(args.outdir)
    if args.target == "feedback":
        from ..classroom.lms_feedback import write_feedback

        if not args.lms:
            raise UsageError("feedback needs --lms canvas or --lms moodle")
        result = write_feedback(args.outdir, students, args.lms, args.output)
        print(f"{args.output}: {len(result.written)} report{'s' if len(result.written) != 1 else ''} for "
              f"{args.lms}'s bulk feedback upload")
        _listed(f"not in the zip: the download carried no {args.lms} name", result.unmatched)
        _listed("not in the zip: no HTML report in OUTDIR", result.missing)
        return EXIT_INCOMPLETE if result.unmatched or result.missing else EXIT_OK
    from ..classroom.lms_export import LAYOUTS, fill, read_template

    if args.template is None:
        raise UsageError(f"{args.target} needs --template: the grade export {args.target} itself produced")
    template = read_template(args.template)
    mapping = read_map(args.map) if args.map else None
    result = fill(template, LAYOUTS[args.target], students, args.column, args.template, mapping, args.overwrite,
                  scale=lambda target: _scale(args, template, target, gradebook_max(args.outdir)))
    try:
        write_atomic(args.output, result.text, encoding=template.encoding if template.encoding != "utf-16"
                     else "utf-16")
    except OSError as exc:
        raise UsageError(f"-o {args.output}: cannot be written ({exc.strerror})") from None
    print(f"{args.output}: column {result.column!r} filled for {len(result.filled)} of {len(students)} students")
    _listed("not matched by any identifier (give --map FILE)", result.unmatched)
    _listed("not graded (their row in gradebook.csv says why)", result.not_graded)
    _listed("already graded in the template, kept (--overwrite replaces)",
            [f"{s} ({old}, ours {new})" for s, old, new in result.kept])
    if result.without_submission:
        print(f"  {result.without_submission} row(s) of the template without a submission: left as they were")
    return EXIT_INCOMPLETE if result.unmatched or result.kept or result.not_graded else EXIT_OK
