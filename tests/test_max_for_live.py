"""Runs the Max for Live device's node tests (max_for_live/test) from the Python suite.

The node suite covers the device's script against a fake LiveAPI, the built .amxd, and the
device talking OSC over UDP to a fake engine and to a real ``diffjam serve`` (skipped there
when no model is available). ``scripts/test.sh`` runs ``npm ci`` in max_for_live first.
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


# What the device sends, built by its own script in node, read back by the engine's parser:
# catches drift between max_for_live/diffjam.js and wire/protocol.py without a model.
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
const infill = dj.buildRequest('m4l-infill', s, clip).messages;
s = dj.applySetting(dj.applySetting(s, 'mode', 'accompany'), 'chords', 'C G | Am F');
const accompany = dj.buildRequest('m4l-acc', s, clip).messages;
process.stdout.write(JSON.stringify([dj.helloMessage(9001)].concat(infill, accompany)));
"""


def test_device_messages_parse_in_the_engine() -> None:
    protocol = pytest.importorskip("wire.protocol", reason="wire.protocol not importable")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    result = subprocess.run(
        [node, "-e", BUILD_MESSAGES],
        cwd=DEVICE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    messages = json.loads(result.stdout)
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
    infill, accompany = requests
    assert infill.kind == "infill"
    assert (infill.params.bars, infill.params.clip_beats, infill.params.notes_chunks) == (
        (2, 3),
        76.0,
        3,
    )
    assert (infill.params.variations, infill.params.steps, infill.params.tempo) == (2, 4, 97.0)
    assert accompany.kind == "accompany"
    assert (accompany.params.n_bars, accompany.params.chords) == (2, "C G | Am F")
    # accompany sends bars 2-3 as the melody, moved to start at beat 0
    assert chunks[3].notes[0] == protocol.BeatNote(0.0, 0.25, 48 + 16 % 24, 90)
