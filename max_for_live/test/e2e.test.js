'use strict';
// End to end over real UDP: the device's own JavaScript (diffjam.js) runs in node against an
// engine, announces its reply port with /diffjam/hello, sends the clip in chunks, reassembles
// the reply and writes the notes into a fake Live clip.
//   - against a small fake engine in node (always runs), including lost, repeated and
//     reordered result chunks and an engine that never answers;
//   - against a real `diffjam serve` started on a free port (skipped, with the reason, when
//     the command or its model is not available): the MIDI effect, and the MIDI Tool twice
//     with one fixed seed (the same notes both times). $DIFFJAM_COMMAND replaces the command
//     (e.g. "python3 -m bridge.cli"); $DIFFJAM_SERVE_ARGS is appended (e.g. "--model PATH").

const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { LiveWorld } = require('./support/live_mock');
const { NodeHost } = require('./support/node_host');
const { FakeEngine } = require('./support/fake_engine');
const { MidiToolHost } = require('./support/miditool_mock');

const REPO = path.resolve(__dirname, '..', '..');
const GUARD_MS = 20000; // only so a broken engine cannot hang the run; nothing asserts time

function liveNote(start_time, pitch, duration = 1, velocity = 100) {
  return { start_time, pitch, duration, velocity };
}

// 200 notes over 4 bars so the request needs two /diffjam/notes chunks.
function denseVerse() {
  const notes = [];
  for (let i = 0; i < 200; i++) {
    notes.push(liveNote(i * 0.08, 48 + (i % 24), 0.08, 60 + (i % 60)));
  }
  return notes;
}

function setUpWorld(notes, clipOptions = {}) {
  const world = new LiveWorld({ tempo: 110 });
  const track = world.addTrack({ slots: 4 });
  const clip = world.addClip(track, 0, { name: 'Verse', notes, loopEnd: 16, ...clipOptions });
  world.select(clip);
  return { world, track, clip };
}

async function withFakeEngine(behaviour, fn, hostOptions = {}) {
  const engine = new FakeEngine(behaviour);
  const port = await engine.start();
  const scene = setUpWorld(denseVerse());
  const host = new NodeHost({ LiveAPI: scene.world.LiveAPI(), enginePort: port, ...hostOptions });
  try {
    await host.start();
    await fn({ engine, host, ...scene });
  } finally {
    host.close();
    engine.close();
  }
}

function notesIn(world, clip, from, to) {
  return world.notesOf(clip).filter((n) => n.start_time >= from && n.start_time < to);
}

test('fake engine over UDP: infill round trip writes into a copy of the clip', async () => {
  await withFakeEngine({}, async ({ engine, host, world, track, clip }) => {
    host.device.set('bar_from', 2);
    host.device.set('bar_to', 3);
    assert.equal(host.device.generate(), true);
    const status = await host.finished(GUARD_MS);
    assert.match(status, /^Done: 8 notes in bars 2-3 -> Verse diffjam 1 seed \d+\./);
    // what the engine got: hello with our port, two typed chunks, the params
    const hello = engine.received.find((m) => m.address === '/diffjam/hello');
    assert.deepEqual(hello.args, [host.in.address().port]);
    const [request] = engine.requests;
    assert.equal(request.notes.length, 200);
    assert.deepEqual(request.types.map((t) => t.length), [3 + 4 * 128, 3 + 4 * 72]);
    assert.deepEqual(request.params.bars, [2, 3]);
    assert.equal(request.params.tempo, 110);
    // what Live got: the original untouched, the copy regenerated in bars 2-3 only
    assert.equal(world.notesOf(clip).length, 200);
    const copy = world.slotClip(track, 1);
    assert.deepEqual(notesIn(world, copy, 4, 12).map((n) => [n.start_time, n.pitch]),
      [[4, 64], [5, 65], [6, 66], [7, 67], [8, 60], [9, 61], [10, 62], [11, 63]]);
    assert.deepEqual(notesIn(world, copy, 0, 4), notesIn(world, clip, 0, 4));
    assert.deepEqual(notesIn(world, copy, 12, 16), notesIn(world, clip, 12, 16));
  });
});

