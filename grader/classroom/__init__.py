"""Grading a whole class: `grade class SUBMISSIONS -o OUTDIR`.

One module per step of the flow (DESIGN.md, "A class is the same flow once per student"):

* :mod:`.roster`   who handed in which files, in the layouts LMSs download (Canvas, Moodle,
  nbgrader, GitHub Classroom) or by ``--student-pattern``;
* :mod:`.names`    names of any bytes as ids, slugs nobody can take, and no host path in any output;
* :mod:`.archives` safe extraction of a student's zip or tar archive;
* :mod:`.tree`     a student's folder walked without recursion, bounded in depth and entries;
* :mod:`.staging`  each student's files copied alone into the private folder of their worker;
* :mod:`.hashing`  the content hash that decides whether a student must be graded again;
* :mod:`.language` the student's language, from the script of their comments and markdown;
* :mod:`.grading`  what a pool process does for one student (grade, write the reports atomically);
* :mod:`.pool`     the pool of grading processes, their time limits and their private folders;
* :mod:`.results`  the per-student result records in OUTDIR (resumption) and the class report model;
* :mod:`.progress` the progress bar (rich) or plain lines;
* :mod:`.gradebook`, :mod:`.overview` (+ :mod:`.plots`): the built-in class outputs, plugins
  of the ``grader_class_report`` hook;
* :mod:`.run`      one run: who needs grading (content hashes), the pool, then the class outputs;
* :mod:`.stopping` Ctrl-C, ``kill`` and a closed terminal: what is graded is written all the same;
* :mod:`.cli`      the ``grade class`` command.
"""
