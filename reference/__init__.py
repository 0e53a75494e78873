"""The answer key: NumPy implementations of the chapter-4 exercises, as in the book.

Only the trusted grader process imports this package; student code never can.
"""
