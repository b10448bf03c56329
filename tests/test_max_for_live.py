"""Runs the Max for Live device's node tests (max_for_live/test) from the Python suite.

The node suite covers the devices' script against a fake LiveAPI and a fake MIDI Tool host,
the built .amxd files, and the device talking OSC over UDP to a fake engine and to a real
``diffjam serve`` (skipped there when no model is available). ``scripts/test.sh`` runs
``npm ci`` in max_for_live first. The tests below check the script against the protocol's one
definition (``wire.protocol``, ``wire.limits``, ``wire.chords``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEVICE_DIR = Path(__file__).resolve().parents[1] / "max_for_live"


# The real-engine test inside may load a model and generate on a shared CPU.
@pytest.mark.timeout(300)
def test_max_for_live_node_suite() -> None:
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.skip("node/npm not installed: the Max for Live tests need node >= 18")
    if not (DEVICE_DIR / "node_modules").is_dir():
        pytest.skip(
            "max_for_live/node_modules missing: run `npm ci` in max_for_live (scripts/test.sh does)"
        )
    env = dict(os.environ)
    if "DIFFJAM_COMMAND" not in env and not any(c.isspace() for c in sys.executable):
        # the real-engine test runs this interpreter's diffjam, not another one on PATH
        env["DIFFJAM_COMMAND"] = f"{sys.executable} -m bridge.cli"
    result = subprocess.run(
        [npm, "test", "--silent"],
        cwd=DEVICE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"npm test failed in max_for_live:\n{output[-6000:]}"
    passed = re.search(r"^# pass (\d+)$", output, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", output, re.MULTILINE)
    assert passed is not None and failed is not None, output[-2000:]
    assert int(failed.group(1)) == 0
    assert int(passed.group(1)) >= 40, f"only {passed.group(1)} node tests ran"


# What the devices send, built by their own script in node, read back by the engine's parser
# (wire.protocol, the one protocol definition): catches drift between max_for_live/diffjam.js
# and the protocol without a model.
BUILD_MESSAGES = r"""
const dj = require('./diffjam.js');
const notes = [];
for (let i = 0; i < 300; i++) {
  notes.push({start: i * 0.25, duration: 0.25, pitch: 48 + (i % 24), velocity: 90});
}
const clip = {notes, loop_start: 0, loop_end: 76, start_marker: 0, end_marker: 76,
  signature_numerator: 4, signature_denominator: 4, tempo: 97};
let s = dj.applySetting(dj.applySetting(dj.defaultSettings(), 'bar_from', 2), 'bar_to', 3);
s = dj.applySetting(dj.applySetting(s, 'variations', 2), 'steps', 4);
const infill = dj.buildRequest('m4l-infill', s, clip,
  {seed: dj.LIMITS.seed[1], key: 'F#m'}).messages;
s = dj.applySetting(dj.applySetting(s, 'mode', 'accompany'), 'chords', 'C G | Am F');
s = dj.applySetting(dj.applySetting(s, 'candidates', 6), 'bass_anchor', 1);
const accompany = dj.buildRequest('m4l-acc', s, clip, {seed: 0}).messages;
const empty = Object.assign({}, clip, {notes: []});
const generate = dj.buildRequest('m4l-gen', dj.defaultSettings(), empty).messages;
process.stdout.write(JSON.stringify([dj.helloMessage(9001)].concat(infill, accompany, generate,
  [dj.cancelMessage('m4l-acc')])));
