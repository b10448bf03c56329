"""wire.protocol (engine side) against docs/osc-protocol.md, and params validation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_message import OscMessage

from wire.protocol import (
    CLIENT_SPECS,
    ENGINE_SPECS,
    BeatNote,
    EngineSettings,
    ErrorCode,
    Hello,
    MessageSpec,
    NotesChunk,
    ProtocolError,
    Reply,
    RequestMessage,
    RequestParams,
    SettingsUpdate,
    error_reply,
    parse_message,
    parse_params,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "osc-protocol.md"


def doc_tables() -> dict[str, list[list[str]]]:
    """Markdown tables of the doc by the heading above them: rows of cell texts."""
    tables: dict[str, list[list[str]]] = {}
    heading = ""
    for line in DOC.read_text().splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("|") and not re.match(r"^\|\s*-", line):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            tables.setdefault(heading, []).append(cells)
    return {name: rows[1:] for name, rows in tables.items()}  # drop header rows


def spec_from_doc(cell: str) -> tuple[tuple[str, ...], str]:
    """'`sii` then `ffii`×k' -> (("sii",), "ffii"); '`` or `i`' -> (("", "i"), "")."""
    head, _, repeat = cell.partition(" then ")
    fixed = tuple(re.findall(r"`([^`]*)`", head.replace("``", "`\x00`")))
    fixed = tuple(tag.replace("\x00", "") for tag in fixed)
    repeats = re.findall(r"`([^`]*)`", repeat)
    return fixed, repeats[0] if repeats else ""


def addresses(rows: list[list[str]]) -> dict[str, tuple[tuple[str, ...], str]]:
    return {row[0].strip("`"): spec_from_doc(row[1]) for row in rows}


def test_doc_client_table_matches_specs() -> None:
    table = addresses(doc_tables()["Client → engine"])
    assert set(table) == set(CLIENT_SPECS)
    for address, (fixed, repeat) in table.items():
        assert (CLIENT_SPECS[address].fixed, CLIENT_SPECS[address].repeat) == (fixed, repeat)


def test_doc_engine_table_matches_specs() -> None:
    table = addresses(doc_tables()["Engine → client"])
    assert set(table) == set(ENGINE_SPECS)
    for address, (fixed, repeat) in table.items():
        assert (ENGINE_SPECS[address].fixed, ENGINE_SPECS[address].repeat) == (fixed, repeat)


def test_doc_error_codes_match_enum() -> None:
    rows = doc_tables()["Error codes"]
    assert [(int(row[0]), row[1].strip("`")) for row in rows] == [
        (code.value, code.name) for code in ErrorCode
    ]


def test_doc_params_table_matches_dataclass() -> None:
    keys = {row[0].strip("`") for row in doc_tables()["Request params (JSON object)"]}
    assert keys == set(RequestParams.__dataclass_fields__) | {"time_signature"}


def test_spec_matching() -> None:
    notes = MessageSpec("/x", ("sii",), "ffii")
    assert notes.matches("sii")
    assert notes.matches("sii" + "ffii" * 3)
    assert not notes.matches("siiffi")
    assert not notes.matches("si")
    hello = MessageSpec("/h", ("", "i"))
    assert hello.matches("") and hello.matches("i")
    assert not hello.matches("ii")


def test_reply_encodes_spec_tags() -> None:
    reply = Reply("/diffjam/result", ("r", 0, 0, 1, 1.0, 0.5, 60, 90))
    assert reply.tags() == "siiiffii"
    decoded = OscMessage(reply.encode())
    assert decoded.params == ["r", 0, 0, 1, 1.0, 0.5, 60, 90]
    error = OscMessage(error_reply("r", ErrorCode.BUSY, "full").encode())
    assert error.params == ["r", 11, "BUSY", "full"]
    with pytest.raises(ValueError, match="args for tags"):
        Reply("/diffjam/progress", ("r",)).encode()


def test_parse_notes_chunk() -> None:
    message = parse_message("/diffjam/notes", "siiffii", ["id", 0, 1, 0.5, 1.0, 60, 100])
    assert isinstance(message, NotesChunk)
    assert message.notes[0].start == 0.5
    assert message.notes[0].pitch == 60


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["id", 0, 1, -1.0, 1.0, 60, 100], ErrorCode.BAD_PARAMS, "before the clip start"),
        (["id", 0, 1, 0.0, 0.0, 60, 100], ErrorCode.BAD_PARAMS, "duration"),
        (["id", 0, 1, 0.0, float("nan"), 60, 100], ErrorCode.BAD_PARAMS, "finite"),
        (["id", 0, 1, 0.0, 1.0, 128, 100], ErrorCode.BAD_PARAMS, "pitch 128"),
        (["id", 0, 1, 0.0, 1.0, 60, 0], ErrorCode.BAD_PARAMS, "velocity 0"),
        (["id", 1, 1, 0.0, 1.0, 60, 1], ErrorCode.CHUNK, "chunk_index 1"),
        (["id", 0, 0], ErrorCode.CHUNK, "chunk_count 0"),
        (["id", 0, 391], ErrorCode.TOO_LARGE, "at most 20000 notes"),
        (["", 0, 1], ErrorCode.BAD_PARAMS, "request id"),
        (["x" * 65, 0, 1], ErrorCode.BAD_PARAMS, "request id"),
        (["a\nb", 0, 1], ErrorCode.BAD_PARAMS, "control characters"),
        (["id", 0, 1, 1000.0, 100.0, 60, 1], ErrorCode.TOO_LARGE, "256 bars"),
    ],
)
def test_bad_notes_chunks(args, code, text) -> None:
    tags = "sii" + "ffii" * ((len(args) - 3) // 4)
    with pytest.raises(ProtocolError, match=text) as info:
        parse_message("/diffjam/notes", tags, args)
    assert info.value.code == code


def test_too_many_notes_in_one_chunk() -> None:
    args = ["id", 0, 1] + [0.0, 1.0, 60, 90] * 129
    with pytest.raises(ProtocolError, match="at most 128") as info:
        parse_message("/diffjam/notes", "sii" + "ffii" * 129, args)
    assert info.value.code == ErrorCode.CHUNK


def test_params_defaults_and_values() -> None:
    assert parse_params("generate", "{}", request_id="r") == RequestParams()
    params = parse_params("infill", json.dumps({
        "bars": [5, 8], "clip_beats": 32, "chords": "C G", "key": "Am", "guidance": 3,
        "in_key": 0, "steps": 20, "seed": 7, "variations": 3, "write_midi": False,
        "time_signature": [4, 4], "tempo": 96.5, "notes_chunks": 2}), request_id="r")
    assert params == RequestParams(
        notes_chunks=2, clip_beats=32.0, bars=(5, 8), n_bars=8, tempo=96.5, chords="C G",
        key="Am", guidance=3.0, in_key=False, steps=20, seed=7, variations=3, write_midi=False)


@pytest.mark.parametrize(
    ("kind", "params", "code", "text"),
    [
        ("infill", "{}", ErrorCode.BAD_PARAMS, "infill needs 'bars'"),
        ("generate", '{"steps": 0}', ErrorCode.BAD_PARAMS, "'steps' must be in 1..1000"),
        ("generate", '{"steps": 2.5}', ErrorCode.BAD_PARAMS, "'steps' must be an integer"),
        ("generate", '{"variations": 9}', ErrorCode.BAD_PARAMS, "'variations'"),
        ("generate", '{"in_key": "yes"}', ErrorCode.BAD_PARAMS, "'in_key'"),
        ("generate", '{"guidance": NaN}', ErrorCode.BAD_PARAMS, "'guidance'"),
        ("generate", '{"n_bars": 0}', ErrorCode.BAD_PARAMS, "'n_bars'"),
        ("generate", '{"n_bars": 257}', ErrorCode.TOO_LARGE, "257 bars"),
        ("generate", '{"time_signature": [6, 8]}', ErrorCode.UNSUPPORTED_METER, "6/8"),
        ("generate", '{"time_signature": "4/4"}', ErrorCode.BAD_PARAMS, "time_signature"),
        ("infill", '{"bars": [0, 2]}', ErrorCode.BAD_BARS, "0-2"),
        ("infill", '{"bars": [1]}', ErrorCode.BAD_PARAMS, "'bars'"),
        ("infill", '{"bars": [1, 2], "clip_beats": 2000}', ErrorCode.TOO_LARGE, "256 bars"),
        ("generate", '{"Steps": 3}', ErrorCode.BAD_PARAMS, "unknown key"),
        ("generate", '"hi"', ErrorCode.BAD_JSON, "JSON object"),
        ("generate", '{"a":', ErrorCode.BAD_JSON, "not valid JSON"),
        ("generate", "[" * 100_000, ErrorCode.BAD_JSON, "not valid JSON"),
        ("generate", '{"tempo": 3.5}', ErrorCode.BAD_PARAMS, "'tempo' must be in 4..1000"),
        ("generate", '{"tempo": 1001}', ErrorCode.BAD_PARAMS, "'tempo'"),
        ("generate", '{"tempo": 1' + "0" * 400 + "}", ErrorCode.BAD_PARAMS, "'tempo'"),
        ("generate", '{"seed": ' + "9" * 5000 + "}", ErrorCode.BAD_JSON, "digits"),
        ("generate", '{"seed": 9223372036854775808}', ErrorCode.BAD_PARAMS, "'seed'"),
        ("generate", '{"notes_chunks": 391}', ErrorCode.TOO_LARGE, "at most 20000 notes"),
        ("accompany", '{"n_bars": 2}', ErrorCode.BAD_PARAMS, "chords' or melody"),
        ("infill", '{"bars": [1, 1], "notes": [[0, 1, 60]]}', ErrorCode.BAD_PARAMS,
         "'notes' item 0"),
        ("infill", '{"bars": [1, 1], "notes": [[0, 1, 60.5, 90]]}', ErrorCode.BAD_PARAMS,
         "integers"),
        ("infill", '{"bars": [1, 1], "notes": [[0, 0, 60, 90]]}', ErrorCode.BAD_PARAMS,
         "duration"),
        ("infill", '{"bars": [1, 1], "notes": [[1e400, 1, 60, 90]]}', ErrorCode.BAD_PARAMS,
         "finite"),
        ("infill", '{"bars": [1, 1], "notes": {"a": 1}}', ErrorCode.BAD_PARAMS, "list"),
        ("infill", '{"bars": [1, 1], "notes": [[0, 1, 60, 90]], "notes_chunks": 1}',
         ErrorCode.BAD_PARAMS, "not both"),
        ("infill", '{"bars": [1, 1], "notes": [' + ",".join(["[0,1,60,90]"] * 20_001) + "]}",
         ErrorCode.TOO_LARGE, "20000"),
    ],
)
def test_bad_params(kind, params, code, text) -> None:
    with pytest.raises(ProtocolError, match=text) as info:
        parse_params(kind, params, request_id="r")
    assert info.value.code == code
    assert info.value.request_id == "r"


def test_messages_to_types() -> None:
    assert parse_message("/diffjam/hello", "i", [9001]) == Hello(9001)
    assert parse_message("/diffjam/hello", "", []) == Hello(None)
    request = parse_message("/diffjam/generate", "ss", ["g1", "{}"])
    assert request == RequestMessage("generate", "g1", RequestParams())
    update = parse_message("/diffjam/settings", "s", ['{"steps": 4, "key": null}'])
    assert isinstance(update, SettingsUpdate)
    assert update.apply(EngineSettings(key="C")) == EngineSettings(steps=4, key=None)


@pytest.mark.parametrize(
    ("address", "tags", "args", "code"),
    [
        ("/diffjam/nope", "", [], ErrorCode.UNKNOWN_ADDRESS),
        ("/diffjam/status", "s", ["x"], ErrorCode.BAD_TYPES),
        ("/diffjam/infill", "si", ["x", 1], ErrorCode.BAD_TYPES),
        ("/diffjam/hello", "i", [70000], ErrorCode.BAD_PARAMS),
        ("/diffjam/settings", "s", ['{"tempo": 3}'], ErrorCode.BAD_PARAMS),
        ("/diffjam/jam/start", "s", ['{"clock": "sun"}'], ErrorCode.BAD_PARAMS),
        ("/diffjam/jam/start", "s", ['{"tempo": 1000}'], ErrorCode.BAD_PARAMS),
        ("/diffjam/jam/start", "s", ['{"midi_system": "coremidi"}'], ErrorCode.BAD_PARAMS),
        ("/diffjam/jam/ports", "s", ['{"midi_system": null}'], ErrorCode.BAD_PARAMS),
        ("/diffjam/jam/ports", "s", ['{"backend": "jack"}'], ErrorCode.BAD_PARAMS),
        ("/diffjam/jam/ports", "s", ["jack"], ErrorCode.BAD_JSON),
        ("/diffjam/infill", "ss", ["r", '{"bars": [1, 1], "sampler": "euler"}'],
         ErrorCode.BAD_PARAMS),
        ("/diffjam/accompany", "ss", ["r", '{"chords": "C", "below_melody": "yes"}'],
         ErrorCode.BAD_PARAMS),
        ("/diffjam/accompany", "ss", ["r", '{"chords": "C", "allowed": "scale"}'],
         ErrorCode.BAD_PARAMS),
        ("/diffjam/accompany", "ss", ["r", '{"chords": "C", "register": "off"}'],
         ErrorCode.BAD_PARAMS),
        ("/diffjam/accompany", "ss", ["r", '{"chords": "C", "guidance_below": 0}'],
         ErrorCode.BAD_PARAMS),
        ("/diffjam/accompany", "ss", ["r", '{"chords": "C", "candidates": 17}'],
         ErrorCode.BAD_PARAMS),
        ("/diffjam/song", "ss", ["r", '{"form": "A8", "candidates": 2}'],
         ErrorCode.BAD_PARAMS),
        ("/diffjam/song", "ss", ["r", '{"form": "A8", "allowed": "chord"}'],
         ErrorCode.BAD_PARAMS),
    ],
)
def test_refused_messages(address, tags, args, code) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_message(address, tags, args)
    assert info.value.code == code


def test_int_tags_are_accepted_for_floats() -> None:
    # Max's [pack]/[js] send whole-valued floats (4., 2.) as OSC ints
    message = parse_message("/diffjam/notes", "sii" + "iiii" + "fiii",
                            ["id", 0, 1, 4, 2, 60, 100, 0.5, 1, 62, 90])
    assert message == NotesChunk("id", 0, 1, (BeatNote(4.0, 2.0, 60, 100),
                                              BeatNote(0.5, 1.0, 62, 90)))
    assert all(isinstance(note.start, float) and isinstance(note.duration, float)
               for note in message.notes)
    assert MessageSpec("/x", ("sf",)).matches("si")
    assert not MessageSpec("/x", ("si",)).matches("sf")     # never a float for an int
    assert not MessageSpec("/x", ("sf",)).matches("ss")
    assert not MessageSpec("/x", ("sf",)).matches("sii")


@pytest.mark.parametrize("tags", ["sii" + "sfii", "sii" + "fsii", "sii" + "ffif", "sis" + "ffii"])
def test_strings_and_floats_are_refused_where_they_do_not_belong(tags) -> None:
    values = {"s": "4", "i": 4, "f": 4.0}
    with pytest.raises(ProtocolError, match="takes type tags") as info:
        parse_message("/diffjam/notes", tags, ["id" if k == 0 else values[t]
                                               for k, t in enumerate(tags)])
    assert info.value.code == ErrorCode.BAD_TYPES


def test_jam_start_context_bars() -> None:
    from wire.protocol import JamStart

    assert parse_message("/diffjam/jam/start", "s", ["{}"]) == JamStart()
    assert parse_message("/diffjam/jam/start", "s", ['{"context_bars": 5}']) == JamStart(
        context_bars=5)
    for bad in ("0", "17", '"3"', "2.5"):
        with pytest.raises(ProtocolError, match="'context_bars'") as info:
            parse_message("/diffjam/jam/start", "s", [f'{{"context_bars": {bad}}}'])
        assert info.value.code == ErrorCode.BAD_PARAMS


def test_density_and_repeat() -> None:
    for kind in ("infill", "accompany", "generate"):
        extra = {"bars": [1, 1], "clip_beats": 4} if kind == "infill" else {"chords": "C"}
        params = parse_params(kind, json.dumps({**extra, "density": 12}), request_id="r")
        assert params.density == 12.0 and isinstance(params.density, float)
        assert parse_params(kind, json.dumps({**extra, "density": None}),
                            request_id="r").density is None
    infill = parse_params("infill", '{"bars": [1, 1], "repeat": 0.4}', request_id="r")
    assert infill.repeat == 0.4 and infill.to_json()["repeat"] == 0.4
    assert "repeat" not in RequestParams().to_json() and "density" not in RequestParams().to_json()
    for kind in ("accompany", "generate"):  # the bars a clip repeats: an infill's only
        with pytest.raises(ProtocolError, match="'repeat' is for infill only") as info:
            parse_params(kind, '{"chords": "C", "repeat": 0.5}', request_id="r")
        assert info.value.code == ErrorCode.BAD_PARAMS
    assert parse_params("generate", '{"density": 0}', request_id="r").density == 0.0
    for bad, text in (('"dense"', "must be a number"), ("-1", "must be in 0..32"),
                      ("true", "must be a number"), ("33", "must be in 0..32")):
        with pytest.raises(ProtocolError, match=f"'density' {text}"):
            parse_params("generate", f'{{"density": {bad}}}', request_id="r")
    with pytest.raises(ProtocolError, match="unknown key"):
        parse_params("song", '{"form": "A4", "density": 8}', request_id="r")


def test_notes_in_the_params() -> None:
    params = parse_params("infill", json.dumps(
        {"bars": [1, 1], "notes": [[0, 1, 60, 90], [2.5, 0.5, 64, 80]]}), request_id="r")
    assert params.notes == (BeatNote(0.0, 1.0, 60, 90), BeatNote(2.5, 0.5, 64, 80))
    accompany = parse_params("accompany", '{"notes": [[0, 4, 72, 100]]}', request_id="r")
    assert accompany.notes == (BeatNote(0.0, 4.0, 72, 100),)


def test_error_replies_fit_a_datagram() -> None:
    reply = error_reply("r" * 500, ErrorCode.BAD_PARAMS, "x" * 70_000)
    rid, _, _, message = reply.args
    assert len(rid) == 64 and len(message) == 1000 and message.endswith("\u2026")
    assert len(reply.encode()) < 2000


def test_parse_defaults_for_serve() -> None:
    from wire.protocol import parse_defaults

    assert parse_defaults('{"steps": 20, "guidance": 2}') == EngineSettings(steps=20,
                                                                            guidance=2.0)
    with pytest.raises(ProtocolError, match="'steps'"):
        parse_defaults('{"steps": 0}')
    with pytest.raises(ProtocolError, match="unknown key"):
        parse_defaults('{"tempo": 120}')


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
    | st.integers(min_value=2**60, max_value=10**400).map(lambda n: n * 7),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
KEYS = list(RequestParams.__dataclass_fields__) + ["time_signature"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(("infill", "accompany", "generate", "song")),
       values=st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=6))
def test_any_json_params_give_a_result_or_a_protocol_error(kind, values) -> None:
    try:
        text = json.dumps(values)
    except ValueError:  # an integer json cannot write (over 4,300 digits)
        return
    try:
        parse_params(kind, text, request_id="r")
    except ProtocolError as err:
        assert err.request_id == "r"
        assert len(error_reply("r", err.code, err.message).encode()) < 4096


JAM_AND_SETTINGS_KEYS = ["guidance", "in_key", "key", "steps", "variations", "seed", "input",
                         "output", "clock", "tempo", "context_bars"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(address=st.sampled_from(("/diffjam/settings", "/diffjam/jam/start")),
       values=st.dictionaries(st.sampled_from(JAM_AND_SETTINGS_KEYS), JSON_VALUES, max_size=5))
def test_any_json_for_settings_and_jam_gives_a_result_or_a_protocol_error(address,
                                                                        values) -> None:
    try:
        text = json.dumps(values)
    except ValueError:
        return
    try:
        parse_message(address, "s", [text])
    except ProtocolError as err:
        assert len(error_reply("", err.code, err.message).encode()) < 4096


@pytest.mark.parametrize("params, message", [
    ('{"form": "A8", "steps": 500}', "'steps' of a song"),
    ('{"form": "A8", "tempo": 10}', "'tempo' of a song"),
])
def test_a_song_s_steps_and_tempo_are_refused_up_front(params, message):
    from wire.protocol import ProtocolError, parse_params

    with pytest.raises(ProtocolError, match=message):
        parse_params("song", params, request_id="r1")


def test_the_pitch_set_and_guidance_interval_round_trip() -> None:
    params = parse_params("accompany", '{"chords": "C G", "allowed": "chord", '
                          '"guidance_below": 0.6, "register": false}', request_id="r")
    assert (params.allowed, params.guidance_below, params.register) == ("chord", 0.6, False)
    assert parse_params("accompany", json.dumps(params.to_json()), request_id="r") == params
    plain = parse_params("accompany", '{"chords": "C", "allowed": null}', request_id="r")
    assert (plain.allowed, plain.guidance_below, plain.register) == (None, None, None)
    assert "allowed" not in plain.to_json()  # the task's default is not sent
    # the bass projection: off unless asked for, and then sent
    assert plain.bass_anchor is False and "bass_anchor" not in plain.to_json()
    anchored = parse_params("accompany", '{"chords": "C", "bass_anchor": true}', request_id="r")
    assert anchored.bass_anchor is True and anchored.to_json()["bass_anchor"] is True
    with pytest.raises(ProtocolError, match="bass_anchor"):
        parse_params("accompany", '{"chords": "C", "bass_anchor": "yes"}', request_id="r")
    assert plain.candidates is None and "candidates" not in plain.to_json()
    drawn = parse_params("infill", '{"bars": [1, 1], "candidates": 8}', request_id="r")
    assert drawn.candidates == 8
    assert parse_params("infill", json.dumps(drawn.to_json()), request_id="r") == drawn
