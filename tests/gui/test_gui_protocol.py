"""The panel's side of the OSC protocol: encoding, chunking, decoding, reassembly."""

from __future__ import annotations

import json

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from gui.clip import ClipNote
from gui.protocol import (
    Accepted,
    Done,
    EngineError,
    JamPorts,
    JamState,
    ProtocolError,
    ResultAssembler,
    ResultChunk,
    SettingsReply,
    Status,
    decode,
    encode,
    request_datagrams,
)


def message(address: str, *args: tuple[str, object]) -> bytes:
    builder = OscMessageBuilder(address=address)
    for tag, value in args:
        builder.add_arg(value, tag)
    return builder.build().dgram


def test_encode_uses_int_float_string_tags() -> None:
    parsed = OscMessage(encode("/diffjam/x", "a", 3, 0.5))
    assert parsed.address == "/diffjam/x"
    assert parsed.params == ["a", 3, 0.5]
    assert parsed.dgram[parsed.dgram.index(b",") :].startswith(b",sif")


def test_encode_refuses_booleans() -> None:
    with pytest.raises(TypeError, match="booleans inside JSON"):
        encode("/diffjam/x", True)


def test_request_is_chunked_by_128_notes() -> None:
    notes = [ClipNote(start=i * 0.25, duration=0.25, pitch=60 + i % 12, velocity=90)
             for i in range(300)]  # fmt: skip
    datagrams = request_datagrams("infill", "r1", {"bars": [5, 8]}, notes)
    assert len(datagrams) == 4
    chunks = [OscMessage(d) for d in datagrams[:3]]
    assert [c.address for c in chunks] == ["/diffjam/notes"] * 3
    assert [c.params[:3] for c in chunks] == [["r1", 0, 3], ["r1", 1, 3], ["r1", 2, 3]]
    assert [(len(c.params) - 3) // 4 for c in chunks] == [128, 128, 44]
    assert chunks[1].params[3:7] == [32.0, 0.25, 60 + 128 % 12, 90]
    params = OscMessage(datagrams[3])
    assert params.address == "/diffjam/infill"
    assert params.params[0] == "r1"
    assert json.loads(params.params[1]) == {"bars": [5, 8], "notes_chunks": 3}


def test_request_without_notes_has_no_chunks() -> None:
    (only,) = request_datagrams("generate", "g", {"n_bars": 4}, [])
    assert json.loads(OscMessage(only).params[1]) == {"n_bars": 4, "notes_chunks": 0}


def test_request_validates_task_and_id() -> None:
    with pytest.raises(ValueError, match="unknown task 'song'"):
        request_datagrams("song", "r", {}, [])
    with pytest.raises(ValueError, match="1 to 64 characters"):
        request_datagrams("generate", "x" * 65, {}, [])


def test_decodes_every_reply() -> None:
    status = json.dumps({"protocol": 1, "version": "0.1", "model": "m", "device": "cuda:0",
                         "queue": 0, "queue_capacity": 8, "busy": False,
                         "last_latency_ms": 31.5})  # fmt: skip
    assert decode(message("/diffjam/status", ("s", status))) == [
        Status(1, "0.1", "m", "cuda:0", 0, 8, False, 31.5)
    ]
    assert decode(message("/diffjam/accepted", ("s", "r"), ("i", 2))) == [Accepted("r", 2)]
    chunk = decode(message("/diffjam/result", ("s", "r"), ("i", 1), ("i", 0), ("i", 2),
                           ("f", 4.0), ("f", 0.5), ("i", 64), ("i", 100)))  # fmt: skip
    assert chunk == [ResultChunk("r", 1, 0, 2, (ClipNote(4.0, 0.5, 64, 100),))]
    (done,) = decode(message("/diffjam/done", ("s", "r"), ("s", json.dumps(
        {"variations": 2, "bars": [5, 8], "latency_ms": 40}))))  # fmt: skip
    assert isinstance(done, Done) and done.bars == (5, 8) and done.latency_ms == 40.0
    assert decode(
        message("/diffjam/error", ("s", ""), ("i", 6), ("s", "BAD_CHORD"), ("s", "no 'H7'"))
    ) == [EngineError("", 6, "BAD_CHORD", "no 'H7'")]
    assert decode(message("/diffjam/settings", ("s", '{"steps": 12}'))) == [
        SettingsReply({"steps": 12})
    ]
    assert decode(message("/diffjam/jam/state", ("s", json.dumps(
        {"running": True, "bar": 3, "chord": "Am", "tempo": 100, "clock": "internal",
         "error": None})))) == [JamState(True, 3, "Am", 100.0, "internal", None)]  # fmt: skip
    assert decode(message("/diffjam/jam/ports", ("s", '{"inputs": ["a"], "outputs": []}'))) == [
        JamPorts(("a",), ())
    ]


def test_decodes_bundles_in_order() -> None:
    bundle = OscBundleBuilder(IMMEDIATELY)
    bundle.add_content(OscMessage(message("/diffjam/accepted", ("s", "a"), ("i", 0))))
    bundle.add_content(OscMessage(message("/diffjam/progress", ("s", "a"), ("f", 0.5))))
    events = decode(bundle.build().dgram)
    assert [type(event).__name__ for event in events] == ["Accepted", "Progress"]


@pytest.mark.parametrize(
    ("datagram", "match"),
    [
        (b"not osc", "unreadable OSC datagram"),
        (message("/diffjam/nope"), "unexpected address /diffjam/nope"),
        (message("/diffjam/status", ("s", "[1]")), "expected a JSON object"),
        (message("/diffjam/status", ("s", "{}")), "missing key 'protocol'"),
        (message("/diffjam/result", ("s", "r"), ("i", 0), ("i", 3), ("i", 2)), "chunk 3 of 2"),
        (
            message("/diffjam/result", ("s", "r"), ("i", 0), ("i", 0), ("i", 1), ("f", 1.0)),
            "groups of 4",
        ),
    ],
)
def test_decode_errors_name_the_problem(datagram: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        decode(datagram)


def chunk(variation: int, index: int, count: int, *pitches: int) -> ResultChunk:
    notes = tuple(ClipNote(float(i + 4 * index), 1.0, p, 80) for i, p in enumerate(pitches))
    return ResultChunk("r", variation, index, count, notes)


def test_assembler_orders_chunks_and_variations() -> None:
    assembler = ResultAssembler()
    assembler.add(chunk(1, 0, 1))
    assembler.add(chunk(0, 1, 2, 67))
    assembler.add(chunk(0, 0, 2, 60, 64))
    first, second = assembler.finish("r", n_variations=2)
    assert [note.pitch for note in first] == [60, 64, 67]
    assert [note.start for note in first] == [0.0, 1.0, 4.0]
    assert second == ()


def test_assembler_reports_missing_and_duplicate_chunks() -> None:
    assembler = ResultAssembler()
    assembler.add(chunk(0, 0, 2, 60))
    with pytest.raises(ProtocolError, match="duplicate result chunk 0"):
        assembler.add(chunk(0, 0, 2, 60))
    with pytest.raises(ProtocolError, match="variation 1 arrived incomplete"):
        assembler.finish("r", n_variations=1)
