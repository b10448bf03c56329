"""Random, truncated, mutated and hostile datagrams at a running server, one at a time.

Bounded: :data:`N_DATAGRAMS` datagrams from a seeded generator. After each one the test
asks the server a question only it can answer in order (a cancel of a unique id) and
checks that the datagram got its own reply or a log line from the receive loop before
that answer came. No datagram may cause ``INTERNAL`` or a traceback; afterwards the
server still answers ``/diffjam/status`` and a valid request correctly.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from tests.bridge.conftest import WAIT_S, FakePipeline, OscClient, encode, start_server
from wire.protocol import ErrorCode

N_DATAGRAMS = 10_000
SEED = 14

VALID = [
    encode("/diffjam/status"),
    encode("/diffjam/hello", "i", 9000),
    encode("/diffjam/hello"),
    encode("/diffjam/settings/get"),
    encode("/diffjam/settings", "s", '{"steps": 2, "variations": 2}'),
    encode("/diffjam/notes", "siiffii", "fz", 0, 1, 0.0, 1.0, 60, 90),
    encode("/diffjam/notes", "siiffiiffii", "fz2", 1, 2, 0.0, 1.0, 60, 90, 2.0, 0.5, 64, 80),
    encode("/diffjam/infill", "ss", "fz", '{"bars": [1, 1], "notes_chunks": 1, "steps": 1}'),
    encode("/diffjam/generate", "ss", "g", '{"n_bars": 1, "steps": 1, "write_midi": false}'),
    encode("/diffjam/accompany", "ss", "a", '{"n_bars": 2, "chords": "C G", "steps": 1}'),
    encode("/diffjam/cancel", "s", "g"),
    encode("/diffjam/jam/ports"),
    encode("/diffjam/jam/start", "s", '{"clock": "midi", "context_bars": 2}'),
    encode("/diffjam/jam/stop"),
]

HUGE_JSON = [
    '{"tempo": 1' + "0" * 400 + "}",
    '{"steps": ' + "9" * 5000 + "}",
    '{"seed": ' + str(2**64) + "}",
    '{"guidance": NaN}',
    '{"guidance": Infinity}',
    '{"n_bars": -1' + "0" * 30 + "}",
    '{"bars": [1, ' + "9" * 50 + "]}",
    '{"chords": "' + "C" * 5000 + '"}',
    '{"key": "' + "#" * 900 + '"}',
    '{"notes_chunks": ' + "9" * 20 + "}",
    '{"clip_beats": 1e308, "bars": [1, 1]}',
    '{"time_signature": [' + "9" * 100 + ", 4]}",
    '{"tempo": 3.5}',
    "[" * 20_000 + "]" * 20_000,
    '{"' + "k" * 30_000 + '": 1}',
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if choice < 0.4 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif choice < 0.6 and buf:
            del buf[rng.randrange(len(buf)):]
        elif choice < 0.8:
            pos = rng.randrange(len(buf) + 1)
            buf[pos:pos] = rng.randbytes(rng.choice((1, 4, 8)))
        else:
            buf += rng.randbytes(rng.randrange(16))
    return bytes(buf)


def bundle(rng: random.Random, parts: list[bytes], *, honest: float = 0.8) -> bytes:
    body = b"".join(
        struct.pack(">i", len(p) if rng.random() < honest else rng.randrange(-8, 99)) + p
        for p in parts)
    return b"#bundle\x00" + rng.randbytes(8) + body


def huge(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        address = rng.choice(("/diffjam/generate", "/diffjam/infill", "/diffjam/accompany"))
        return encode(address, "ss", f"h{rng.randrange(99)}", rng.choice(HUGE_JSON))
    if kind == 1:
        return encode(rng.choice(("/diffjam/settings", "/diffjam/jam/start")), "s",
                      rng.choice(HUGE_JSON))
    if kind == 2:  # extreme numbers in a notes chunk
        values = (float("nan"), float("inf"), -float("inf"), 3.4e38, -1.0, 0.0)
        ints = (-(2**31), 2**31 - 1, 0, 128, -1)
        return encode("/diffjam/notes", "siiffii", "n", rng.choice(ints), rng.choice(ints),
                      rng.choice(values), rng.choice(values), rng.choice(ints),
                      rng.choice(ints))
    if kind == 3:  # very long address or request id
        if rng.random() < 0.5:
            return encode("/" + "x" * rng.randrange(100, 60_000))
        return encode("/diffjam/cancel", "s", "r" * rng.randrange(65, 40_000))
    if kind == 4:  # tags python-osc decodes that no address takes
        tags, args = rng.choice((("hd", (2**62, 1e300)), ("sb", ("x", b"\x00" * 9)),
                                 ("TF", (True, False)), ("sd", ("x", 2.5))))
        return encode("/diffjam/generate", tags, *args)
    return bundle(rng, [], honest=1.0) if rng.random() < 0.5 else bundle(
        rng, [bundle(rng, [], honest=1.0)], honest=1.0)  # empty bundles


def datagram(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.10:
        return rng.randbytes(rng.randrange(0, 200))
    if kind < 0.15:
        valid = rng.choice(VALID)
        return valid[: rng.randrange(len(valid))]  # truncated
    if kind < 0.60:
        return mutate(rng, rng.choice(VALID))
    if kind < 0.70:
        return bundle(rng, [rng.choice(VALID) for _ in range(rng.randrange(1, 4))])
    if kind < 0.75:
        return mutate(rng, bundle(rng, [rng.choice(VALID)]))
    if kind < 0.90:
        return huge(rng)
    return rng.choice(VALID)


class ReceiveLoopLog(logging.Handler):
    """Counts the log records of one thread (the server's receive loop), leaving out the
    expiry of incomplete requests (it belongs to no datagram), and keeps the errors."""

    def __init__(self, thread_id: int | None) -> None:
        super().__init__(logging.DEBUG)
        self.thread_id = thread_id
        self.count = 0
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            self.errors.append(message)
        if record.thread == self.thread_id and "incomplete after" not in message:
            self.count += 1


@pytest.fixture
def fuzz_target(tmp_path) -> Iterator[tuple[OscClient, ReceiveLoopLog]]:
    state, thread = start_server(FakePipeline(), tmp_path / "out", queue=2, timeout_s=30.0)
    handler = ReceiveLoopLog(thread.ident)
    logger = logging.getLogger("bridge")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    osc = state.client()
    osc.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2**20)
    try:
        yield osc, handler
    finally:
        osc.close()
        state.server.shutdown()
        thread.join(WAIT_S)
        logger.removeHandler(handler)
        logger.setLevel(level)


# Replies the receive loop sends at once, without a log line. Every error it sends comes
# with a log line; the worker's and the jam's replies come later, from other threads.
DIRECT = frozenset(("/diffjam/status", "/diffjam/settings", "/diffjam/accepted"))


@pytest.mark.timeout(600)
def test_every_fuzzed_datagram_is_answered_or_logged(fuzz_target) -> None:
    osc, handler = fuzz_target
    rng = random.Random(SEED)
    silent: list[bytes] = []
    internal: list[list] = []
    for k in range(N_DATAGRAMS):
        data = datagram(rng)
        logged = handler.count
        osc.send_raw(data)
        osc.send("/diffjam/hello")  # undo a reply port the datagram may have set: one status
        mark = f"mark-{k}"
        osc.send("/diffjam/cancel", "s", mark)  # one UNKNOWN_REQUEST and one log line
        direct = 0
        while True:
            address, args = osc.recv()
            if address == "/diffjam/error" and args[0] == mark:
                break
            if address == "/diffjam/error" and args[1] == ErrorCode.INTERNAL:
                internal.append(args)
            direct += address in DIRECT
        answered = direct - 1  # less the hello's status
        lines = handler.count - logged - 1  # less the mark's refusal
        if answered < 1 and lines < 1:
            silent.append(data)
    assert internal == []
    assert handler.errors == []  # no traceback, no "failed"
    assert silent == [], f"{len(silent)} datagrams got neither a reply nor a log line: " \
        f"{[d[:60] for d in silent[:5]]}"
    # The server still serves: status, then a valid request with its one outcome.
    osc.sock.settimeout(0.5)
    try:
        while True:
            osc.recv()  # replies of the fuzzed requests still running
    except socket.timeout:
        pass
    osc.sock.settimeout(WAIT_S)
    for _ in range(1000):  # let fuzzed requests still queued finish (no BUSY for ours)
        osc.send("/diffjam/status")
        status = json.loads(osc.until("/diffjam/status")[-1][1][0])
        if status["queue"] == 0 and not status["busy"]:
            break
    osc.send("/diffjam/infill", "ss", "after-fuzz", json.dumps(
        {"bars": [1, 1], "clip_beats": 4, "steps": 2, "variations": 1, "write_midi": False}))
    final = osc.until("/diffjam/done", "after-fuzz")
    assert [args for a, args in final if a == "/diffjam/error" and args[0] == "after-fuzz"] == []
    done = json.loads(final[-1][1][1])
    assert (done["bars"], done["notes"]) == ([1, 1], [1])


def test_every_malformed_datagram_is_answered(running, client: OscClient) -> None:
    rng = random.Random(5)
    replies = []
    for _ in range(6):  # batches small enough for the client's socket buffer
        for _ in range(50):
            client.send_raw(b"\x00" + rng.randbytes(rng.randrange(0, 64)))  # never OSC
        replies += [client.recv() for _ in range(50)]
    assert len(replies) == 300
    client.sock.settimeout(0.2)
    with pytest.raises(socket.timeout):
        client.recv()  # and nothing more
    assert {(address, args[1]) for address, args in replies} == {("/diffjam/error", 1)}


def test_datagrams_from_many_threads_at_once(running) -> None:
    """Four clients fuzz at the same time; each still gets an answer to its own marker."""
    failures: list[str] = []

    def fuzz(seed: int) -> None:
        rng = random.Random(seed)
        osc = running.client()
        try:
            for k in range(100):
                osc.send_raw(datagram(rng))
                osc.send("/diffjam/hello")
                osc.send("/diffjam/cancel", "s", f"m{seed}-{k}")
                while True:
                    address, args = osc.recv()
                    if address == "/diffjam/error" and args[0] == f"m{seed}-{k}":
                        break
        except (socket.timeout, OSError) as err:
            failures.append(f"client {seed}: {err}")
        finally:
            osc.close()

    threads = [threading.Thread(target=fuzz, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(4 * WAIT_S)
    assert failures == []
