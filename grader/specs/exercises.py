"""Exercise specifications: the model, and loading it from TOML files (DESIGN.md principle 2).

An exercise is data: who it is (id, title, book section, points), which names a
student may give it, where its reference lives, and its cases. Book cases pin the
book's printed values; random cases name a seeded generator, so the inputs differ
from anything printed in the book and a hard-coded answer cannot survive them.
What data cannot say (stateful classes, training runs) is a named check.
"""
from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .files import answer_key_paths, spec_table
from .instructor_secret import salted_seed
from ..worker.wire import Fn

Generator = Callable[..., tuple]


class SpecError(Exception):
    """A spec file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Case:
    """One call of the student's function, compared with the reference on the same input."""

    name: str
    args: tuple[Any, ...]
    book_value: Any = None
    hint: str = ""
    rtol: float = 1e-7
    atol: float = 1e-10
    unchanged: tuple[int, ...] = ()
    seed: int | None = None
    weight: float = 1.0
    hidden: bool = False  # inputs and expected values stay out of student-facing reports


@dataclass(frozen=True)
class CheckSpec:
    """A named check (registered through the ``grader_checks`` hook) with its parameters."""

    check: str
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    weight: float = 1.0
    hidden: bool = False


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    section: str
    points: float
    kind: str
    names: tuple[str, ...]
    reference: str
    cases: tuple[Case, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    depends_on: tuple[str, ...] = ()
    unpack_tuple: bool = False
    hint: str = ""
    source: str = ""
    plugin: str = ""  # the plugin that registered it
    # Other names learners give it (``get_mse``): graded only after reproducing a book case.
    near_names: tuple[str, ...] = ()

    def protected_paths(self) -> list[str]:
        """Folders holding this exercise's spec and answer key: the worker may not read them."""
        return answer_key_paths(self.source, self.reference)

    def load_reference(self) -> Any:
        module_name, _, attr = self.reference.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    def matches(self, name: str) -> bool:
        """Class names are matched case-insensitively (``twolayerNet``), function names exactly."""
        if self.kind == "class":
            return name.lower() in {n.lower() for n in self.names}
        return name in self.names


_TOP_FIELDS = {"id", "title", "section", "points", "kind", "names", "reference", "case", "random", "check",
               "depends_on", "unpack_tuple", "hint", "rtol", "atol", "near_names"}
_CASE_FIELDS = {"name", "args", "book_value", "hint", "rtol", "atol", "unchanged", "weight", "hidden"}
_RANDOM_FIELDS = {"name", "generator", "params", "seeds", "hint", "rtol", "atol", "unchanged", "weight", "hidden"}
_CHECK_FIELDS = {"check", "name", "params", "weight", "hidden"}


def decode_value(value: Any, where: str) -> Any:
    """Spec values: numbers stay numbers, lists become float arrays, tables say more.

    ``{fn = "lambda x: ..."}`` is a function, ``{array = [...], dtype = "int64"}`` an
    array of another dtype, ``{int = 3}`` a NumPy integer.
    """
    if isinstance(value, bool) or isinstance(value, (int, float, str)):
        return value
    if isinstance(value, list):
        try:
            return np.array(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{where}: not a rectangular list of numbers ({exc})") from None
    if isinstance(value, dict):
        if "fn" in value:
            bind = tuple((k, decode_value(v, f"{where}.bind.{k}")) for k, v in value.get("bind", {}).items())
            return Fn(str(value["fn"]), bind)
        if "array" in value:
            return np.array(value["array"], dtype=value.get("dtype", "float64"))
        if "int" in value:
            return np.int64(value["int"])
    raise SpecError(f"{where}: cannot use {value!r} as a value")


def _unknown(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise SpecError(f"{where}: unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")


def _require(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise SpecError(f"{where}: missing field '{key}'")
    return table[key]


def _typed(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    """A field of the expected TOML type (a number, a string, a list of strings...)."""
    value = table.get(key, default)
    if value is None:
        return value
    ok = isinstance(value, kind) and not (isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple)
                                                                                   else (kind,)))
    if ok and isinstance(value, list):
        ok = all(isinstance(item, str) for item in value)
    if not ok:
        wanted = {float: "a number", str: "a string", list: "a list of strings", bool: "true or false"}
        names = [wanted.get(k, k.__name__) for k in (kind if isinstance(kind, tuple) else (kind,)) if k is not int]
        raise SpecError(f"{where}.{key}: expected {' or '.join(names)}, got {value!r}")
    return value


def _positions(table: Mapping[str, Any], args: tuple, where: str) -> tuple[int, ...]:
    positions = tuple(table.get("unchanged", ()))
    for p in positions:
        if not isinstance(p, int) or not 0 <= p < len(args):
            raise SpecError(f"{where}.unchanged: {p!r} is not the position of an argument (0 to {len(args) - 1})")
    return positions


def load_exercise(path: Path, generators: Mapping[str, Generator]) -> Exercise:
    where = str(path)
    try:
        data = spec_table(path)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{where}: {exc}") from None
    _unknown(data, _TOP_FIELDS, where)
    rtol, atol = float(data.get("rtol", 1e-7)), float(data.get("atol", 1e-10))
    cases: list[Case] = []
    for i, table in enumerate(data.get("case", [])):
        at = f"{where}: case[{i}]"
        _unknown(table, _CASE_FIELDS, at)
        args = tuple(decode_value(a, f"{at}.args[{j}]") for j, a in enumerate(_require(table, "args", at)))
        cases.append(Case(str(_require(table, "name", at)), args, table.get("book_value"), table.get("hint", ""),
                          float(table.get("rtol", rtol)), float(table.get("atol", atol)),
                          _positions(table, args, at), None, float(_typed(table, "weight", (int, float), at, 1.0)),
                          bool(table.get("hidden", False))))
    for i, table in enumerate(data.get("random", [])):
        at = f"{where}: random[{i}]"
        _unknown(table, _RANDOM_FIELDS, at)
        name = str(_require(table, "generator", at))
        if name not in generators:
            raise SpecError(f"{at}.generator: no generator named '{name}' (known: {', '.join(sorted(generators))}); "
                            "if a plugin provides it, load that plugin (--plugin MODULE)")
        params = dict(table.get("params", {}))
        for seed in _require(table, "seeds", at):
            try:
                rng = np.random.default_rng(salted_seed(int(seed), str(data.get("id", ""))))
                args = generators[name](rng, **params)
            except TypeError as exc:
                raise SpecError(f"{at}.params: {exc}") from None
            cases.append(Case(str(_require(table, "name", at)), tuple(args), None,
                              table.get("hint", ""), float(table.get("rtol", rtol)),
                              float(table.get("atol", atol)), _positions(table, tuple(args), at), int(seed),
                              float(_typed(table, "weight", (int, float), at, 1.0)), bool(table.get("hidden", False))))
    checks = []
    for i, table in enumerate(data.get("check", [])):
        at = f"{where}: check[{i}]"
        _unknown(table, _CHECK_FIELDS, at)
        checks.append(CheckSpec(str(_require(table, "check", at)), str(_require(table, "name", at)),
                                dict(table.get("params", {})), float(table.get("weight", 1.0)),
                                bool(table.get("hidden", False))))
    kind = data.get("kind", "function")
    if kind not in ("function", "class"):
        raise SpecError(f"{where}: kind must be 'function' or 'class', not {kind!r}")
    if not cases and not checks:
        raise SpecError(f"{where}: an exercise needs at least one case, random case or check")
    _require(data, "names", where)
    names = tuple(_typed(data, "names", list, where))
    if not names:
        raise SpecError(f"{where}.names: list at least one accepted name")
    for key in ("id", "title", "section", "reference", "hint"):
        _typed(data, key, str, where)
    _typed(data, "points", (int, float), where)
    _typed(data, "depends_on", list, where)
    _typed(data, "near_names", list, where)
    return Exercise(id=str(_require(data, "id", where)), title=str(_require(data, "title", where)),
                    section=str(data.get("section", "")), points=float(data.get("points", 10)), kind=kind,
                    names=names, reference=str(_require(data, "reference", where)), cases=tuple(cases),
                    checks=tuple(checks), depends_on=tuple(data.get("depends_on", ())),
                    unpack_tuple=bool(data.get("unpack_tuple", False)), hint=data.get("hint", ""), source=where,
                    near_names=tuple(data.get("near_names", ())))


def load_exercise_dir(folder: Path, generators: Mapping[str, Generator]) -> list[Exercise]:
    return [load_exercise(p, generators) for p in sorted(folder.glob("*.toml"))]
