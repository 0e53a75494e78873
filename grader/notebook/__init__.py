"""`%grade` inside Jupyter: the IPython extension, its inline view and the warm grading process.

Nothing here runs the student's code in the student's kernel: the kernel only sends the code it
ran (its input history) or a saved notebook's path to a grading process of its own
(grader/notebook/warm.py), which grades it exactly as `grade` does and sends back the report.
"""
