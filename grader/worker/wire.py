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
import re
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

HEADER = struct.Struct(">I")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 24  # nesting of lists, tuples and dicts a value may have on the wire
MAX_ARRAY_BYTES = 16 * 1024 * 1024
MAX_DIMS = 32
_NUMERIC_KINDS = "biufc"
# Plain numeric dtypes only, spelt as numpy spells them: byte order, kind, item size.
_DTYPE = re.compile(r"[<>|=]?[biufc](1|2|4|8|16)")


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


def _check_shape(shape: Any, what: str) -> None:
    """A shape is a short list of non-negative ints: ValueError (naming ``what``) for anything else."""
    if not isinstance(shape, list) or len(shape) > MAX_DIMS or \
            not all(type(n) is int and 0 <= n <= MAX_ARRAY_BYTES for n in shape):
        raise ValueError(f"{what} shape out of range")


def _shape_bytes(shape: list[int], dtype: np.dtype) -> int:
    """The bytes of an array of a checked ``shape``; ValueError past the limit, before any allocation."""
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize > MAX_ARRAY_BYTES:
        raise ValueError("array data does not match its shape")
    return count * dtype.itemsize


def _array_from_wire(data: dict[str, Any]) -> Any:
    """Rebuild an array from raw bytes; only plain numeric dtypes are accepted (no objects, no records).

    The dtype, shape and size are checked before anything is allocated: a reply cannot
    make the trusted process build a huge or exotic array.
    """
    if set(data) != {"$nd", "dtype", "shape"}:
        raise ValueError("array with unknown fields")
    spelled, shape, payload = data["dtype"], data["shape"], data["$nd"]
    if not isinstance(spelled, str) or not isinstance(shape, list) or not isinstance(payload, str):
        raise ValueError("array fields of the wrong type")
    _check_shape(shape, "array")
    if not _DTYPE.fullmatch(spelled):
        return Opaque("ndarray", "array of a non-numeric dtype")
    dtype = np.dtype(spelled)
    if dtype.kind not in _NUMERIC_KINDS:
        return Opaque(f"ndarray[{dtype}]", f"array of dtype {dtype}")
    size = _shape_bytes(shape, dtype)
    if len(payload) != 4 * ((size + 2) // 3):
        raise ValueError("array data does not match its shape")
    raw = base64.b64decode(payload.encode("ascii"), validate=True)
    if len(raw) != size:
        raise ValueError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(tuple(shape)).copy()


def shape_to_wire(value: Any) -> dict[str, Any] | None:
    """A plain numeric array's shape and dtype without its data (a probe: the 784 x 100 W1 of a
    TwoLayerNet is 830 kB on the wire, and its shape is all the check needs); None for anything
    else, which then travels as :func:`encode` sends it."""
    if type(value) is np.ndarray and value.dtype.kind in _NUMERIC_KINDS and not value.dtype.names:
        return {"$shape": list(value.shape), "dtype": value.dtype.str}
    return None


def shape_from_wire(data: Any) -> Any:
    """The reply to a shape probe: an array standing in for the one in the worker, of its shape
    and dtype, all zeros and read-only (no memory of its own), under the limits a real array
    meets; anything else is decoded as a value."""
    if not (isinstance(data, dict) and "$shape" in data):
        return decode(data)
    if set(data) != {"$shape", "dtype"}:
        raise ValueError("shape with unknown fields")
    spelled, shape = data["dtype"], data["$shape"]
    if not isinstance(spelled, str) or not _DTYPE.fullmatch(spelled):
        raise ValueError("shape of a non-numeric dtype")
    dtype = np.dtype(spelled)
    if dtype.kind not in _NUMERIC_KINDS:
        raise ValueError("shape of a non-numeric dtype")
    _check_shape(shape, "probed")
    _shape_bytes(shape, dtype)  # the limits an array sent whole meets
    return np.broadcast_to(np.zeros((), dtype=dtype), tuple(shape))


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


def decode(data: Any, *, resolve=None, _depth: int = 0) -> Any:
    """Inverse of :func:`encode`. ``resolve`` maps ``$handle``/``$fn`` markers (worker side only).

    Raises ValueError (or TypeError) for anything :func:`encode` could not have produced:
    too deep, markers with extra or ill-typed fields, non-string keys.
    """
    if _depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if isinstance(data, list):
        return [decode(v, resolve=resolve, _depth=_depth + 1) for v in data]
    if not isinstance(data, dict):
        if data is None or type(data) in (bool, int, float, str):
            return data
        raise TypeError(f"not a wire value: {type(data).__name__}")
    if "$nd" in data:
        return _array_from_wire(data)
    if "$tuple" in data:
        _only(data, "$tuple")
        return tuple(decode(v, resolve=resolve, _depth=_depth + 1) for v in _list(data["$tuple"]))
    if "$dict" in data:
        _only(data, "$dict")
        out = {}
        for pair in _list(data["$dict"]):
            if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str):
                raise ValueError("dict entry is not a [key, value] pair")
            out[pair[0]] = decode(pair[1], resolve=resolve, _depth=_depth + 1)
        return out
    if "$opaque" in data:
        _only(data, "$opaque", "text")
        return Opaque(str(data["$opaque"])[:200], str(data.get("text", ""))[:1000])
    if "$handle" in data:
        _only(data, "$handle")
        if type(data["$handle"]) is not int:
            raise ValueError("handle is not an integer")
        return resolve("handle", data) if resolve else Handle(data["$handle"])
    if "$fn" in data:
        if resolve:
            return resolve("fn", data)
        raise ValueError("a function cannot come back from the worker")
    return {str(k): decode(v, resolve=resolve, _depth=_depth + 1) for k, v in data.items()}


def _only(data: dict[str, Any], *allowed: str) -> None:
    extra = set(data) - set(allowed)
    if extra:
        raise ValueError(f"unknown field {sorted(extra)[0][:40]!r}")


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


def frame(message: dict[str, Any]) -> bytes:
    """One message as it crosses the pipe: its length, then its JSON."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(body)) + body


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    stream.write(frame(message))
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
