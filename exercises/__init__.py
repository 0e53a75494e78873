"""The built-in chapter-4 exercise specs (``*.toml``), read by grader.builtin_exercises."""
