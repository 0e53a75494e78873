"""The built-in chapter-4 exercise specs (``*.toml``), read by grader.specs.builtin_exercises."""
