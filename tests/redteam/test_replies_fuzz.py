"""Fuzzing the trusted side's reading of replies: whatever bytes a worker sends, the grader
gets a Reply (ok, error, timeout or crash) in bounded time, never an exception or a hang.
"""
from __future__ import annotations

import json
import struct
import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.worker import wire
from grader.worker.client import Limits, WorkerClient, statement_keys, wall_seconds
from grader.worker.replies import BadReply, load_record

TIMEOUT = 0.05


class FakeWorker:
    """Stands in for the worker's process: its stdout is the given bytes, then end of stream (or silence)."""

    sandboxed = False
    ready = True

    def __init__(self, data: bytes, then_silent: bool) -> None:
        self.chunks = [data[i:i + 7919] for i in range(0, len(data), 7919)]
        self.then_silent = then_silent
        self.buffer = bytearray()
        self.stdin = open("/dev/null", "wb")

    def read(self, timeout: float):
        if self.chunks:
            return self.chunks.pop(0)
        if self.then_silent:
            time.sleep(min(timeout, 0.01))
            return None
        return b""

    def poll(self):
        return None

    def exit_code(self, seconds: float):
        return None

    def kill(self) -> None:
        self.stdin.close()


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["ok", "value", "args", "output", "error", "timeout", "replies", "$nd", "dtype", "shape",
                         "$tuple", "$dict", "$opaque", "$handle", "$fn", "bind", "text", "type", "message", "where",
                         "progress", "x"]), children, max_size=5),
    max_leaves=30)

arrays = st.fixed_dictionaries({
    "$nd": st.text(alphabet="ABCDabcd0123+/=", max_size=40),
    "dtype": st.sampled_from(["<f8", "<i4", "|b1", "O", "V8", "<U3", "S999999999", "<f8,<f8", ">c16", "", "<f16"]),
    "shape": st.lists(st.integers(min_value=-3, max_value=2**62), max_size=4)})

replies = st.fixed_dictionaries({"ok": st.sampled_from([True, False, 1, "yes", None])}, optional={
    "value": json_values | arrays, "args": json_values, "output": json_values, "error": json_values,
    "timeout": json_values, "replies": st.lists(json_values, max_size=3)})

frames = st.one_of(
    st.binary(max_size=200),  # raw garbage
    replies.map(lambda r: frame(json.dumps(r).encode())),
    json_values.map(lambda v: frame(json.dumps(v).encode())),
    st.integers(min_value=0, max_value=2**32 - 1).map(lambda n: struct.pack(">I", n) + b"{}"),  # lying sizes
    st.integers(min_value=1, max_value=50_000).map(
        lambda n: frame(b'{"ok":true,"value":' + b"[" * n + b"]" * n + b"}")),  # deep nesting
    st.binary(max_size=50).map(lambda b: frame(b"\xff\xfe" + b)),  # not UTF-8
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.lists(frames, min_size=0, max_size=3).map(b"".join), then_silent=st.booleans(),
       batch=st.booleans())
def test_any_reply_costs_at_most_its_own_request_and_never_raises_or_hangs(data, then_silent, batch):
    client = WorkerClient(Limits(call_seconds=TIMEOUT))
    client.proc = FakeWorker(data, then_silent)
    started = time.monotonic()
    if batch:
        reply = client.batch([{"op": "get", "target": {"name": "f", "version": 0}, "path": []}] * 2)
    else:
        reply = client.call({"name": "f", "version": 0}, (np.ones(2),))
    assert time.monotonic() - started < wall_seconds(TIMEOUT) + 1.0 + 1.0
    assert reply.status in ("ok", "error", "timeout", "crash")
    if reply.status != "ok":
        assert reply.error is not None and isinstance(reply.error.summary(), str)
    for sub in reply.replies:
        assert sub.status in ("ok", "error", "timeout")
        assert not sub.replies  # batches do not nest


@settings(max_examples=300, deadline=None)
@given(value=json_values | arrays)
def test_decoding_any_wire_value_gives_plain_data_or_a_value_error(value):
    try:
        decoded = wire.decode(value)
    except (ValueError, TypeError):
        return
    if isinstance(decoded, np.ndarray):
        assert decoded.dtype.kind in "biufc" and decoded.nbytes <= wire.MAX_ARRAY_BYTES


@settings(max_examples=300, deadline=None)
@given(raw=json_values)
def test_any_load_record_is_validated_field_by_field(raw):
    keys = statement_keys([{"id": "0", "source": "x = 1\ndef f():\n    pass\n"}], Limits())
    record = {"ok": True, "statements": raw, "definitions": {"written": raw, "imported": raw}} \
        if not isinstance(raw, dict) else raw
    try:
        checked = load_record(record, keys)
    except BadReply:
        return
    for statement in checked["statements"]:
        assert (statement["cell"], statement["index"]) in keys
        assert isinstance(statement["line"], int)
    for item in checked["definitions"]["written"]:
        assert item["name"].isidentifier() and item["kind"] in ("class", "function")


shapes = st.fixed_dictionaries({
    "$shape": st.lists(st.integers(min_value=-3, max_value=2**62), max_size=40) | json_values,
    "dtype": st.sampled_from(["<f8", "<i4", "|b1", "O", "V8", "<U3", "<f8,<f8", ">c16", "", "<f16"]) | json_values},
    optional={"$nd": json_values, "x": json_values})


