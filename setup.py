"""Packaging beyond what pyproject.toml can say: where the answer key and the specs are installed.

The repository keeps ``reference/`` (the answer key) and ``exercises/`` (the built-in
specs) at its top level, but the installed package holds them as ``grader._reference``
and ``grader.specs._exercises``: a top-level ``reference`` or ``exercises`` package would claim
names a student may well give a file of their own. Every other package under ``grader``
(data folders too, as namespace packages) is found automatically. The two stand-in modules (grader/_reference.py and
grader/specs/_exercises.py) serve a checkout only and stay out of the wheel.
"""
from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

MAPPED = {"grader._reference": "reference", "grader.specs._exercises": "exercises"}


class BuildWithoutStandIns(build_py):
    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if f"{m[0]}.{m[1]}" not in MAPPED]


# Namespace packages too: the folders of data files (templates/, locale/, the assignments) are
# packages to setuptools, and listing them says so instead of warning on every build.
setup(packages=find_namespace_packages(include=["grader", "grader.*"], exclude=["*.__pycache__"]) + list(MAPPED)
      + ["grader.specs._exercises.assignments"], package_dir=dict(MAPPED), cmdclass={"build_py": BuildWithoutStandIns})
