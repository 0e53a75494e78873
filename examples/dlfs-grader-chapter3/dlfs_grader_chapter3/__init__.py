"""Chapter-3 exercises of "Deep Learning from Scratch" for dlfs-grader: an example plugin.

The package adds three exercises (``step_function``, ``sigmoid``, ``softmax``), the
seeded input generators their random cases use and the diagnoses of the usual
mistakes. ``plugin`` holds the hook implementations, ``reference`` the answer key and
``exercises/`` the specs.
"""

__version__ = "0.1.0"