"""

CONSTANTS = r"""
const dj = require('./diffjam.js');
const keys = [];
for (let root = 0; root < 12; root++) {
  keys.push(dj.keyFromScale(root, 'Major'), dj.keyFromScale(root, 'Minor'));
}
process.stdout.write(JSON.stringify({
  protocol: dj.PROTOCOL_VERSION, notesPerChunk: dj.NOTES_PER_CHUNK, defaults: dj.DEFAULTS,
  limits: dj.LIMITS, maxRolls: dj.MAX_ROLLS, settings: dj.defaultSettings(),
  handled: dj.ENGINE_ADDRESSES,
  ignored: dj.IGNORED_ADDRESSES, hints: Object.keys(dj.ERROR_HINTS), keys: keys,
}));
"""


def _node_json(script: str) -> object:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    result = subprocess.run(
        [node, "-e", script], cwd=DEVICE_DIR, capture_output=True, text=True, timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_device_messages_parse_in_the_engine() -> None:
    protocol = pytest.importorskip("wire.protocol", reason="wire.protocol not importable")
    messages = _node_json(BUILD_MESSAGES)
    parsed = [protocol.parse_message(m["address"], m["types"], m["args"]) for m in messages]
    assert parsed[0] == protocol.Hello(9001)
    chunks = [p for p in parsed if isinstance(p, protocol.NotesChunk)]
    assert [(c.request_id, c.index, c.count, len(c.notes)) for c in chunks] == [
        ("m4l-infill", 0, 3, 128),
        ("m4l-infill", 1, 3, 128),
        ("m4l-infill", 2, 3, 44),
        ("m4l-acc", 0, 1, 32),
    ]
    assert chunks[0].notes[1] == protocol.BeatNote(0.25, 0.25, 49, 90)
    requests = [p for p in parsed if isinstance(p, protocol.RequestMessage)]
    infill, accompany, generate = requests
    assert infill.kind == "infill"
    assert (infill.params.bars, infill.params.clip_beats, infill.params.notes_chunks) == (
        (2, 3),
        76.0,
        3,
    )
    assert (infill.params.variations, infill.params.steps, infill.params.tempo) == (2, 4, 97.0)
    assert (infill.params.seed, infill.params.key) == (2**24 - 1, "F#m")
    assert accompany.kind == "accompany"
    assert (infill.params.candidates, accompany.params.candidates) == (None, 6)
    assert (infill.params.bass_anchor, accompany.params.bass_anchor) == (False, True)
    assert (accompany.params.n_bars, accompany.params.chords, accompany.params.seed) == (
        2,
        "C G | Am F",
        0,
    )
    # accompany sends bars 2-3 as the melody, moved to start at beat 0
    assert chunks[3].notes[0] == protocol.BeatNote(0.0, 0.25, 48 + 16 % 24, 90)
    assert generate.kind == "generate" and generate.params.notes_chunks == 0
    assert parsed[-1] == protocol.Cancel("m4l-acc")


def test_device_constants_match_the_protocol_and_limits() -> None:
    protocol = pytest.importorskip("wire.protocol", reason="wire.protocol not importable")
    limits = pytest.importorskip("wire.limits", reason="wire.limits not importable")
    js = _node_json(CONSTANTS)
    assert js["protocol"] == protocol.PROTOCOL_VERSION
    assert js["notesPerChunk"] == protocol.MAX_NOTES_PER_CHUNK
    # the defaults the device shows are the engine's (the README's too)
    assert js["defaults"]["guidance"] == limits.DEFAULT_GUIDANCE == js["settings"]["guidance"]
    assert js["defaults"]["steps"] == limits.DEFAULT_STEPS == js["settings"]["steps"]
    assert js["limits"]["guidance"] == limits.GUIDANCE.to_json()
    assert js["limits"]["steps"] == limits.STEPS.to_json()
    assert js["limits"]["variations"] == limits.VARIATIONS.to_json()
    assert js["limits"]["candidates"] == limits.CANDIDATES.to_json()
    assert js["maxRolls"] == limits.MAX_ROLLS
    assert js["limits"]["bars"][1] == limits.MAX_BARS
    low, high = js["limits"]["seed"]
    assert limits.SEED.low <= low and high <= limits.SEED.high
    # every engine reply is either read or knowingly left alone
    assert set(js["handled"]) | set(js["ignored"]) == set(protocol.ENGINE_SPECS)
    assert set(js["handled"]) & set(js["ignored"]) == set()
    # hints are only for error names the engine has
    assert set(js["hints"]) <= {code.name for code in protocol.ErrorCode}


def test_device_keys_from_live_scales_parse_in_the_engine() -> None:
    chords = pytest.importorskip("wire.chords", reason="wire.chords not importable")
    keys = _node_json(CONSTANTS)["keys"]
    assert len(keys) == 24
    for symbol in keys:
        chords.parse_key(symbol)  # raises on a key the engine cannot read


def test_readme_guidance_default_is_the_engines() -> None:
    limits = pytest.importorskip("wire.limits", reason="wire.limits not importable")
    readme = (DEVICE_DIR / "README.md").read_text(encoding="utf-8")
    assert f"default {limits.DEFAULT_GUIDANCE:g}" in readme


def test_readme_candidates_defaults_and_limits_are_the_engines() -> None:
    limits = pytest.importorskip("wire.limits", reason="wire.limits not importable")
    readme = (DEVICE_DIR / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| **Candidates** |"))
    defaults = limits.DEFAULT_CANDIDATES
    assert (f"{defaults['accompany']} for accompaniment, {defaults['infill']} for infill "
            f"without chords, {defaults['infill_chords']} for infill given chords") in row
    assert f"At most {limits.MAX_CANDIDATES}" in row
    assert f"at most {limits.MAX_ROLLS}" in row

