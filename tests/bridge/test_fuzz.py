"""Random and mutated datagrams at a running server: it answers, logs, and keeps serving.

Bounded: a fixed number of datagrams from a seeded generator. Every datagram that is
refused must come back as exactly one ``/diffjam/error``; afterwards the server still
answers ``/diffjam/status`` and a valid request correctly.
"""

from __future__ import annotations

import json
import random
import socket
import struct

from pythonosc.osc_message import OscMessage

from tests.bridge.conftest import OscClient, encode

N_DATAGRAMS = 3000

VALID = [
    encode("/diffjam/status"),
    encode("/diffjam/hello", "i", 9000),
    encode("/diffjam/settings/get"),
    encode("/diffjam/notes", "siiffii", "fz", 0, 1, 0.0, 1.0, 60, 90),
    encode("/diffjam/infill", "ss", "fz", '{"bars": [1, 1], "notes_chunks": 1}'),
    encode("/diffjam/generate", "ss", "g", '{"n_bars": 1, "steps": 1, "write_midi": false}'),
    encode("/diffjam/cancel", "s", "g"),
    encode("/diffjam/jam/ports"),
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


def bundle(rng: random.Random, parts: list[bytes]) -> bytes:
    body = b"".join(struct.pack(">i", len(p) if rng.random() < 0.8 else rng.randrange(-8, 99))
                    + p for p in parts)
    return b"#bundle\x00" + rng.randbytes(8) + body


def datagram(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.15:
        return rng.randbytes(rng.randrange(0, 200))
    if kind < 0.8:
        return mutate(rng, rng.choice(VALID))
    if kind < 0.9:
        return bundle(rng, [rng.choice(VALID) for _ in range(rng.randrange(1, 4))])
    return mutate(rng, bundle(rng, [rng.choice(VALID)]))


def drain(client: OscClient) -> list[tuple[str, list]]:
    """Every reply until the socket stays quiet for a moment."""
    client.sock.settimeout(0.2)
    got = []
    try:
        while True:
            data, _ = client.sock.recvfrom(65535)
            message = OscMessage(data)
            got.append((message.address, list(message.params)))
    except socket.timeout:
        return got


def test_server_survives_fuzzing(running, client: OscClient) -> None:
    rng = random.Random(909)
    for k in range(N_DATAGRAMS):
        client.send_raw(datagram(rng))
        if k % 100 == 99:
            replies = drain(client)  # keep the socket buffer from overflowing
            assert all(address.startswith("/diffjam/") for address, _ in replies)
    replies = drain(client)
    client.sock.settimeout(10.0)
    # Each error reply is well formed.
    for address, args in replies:
        if address == "/diffjam/error":
            assert isinstance(args[0], str) and isinstance(args[1], int) and args[3]
    client.send("/diffjam/hello")  # undo any reply port a mutated hello may have set
    assert client.until("/diffjam/status")[-1][0] == "/diffjam/status"
    for _ in range(1000):  # let fuzzed requests still queued finish (no BUSY for ours)
        client.send("/diffjam/status")
        status = json.loads(client.until("/diffjam/status")[-1][1][0])
        if status["queue"] == 0 and not status["busy"]:
            break
    client.send("/diffjam/infill", "ss", "after-fuzz", json.dumps(
        {"bars": [1, 1], "clip_beats": 4, "steps": 2, "write_midi": False}))
    final = client.until("/diffjam/done", "after-fuzz")
    done = json.loads(final[-1][1][1])
    assert done["bars"] == [1, 1]
    assert done["notes"] == [1]


def test_every_malformed_datagram_is_answered(running, client: OscClient) -> None:
    rng = random.Random(5)
    replies = []
    for _ in range(6):  # batches small enough for the client's socket buffer
        for _ in range(50):
            client.send_raw(b"\x00" + rng.randbytes(rng.randrange(0, 64)))  # never OSC
        replies += [client.recv() for _ in range(50)]
    assert len(replies) == 300
    assert drain(client) == []  # and nothing more
    assert {(address, args[1]) for address, args in replies} == {("/diffjam/error", 1)}
