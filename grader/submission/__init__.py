"""The submission as the grader receives it: read, planned, handed to the worker, and its definitions found.

handover (read and plan a submission, send the load), toplevel (what each top-level statement is),
definitions (what the student's code defined, and how a call is arranged for it), finding (a
definition under a near name), not_run (the statements that did not run, for the report).
"""
