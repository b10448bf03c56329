"""wire.protocol, the client side: encoding typed messages, chunking, decoding the
engine's replies, reassembling results; and the round trip through the engine's parser."""

from __future__ import annotations

import json

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from wire.limits import LIMITS, Limits, Range
from wire.protocol import (
    TASKS,
    Accepted,
    BeatNote,
    Cancel,
    Done,
    EngineError,
    ErrorCode,
    Hello,
    JamPortList,
    JamPorts,
    JamStart,
    JamState,
    NotesChunk,
    Reply,
    ReplyError,
    RequestMessage,
    RequestParams,
    ResultAssembler,
    ResultChunk,
    SettingsReply,
    SettingsUpdate,
    Status,
    decode,
    encode_message,
    encode_request,
    parse_message,
)


def message(address: str, *args: tuple[str, object]) -> bytes:
    builder = OscMessageBuilder(address=address)
    for tag, value in args:
        builder.add_arg(value, tag)
    return builder.build().dgram


def tags(datagram: bytes) -> bytes:
    start = datagram.index(b",")
    return datagram[start : datagram.index(b"\0", start)]


def parsed(datagram: bytes) -> object:
    """What the engine makes of a client datagram."""
    osc = OscMessage(datagram)
    osc_tags = tags(datagram)[1:].decode()
    return parse_message(osc.address, osc_tags, list(osc.params))


def test_encode_takes_the_tags_of_the_spec() -> None:
    assert tags(encode_message(Hello(9001))) == b",i"
    assert tags(encode_message(Hello(None))) == b","
    chunk = encode_message(NotesChunk("r", 0, 1, (BeatNote(1, 2, 60, 90),)))
    assert tags(chunk) == b",siiffii"  # whole-valued starts still go as floats
    assert OscMessage(chunk).params == ["r", 0, 1, 1.0, 2.0, 60, 90]


def test_encode_refuses_booleans() -> None:
    with pytest.raises(TypeError, match="booleans inside JSON"):
        Reply("/diffjam/accepted", ("r", True)).encode()


def test_request_is_chunked_by_128_notes() -> None:
    notes = [BeatNote(start=i * 0.25, duration=0.25, pitch=60 + i % 12, velocity=90)
             for i in range(300)]  # fmt: skip
    datagrams = encode_request("infill", "r1", RequestParams(bars=(5, 8)), notes)
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
    (only,) = encode_request("generate", "g", RequestParams(n_bars=4))
    assert json.loads(OscMessage(only).params[1]) == {"n_bars": 4, "notes_chunks": 0}


def test_request_validates_task_and_id() -> None:
    with pytest.raises(ValueError, match="unknown task 'jam'"):
        encode_request("jam", "r", RequestParams())
    with pytest.raises(ValueError, match="1 to 64 printable characters"):
        encode_request("generate", "x" * 65, RequestParams())


def test_the_engine_reads_back_what_a_client_encodes() -> None:
    notes = tuple(BeatNote(i * 0.5, 0.5, 30 + i % 60, 90) for i in range(130))
    params = RequestParams(bars=(2, 3), clip_beats=16.0, tempo=97.0, chords="C G | Am F",
                           key="A minor", guidance=20.0, in_key=False, steps=1000, seed=2**63 - 1,
                           variations=8, write_midi=False, model="mine", sampler="ddpm",
                           below_melody=True)
    *chunks, request = [parsed(d) for d in encode_request("infill", "r", params, notes)]
    assert request == RequestMessage("infill", "r", RequestParams(
        notes_chunks=2, bars=(2, 3), clip_beats=16.0, tempo=97.0, chords="C G | Am F",
        key="A minor", guidance=20.0, in_key=False, steps=1000, seed=2**63 - 1, variations=8,
        write_midi=False, model="mine", sampler="ddpm", below_melody=True))  # fmt: skip
    assert tuple(n for c in chunks for n in c.notes) == notes
    assert parsed(encode_message(Cancel("r"))) == Cancel("r")
    update = SettingsUpdate.of(guidance=3.5, key=None, steps=12)
    assert parsed(encode_message(update)) == update
    start = JamStart(clock="midi", tempo=90.0, steps=4, context_bars=2)
    assert parsed(encode_message(start)) == start
    on_jack = JamStart(midi_system="jack")
    assert "midi_system" not in start.to_json() and on_jack.to_json()["midi_system"] == "jack"
    assert parsed(encode_message(on_jack)) == on_jack
    for ports in (JamPorts(), JamPorts("jack")):
        assert parsed(encode_message(ports)) == ports
    assert tags(encode_message(JamPorts())) == b","  # an older engine reads it as before


def test_inline_notes_round_trip() -> None:
    notes = (BeatNote(0.0, 1.0, 60, 90), BeatNote(1.0, 0.5, 64, 80))
    (only,) = encode_request("accompany", "r", RequestParams(notes=notes, chords="C"))
    assert parsed(only).params.notes == notes