test('fake engine over UDP: repeated and reordered chunks still assemble', async () => {
  await withFakeEngine({ repeat: true, reverse: true, chunkSize: 3 },
    async ({ host, world, track }) => {
      host.device.set('variations', 2);
      host.device.generate();
      const status = await host.finished(GUARD_MS);
      assert.match(status, /-> Verse diffjam 1 seed \d+, Verse diffjam 2 seed \d+\./);
      const v1 = notesIn(world, world.slotClip(track, 1), 0, 16);
      const v2 = notesIn(world, world.slotClip(track, 2), 0, 16);
      assert.equal(v1.length, 16);
      assert.deepEqual(v2.map((n) => n.pitch), v1.map((n) => n.pitch + 1));
    });
});

test('fake engine over UDP: done sent before its chunks still writes the result', async () => {
  await withFakeEngine({ doneFirst: true, chunkSize: 3 }, async ({ host, world, track }) => {
    host.device.set('variations', 2);
    host.device.generate();
    const status = await host.finished(GUARD_MS);
    assert.match(status, /^Done: /);
    assert.equal(notesIn(world, world.slotClip(track, 1), 0, 16).length, 16);
    assert.equal(notesIn(world, world.slotClip(track, 2), 0, 16).length, 16);
  });
});

test('fake engine over UDP: a lost result chunk is reported, nothing is written', async () => {
  // The device's 3 s grace for missing chunks runs 100x faster here.
  await withFakeEngine({ drop: [[0, 1]], chunkSize: 4 }, async ({ host, world, track }) => {
    host.device.generate();
    const status = await host.finished(GUARD_MS);
    assert.match(status, /result arrived incomplete \(1 chunk\(s\) lost: variation 1 chunk 2\)/);
    assert.equal(world.slotClip(track, 1), 0);
  }, { clockRate: 100 });
});

test('fake engine over UDP: an engine error is shown', async () => {
  const error = { code: 11, name: 'BUSY', message: 'the queue is full (8 waiting)' };
  await withFakeEngine({ error }, async ({ host }) => {
    host.device.generate();
    const status = await host.finished(GUARD_MS);
    assert.equal(status, 'Engine error BUSY (11): the queue is full (8 waiting) (the engine ' +
      'queue is full, try again in a moment)');
  });
});

test('fake engine over UDP: a silent engine times out with a message', async () => {
  // The device's 5 s timeout runs 100x faster here; the test waits for the message only.
  await withFakeEngine({ silent: true }, async ({ host }) => {
    host.device.generate();
    const status = await host.finished(GUARD_MS);
    assert.match(status, /^The engine did not answer on 127\.0\.0\.1:\d+\. Is `diffjam serve` running\?/);
  }, { clockRate: 100 });
});

// --- the real engine ------------------------------------------------------------------

function diffjamCommand() {
  if (process.env.DIFFJAM_COMMAND) {
    const words = process.env.DIFFJAM_COMMAND.split(/\s+/);
    return { cmd: words[0], args: words.slice(1), how: `DIFFJAM_COMMAND=${process.env.DIFFJAM_COMMAND}` };
  }
  const which = spawnSync('sh', ['-c', 'command -v diffjam'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) {
    return { cmd: which.stdout.trim(), args: [], how: 'diffjam on PATH' };
  }
  if (fs.existsSync(path.join(REPO, 'bridge', 'cli.py'))) {
    return { cmd: process.env.PYTHON || 'python3', args: ['-m', 'bridge.cli'],
      how: 'python3 -m bridge.cli in the checkout' };
  }
  return null;
}

async function freeUdpPort() {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

// Starts `diffjam serve` on a free port and runs fn(port, t); skips with the server's last
// output when it does not come up (no command, no model).
async function withRealEngine(t, fn) {
  const command = diffjamCommand();
  if (!command) {
    t.skip('no `diffjam` command (pip install -e . in the repository) and no bridge/cli.py');
    return;
  }
  const port = await freeUdpPort();
  const extra = (process.env.DIFFJAM_SERVE_ARGS || '').split(/\s+/).filter(Boolean);
  const server = spawn(command.cmd, [...command.args, 'serve', '--port', String(port), ...extra], {
    cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env },
  });
  const state = { output: '', exited: null, how: command.how };
  server.stdout.on('data', (d) => { state.output += d; });
  server.stderr.on('data', (d) => { state.output += d; });
  server.on('exit', (code) => { state.exited = code; });
  try {
    await fn(port, state);
  } finally {
    if (state.exited === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => {
        const hard = setTimeout(() => { server.kill('SIGKILL'); resolve(); }, 10000);
        server.on('exit', () => { clearTimeout(hard); resolve(); });
      });
    }
  }
}