@settings(max_examples=300, deadline=None)
@given(value=shapes | json_values | arrays)
def test_a_shape_probe_reply_gives_a_bounded_stand_in_plain_data_or_a_value_error(value):
    try:
        decoded = wire.shape_from_wire(value)
    except (ValueError, TypeError):
        return
    if isinstance(decoded, np.ndarray):
        assert decoded.dtype.kind in "biufc" and decoded.nbytes <= wire.MAX_ARRAY_BYTES


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=shapes | json_values, then_silent=st.booleans())
def test_any_reply_to_a_shape_probe_costs_at_most_that_probe(value, then_silent):
    client = WorkerClient(Limits(call_seconds=TIMEOUT))
    client.proc = FakeWorker(frame(json.dumps({"ok": True, "value": value}).encode()), then_silent)
    reply = client.request({"op": "get", "target": {"handle": 0}, "path": ["W1"], "shape_only": True},
                           decode=wire.shape_from_wire)
    assert reply.status in ("ok", "error", "timeout", "crash")
    if reply.status == "ok" and isinstance(reply.value, np.ndarray):
        assert reply.value.nbytes <= wire.MAX_ARRAY_BYTES and not reply.value.flags.writeable


descend_frames = st.lists(st.one_of(
    st.fixed_dictionaries({"ok": st.just(True), "value": st.none(), "more": st.booleans() | json_values,
                           "replies": st.lists(replies, max_size=6)}),
    replies), max_size=25).map(lambda frames: b"".join(frame(json.dumps(f).encode()) for f in frames))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=descend_frames | frames, then_silent=st.booleans(), steps=st.integers(min_value=1, max_value=20))
def test_any_answer_to_the_training_steps_yields_at_most_a_reply_a_step_and_never_raises(data, then_silent, steps):
    client = WorkerClient(Limits(call_seconds=TIMEOUT))
    client.proc = FakeWorker(data, then_silent)
    started = time.monotonic()
    descent = client.descend(1, [None, None], {"W1": np.ones((2, 2)), "b1": np.zeros(2)},
                             {"op": "call", "target": {"handle": 1, "method": "gradient"}}, 2.0, steps)
    try:
        got = list(descent)
    finally:
        descent.close()
    assert 1 <= len(got) <= steps
    assert all(r.status in ("ok", "error", "timeout", "crash") for r in got)
    assert time.monotonic() - started < steps * (wall_seconds(TIMEOUT) + 1.0) + 1.0


def test_an_array_whose_shape_asks_for_terabytes_is_refused_before_any_allocation():
    huge = {"$nd": "", "dtype": "<f8", "shape": [2**20, 2**20, 2**20]}
    try:
        wire.decode(huge)
    except ValueError as exc:
        assert "shape" in str(exc)
    else:
        raise AssertionError("accepted")


def test_forged_progress_cannot_extend_the_load_past_its_one_deadline():
    """A worker that sends the same progress message forever is stopped at once, not waited on."""
    client = WorkerClient(Limits(statement_seconds=0.05, startup_seconds=0.2))
    client.keys = statement_keys([{"id": "0", "source": "x = 1\ny = 2\n", "plan": ["run", "run"]}], client.limits)
    progress = frame(json.dumps({"progress": ["0", 1]}).encode())
    client.proc = FakeWorker(frame(b'{"ready": true, "isolation": {"seccomp": ""}}') + progress + progress * 50,
                             then_silent=True)
    client.start = lambda: None  # the fake is already "started"
    client._await_ready = lambda: None
    client.load_request = {"op": "load", "home": "work"}
    client.proc.read  # the ready frame is consumed by the real _read below
    client._read(1.0)
    started = time.monotonic()
    try:
        client._replay(time.monotonic() + 5.0)
    except Exception as exc:
        assert type(exc).__name__ == "WorkerDied" and "forged" in str(exc)
    else:
        raise AssertionError("a repeated progress message was accepted")
    assert time.monotonic() - started < 1.0


load_frames = st.one_of(
    st.fixed_dictionaries({"progress": st.one_of(st.lists(json_values, max_size=3),
                                                 st.tuples(st.sampled_from(["0", "1", 0]), st.integers(-1, 3)).map(list))}),
    st.fixed_dictionaries({"ok": st.sampled_from([True, False, None])}, optional={
        "statements": st.lists(st.fixed_dictionaries({}, optional={
            "cell": st.sampled_from(["0", "1", 0, None]), "index": st.integers(-2, 4) | st.floats(),
            "line": st.integers(-1, 5) | st.text(max_size=2), "status": st.sampled_from(["ok", "killed", "??", 3]),
            "error": json_values}), max_size=4),
        "definitions": json_values}),
    json_values,
).map(lambda m: frame(json.dumps(m).encode()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(load_frames, max_size=5), then_silent=st.booleans())
def test_any_sequence_of_load_messages_ends_in_a_checked_record_or_a_dead_worker(frames, then_silent):
    from grader.worker.client import WorkerDied, WorkerTimeout
    client = WorkerClient(Limits(statement_seconds=0.02, import_seconds=0.02, startup_seconds=0.05))
    client.keys = statement_keys([{"id": "0", "source": "x = 1\ny = 2\n", "plan": ["run", "run"]},
                                  {"id": "1", "source": "z = 3\n", "plan": ["run"]}], client.limits)
    client.proc = FakeWorker(b"".join(frames), then_silent)
    client.load_request = {"op": "load", "home": "work"}
    started = time.monotonic()
    try:
        record = client._replay(time.monotonic() + 0.5)
    except (WorkerDied, WorkerTimeout):
        assert time.monotonic() - started < 1.5
        return
    assert all((s["cell"], s["index"]) in client.keys or s["status"] == "syntax-error" for s in record["statements"])
    assert set(record["definitions"]) == {"written", "imported", "modules", "broken"}
