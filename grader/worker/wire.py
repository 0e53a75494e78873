"""The worker's wire format: length-framed JSON with arrays as base64 ``.npy``.

This module is loaded by file path inside the sandboxed worker (which must never
import the ``grader`` package), so it depends on the standard library and NumPy
only.

Why not pickle: unpickling runs arbitrary constructors, so a hostile submission
could hand the trusted process an object whose ``__eq__`` always says True.
Here the trusted side can only ever receive JSON scalars, strings, lists, tuples,
string-keyed dicts, plain ``numpy.ndarray`` of a numeric dtype (rebuilt from raw
bytes, dtype and shape: the same information as ``.npy`` with
``allow_pickle=False``, without its header parser) and :class:`Opaque`
descriptions of anything else.
"""
from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

HEADER = struct.Struct(">I")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_NUMERIC_KINDS = "biufc"


@dataclass(frozen=True)
class Opaque:
    """Something the student returned that is not plain data: only its description travels."""

    type_name: str
    text: str


@dataclass(frozen=True)
class Handle:
    """A reference to an object living in the worker (an instance of the student's class)."""

    id: int


@dataclass(frozen=True)
class Fn:
    """A grader-written function to build in the worker (e.g. ``lambda x: x[0]**2 + x[1]**2``).

    ``bind`` gives names the source may use besides ``np``: values or handles.
    """

    source: str
    bind: tuple[tuple[str, Any], ...] = ()


def _array_to_wire(a: np.ndarray) -> dict[str, Any]:
    return {"$nd": base64.b64encode(a.tobytes(order="C")).decode("ascii"), "dtype": a.dtype.str,
            "shape": list(a.shape)}


def _array_from_wire(data: dict[str, Any]) -> Any:
    """Rebuild an array from raw bytes; only plain numeric dtypes are accepted (no objects, no records)."""
    dtype = np.dtype(str(data["dtype"]))
    shape = tuple(int(n) for n in data["shape"])
    if dtype.kind not in _NUMERIC_KINDS or dtype.names or dtype.subdtype or any(n < 0 for n in shape):
        return Opaque(f"ndarray[{dtype}]", f"array of dtype {dtype}")
    raw = base64.b64decode(str(data["$nd"]).encode("ascii"), validate=True)
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) != count * dtype.itemsize:
        raise ValueError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def encode(value: Any, *, describe=repr, _depth: int = 0) -> Any:
    """Turn a Python value into JSON-ready data; unknown objects become an opaque description."""
    if _depth > 20:
        return {"$opaque": "nested", "text": "structure nested too deeply"}
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value if abs(value) < 2**53 else float(value)
    if type(value) is float:
        return value
    if isinstance(value, Handle):
        return {"$handle": value.id}
    if isinstance(value, Fn):
        return {"$fn": value.source, "bind": [[k, encode(v, _depth=_depth + 1)] for k, v in value.bind]}
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        return _array_to_wire(np.asarray(value))
    if type(value) is np.ndarray and value.dtype.kind in _NUMERIC_KINDS and not value.dtype.names:
        return _array_to_wire(value)
    if type(value) in (list, tuple):
        items = [encode(v, describe=describe, _depth=_depth + 1) for v in value]
        return {"$tuple": items} if type(value) is tuple else items
    if type(value) is dict and all(type(k) is str for k in value):
        return {"$dict": [[k, encode(v, describe=describe, _depth=_depth + 1)] for k, v in value.items()]}
    return {"$opaque": _type_name(value), "text": describe(value)}


def _type_name(value: Any) -> str:
    try:
        cls = type(value)
        return f"{cls.__module__}.{cls.__qualname__}" if cls.__module__ != "builtins" else cls.__qualname__
    except Exception:  # a hostile metaclass can make even this fail
        return "object"


def decode(data: Any, *, resolve=None) -> Any:
    """Inverse of :func:`encode`. ``resolve`` maps ``$handle``/``$fn`` markers (worker side only)."""
    if isinstance(data, list):
        return [decode(v, resolve=resolve) for v in data]
    if not isinstance(data, dict):
        return data
    if "$nd" in data:
        return _array_from_wire(data)
    if "$tuple" in data:
        return tuple(decode(v, resolve=resolve) for v in data["$tuple"])
    if "$dict" in data:
        return {str(k): decode(v, resolve=resolve) for k, v in data["$dict"]}
    if "$opaque" in data:
        return Opaque(str(data["$opaque"]), str(data.get("text", "")))
    if "$handle" in data:
        return resolve("handle", data) if resolve else Handle(int(data["$handle"]))
    if "$fn" in data:
        if resolve:
            return resolve("fn", data)
        return Fn(data["$fn"], tuple((k, decode(v)) for k, v in data["bind"]))
    return {str(k): decode(v, resolve=resolve) for k, v in data.items()}


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def read_exactly(stream: BinaryIO, n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("stream closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_message(stream: BinaryIO) -> dict[str, Any]:
    (size,) = HEADER.unpack(read_exactly(stream, HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise ValueError(f"message of {size} bytes is over the limit")
    message = json.loads(read_exactly(stream, size).decode("utf-8"))
    if not isinstance(message, dict):
        raise ValueError("message is not an object")
    return message