def test_settings_update_is_checked_like_the_engine_checks_it() -> None:
    with pytest.raises(Exception, match="'guidance' must be in 0..20, got 21"):
        SettingsUpdate.of(guidance=21)
    with pytest.raises(Exception, match="unknown key"):
        SettingsUpdate.of(tempo=120)


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
    assert chunk == [ResultChunk("r", 1, 0, 2, (BeatNote(4.0, 0.5, 64, 100),))]
    (done,) = decode(message("/diffjam/done", ("s", "r"), ("s", json.dumps(
        {"variations": 2, "bars": [5, 8], "latency_ms": 40}))))  # fmt: skip
    assert isinstance(done, Done) and done.bars == (5, 8) and done.latency_ms == 40.0
    assert done.key is None  # an engine that does not say
    (done,) = decode(message("/diffjam/done", ("s", "r"), ("s", '{"key": "F# minor"}')))
    assert isinstance(done, Done) and done.key == "F# minor"
    assert decode(
        message("/diffjam/error", ("s", ""), ("i", 6), ("s", "BAD_CHORD"), ("s", "no 'H7'"))
    ) == [EngineError("", ErrorCode.BAD_CHORD, "no 'H7'")]
    assert decode(message("/diffjam/settings", ("s", '{"steps": 12}'))) == [
        SettingsReply({"steps": 12})
    ]
    assert decode(message("/diffjam/jam/state", ("s", json.dumps(
        {"running": True, "bar": 3, "chord": "Am", "tempo": 100, "clock": "internal",
         "error": None})))) == [JamState(True, 3, "Am", 100.0, "internal", None)]  # fmt: skip
    assert decode(message("/diffjam/jam/ports", ("s", '{"inputs": ["a"], "outputs": []}'))) == [
        JamPortList(("a",), ())
    ]
    assert decode(message("/diffjam/jam/ports", ("s", json.dumps(
        {"inputs": [], "outputs": ["b"], "midi_system": "jack"})))) == [
        JamPortList((), ("b",), "jack")]  # fmt: skip


def test_status_carries_limits_and_capabilities() -> None:
    narrow = Limits(guidance=Range(0.0, 12.0), max_bars=64)
    status = Status(1, "0.2", "m", "cpu", 0, 8, False, None, ("m",), narrow, TASKS,
                    ("bars", "form"))
    (back,) = decode(Reply("/diffjam/status", (json.dumps(status.to_json()),)).encode())
    assert back == status
    assert back.limits.guidance.high == 12.0 and back.limits.steps == LIMITS.steps


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
            "takes type tags 'siii' then 'ffii' x k",
        ),
        (message("/diffjam/error", ("s", ""), ("i", 99), ("s", "X"), ("s", "")),
         "99 is not a valid ErrorCode"),
    ],
)
def test_decode_errors_name_the_problem(datagram: bytes, match: str) -> None:
    with pytest.raises(ReplyError, match=match):
        decode(datagram)


def chunk(variation: int, index: int, count: int, *pitches: int) -> ResultChunk:
    notes = tuple(BeatNote(float(i + 4 * index), 1.0, p, 80) for i, p in enumerate(pitches))
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
    with pytest.raises(ReplyError, match="duplicate result chunk 0"):
        assembler.add(chunk(0, 0, 2, 60))
    with pytest.raises(ReplyError, match="variation 1 arrived incomplete"):
        assembler.finish("r", n_variations=1)


def test_a_song_request_round_trips_and_its_replies_decode() -> None:
    from wire.form import Phrase
    from wire.protocol import SONG_PARTS, ChordLabel, Progress, SongInfo

    params = RequestParams(form="i4A8B8A8o4", key="A minor", tempo=90.0, seed=5, steps=30,
                           repeat_strength=0.9, use_form=False, guidance=2.0, quality="high",
                           chords="Am F")
    (only,) = encode_request("song", "s", params)
    assert parsed(only) == RequestMessage("song", "s", params)
    assert decode(Reply("/diffjam/progress", ("s", 0.4, "lead sheet")).encode()) == [
        Progress("s", pytest.approx(0.4), "lead sheet")]
    assert tags(Reply("/diffjam/progress", ("s", 0.4)).encode()) == b",sf"
    song = SongInfo(phrases=(Phrase("i", 1), Phrase("A", 2)),
                    chords=(ChordLabel(0.0, 4.0, "Am"), ChordLabel(4.0, 8.0, "N")),
                    seconds={"lead sheet": 1.5, "accompaniment": 2.0, "total": 3.5}, seed=5)
    (done,) = decode(Reply("/diffjam/done", ("s", json.dumps(
        {"variations": 3, "bars": [1, 3], **song.to_json()}))).encode())
    assert isinstance(done, Done) and done.song == song and song.parts == SONG_PARTS
    assert Done("r", {"variations": 1}).song is None  # a clip task's
    with pytest.raises(ReplyError, match="song in done is malformed"):
        _ = Done("s", {"parts": ["melody"], "phrases": "A8"}).song


def test_status_without_capabilities_means_the_clip_tasks_only() -> None:
    from wire.protocol import CLIP_TASKS

    status = Status.from_json({"protocol": 1})
    assert status.tasks == CLIP_TASKS and not status.writes_songs
    songs = Status(1, "v", "m", "cpu", 0, 8, False, None, tasks=TASKS, lead_sheet=True)
    assert Status.from_json(songs.to_json()) == songs and songs.writes_songs