// Waits for the engine; false (and the test skipped) when it does not come up.
async function engineUp(t, host, state) {
  const info = await host.waitForEngine(60000, () => state.exited !== null);
  if (!info) {
    const tail = state.output.trim().split('\n').slice(-3).join(' | ');
    t.skip(`diffjam serve (${state.how}) did not come up` +
      (state.exited !== null ? ` (exit ${state.exited})` : '') + `: ${tail || 'no output'}`);
    return null;
  }
  return info;
}

test('real diffjam serve: the device infills a clip through the engine', async (t) => {
  await withRealEngine(t, async (port, state) => {
    const scene = setUpWorld([liveNote(0, 60, 1, 90), liveNote(1, 64, 1, 90),
      liveNote(2, 67, 1, 90), liveNote(3, 72, 1, 90), liveNote(12, 60, 2, 80),
      liveNote(14, 62, 2, 80)]);
    const host = new NodeHost({ LiveAPI: scene.world.LiveAPI(), enginePort: port });
    try {
      await host.start();
      const info = await engineUp(t, host, state);
      if (!info) return;
      host.device.set('bar_from', 2);
      host.device.set('bar_to', 3);
      host.device.set('steps', 2);
      host.device.set('candidates', 3); // the engine's status lists the param; done says 3
      host.device.generate();
      const status = await host.finished(120000);
      if (/model/i.test(status) && !/^Done/.test(status)) {
        t.skip(`the engine has no usable model: ${status}`);
        return;
      }
      t.diagnostic(`engine: ${info.model} on ${info.device} (${state.how}); device: ${status}`);
      assert.match(status,
        /^Done: \d+ notes in bars 2-3 -> Verse diffjam 1 seed \d+\. Seed \d+\. Each the best of 3\.$/);
      const { world, track, clip } = scene;
      const copy = world.slotClip(track, 1);
      assert.notEqual(copy, 0);
      assert.deepEqual(notesIn(world, copy, 0, 4), notesIn(world, clip, 0, 4));
      assert.deepEqual(notesIn(world, copy, 12, 16), notesIn(world, clip, 12, 16));
      for (const n of notesIn(world, copy, 4, 12)) {
        assert.ok(n.pitch >= 0 && n.pitch <= 127 && n.duration > 0, JSON.stringify(n));
      }
      assert.equal(world.notesOf(clip).length, 6, 'the original clip is untouched');
    } finally {
      host.close();
    }
  });
});

test('real diffjam serve: the MIDI Tool infills the time selection; a fixed seed repeats', async (t) => {
  await withRealEngine(t, async (port, state) => {
    const melody = [liveNote(0, 60, 1, 90), liveNote(1, 64, 1, 90), liveNote(2, 67, 1, 90),
      liveNote(3, 72, 1, 90), liveNote(12, 60, 2, 80), liveNote(14, 62, 2, 80)];
    const takes = [];
    for (let run = 0; run < 2; run++) {
      const scene = setUpWorld(melody);
      const toolHost = new MidiToolHost(scene.world, scene.clip, { selection: [4, 12],
        grid: { interval: 0.5, enabled: 1 } });
      const host = new NodeHost({ LiveAPI: scene.world.LiveAPI(), enginePort: port, toolHost });
      try {
        await host.start();
        const info = await engineUp(t, host, state);
        if (!info) return;
        host.device.set('steps', 2);
        host.device.set('seed', 1234);
        host.device.generate();
        const status = await host.finished(120000);
        t.diagnostic(`MIDI Tool, take ${run + 1}: ${status}`);
        assert.match(status, /^Done: \d+ notes in the selection, seed 1234\./);
        assert.deepEqual(toolHost.errors, []);
        const notes = scene.world.notesOf(scene.clip);
        assert.deepEqual(notesIn(scene.world, scene.clip, 0, 4).map((n) => n.pitch),
          [60, 64, 67, 72], 'outside the selection nothing changed');
        assert.deepEqual(notesIn(scene.world, scene.clip, 12, 16).map((n) => n.pitch), [60, 62]);
        for (const n of notesIn(scene.world, scene.clip, 4, 12)) {
          assert.equal((n.start_time * 2) % 1, 0, `on the 1/8 grid: ${JSON.stringify(n)}`);
        }
        takes.push(notes);
      } finally {
        host.close();
      }
    }
    assert.deepEqual(takes[0], takes[1], 'the same seed gives the same notes');
  });
});
