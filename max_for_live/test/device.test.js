'use strict';
// The device against a fake LiveAPI: reading the selected clip, the round trip with the
// engine's replies fed in by hand, writing into Live (copy or in place) as one undo step,
// timeouts and error messages.

const test = require('node:test');
const assert = require('node:assert/strict');
const dj = require('../diffjam');
const { LiveWorld } = require('./support/live_mock');
const { infillResult, accompanyResult } = require('./support/fake_engine');

function liveNote(start_time, pitch, duration = 1, velocity = 100) {
  return { start_time, pitch, duration, velocity };
}

// A device wired to a fake world, a manual clock and an outbox instead of UDP.
function rig({ clipOptions = {}, slot = 0, slots = 4, select = true } = {}) {
  const world = new LiveWorld({ tempo: 100 });
  const track = world.addTrack({ slots });
  const clip = world.addClip(track, slot, { name: 'Verse', ...clipOptions });
  if (select) {
    world.select(clip);
  }
  const timers = [];
  const outbox = [];
  const statuses = [];
  let counter = 0;
  const device = new dj.Device({
    LiveAPI: world.LiveAPI(),
    send: (message) => outbox.push(message),
    configure: () => {},
    status: (text) => statuses.push(text),
    schedule: (fn, ms) => {
      const timer = { fn, ms, cancelled: false, cancel() { this.cancelled = true; } };
      timers.push(timer);
      return timer;
    },
    newId: () => `req-${++counter}`,
  });
  const fireTimers = () => {
    for (const timer of timers.splice(0)) {
      if (!timer.cancelled) {
        timer.fn();
      }
    }
  };
  return { world, track, clip, device, outbox, statuses, timers, fireTimers,
    last: () => statuses[statuses.length - 1] };
}

// What the engine would receive: the request's notes and params.
function sentRequest(outbox) {
  const notes = [];
  let params = null;
  let mode = null;
  for (const message of outbox) {
    if (message.address === '/diffjam/notes') {
      for (let i = 3; i < message.args.length; i += 4) {
        notes.push({ start: message.args[i], duration: message.args[i + 1],
          pitch: message.args[i + 2], velocity: message.args[i + 3] });
      }
    } else if (/^\/diffjam\/(infill|accompany|generate)$/.test(message.address)) {
      mode = message.address.slice('/diffjam/'.length);
      params = JSON.parse(message.args[1]);
    }
  }
  return { notes, params, mode, id: outbox[outbox.length - 1].args[0] };
}

// Feeds the engine's replies for the request in the outbox into the device.
function answer(device, outbox, { variations } = {}) {
  const { notes, params, mode, id } = sentRequest(outbox);
  const count = variations || params.variations;
  device.receive('/diffjam/accepted', [id, 0]);
  device.receive('/diffjam/progress', [id, 0.5]);
  const counts = [];
  for (let v = 0; v < count; v++) {
    const result = (mode === 'infill' ? infillResult(notes, params) : accompanyResult(notes, params))
      .map((n) => ({ ...n, pitch: n.pitch + v }));
    counts.push(result.length);
    const args = [id, v, 0, 1];
    for (const n of result) {
      args.push(n.start, n.duration, n.pitch, n.velocity);
    }
    device.receive('/diffjam/result', args);
  }
  device.receive('/diffjam/done', [id, JSON.stringify({ variations: count, notes: counts })]);
}

const VERSE = [liveNote(0, 60), liveNote(4, 62), liveNote(9, 64), liveNote(13, 65)];

test('no selected clip gives a clear message and sends nothing', () => {
  const r = rig({ select: false });
  assert.equal(r.device.generate(), false);
  assert.equal(r.last(), 'No clip selected: click a MIDI clip, then press Generate.');
  assert.deepEqual(r.outbox, []);
});

test('an audio clip is refused', () => {
  const r = rig({ clipOptions: { midi: false } });
  assert.equal(r.device.generate(), false);
  assert.equal(r.last(), 'The selected clip is an audio clip; diffjam needs a MIDI clip.');
});

test('a clip in 3/4 is refused before anything is sent', () => {
  const r = rig({ clipOptions: { numerator: 3 } });
  assert.equal(r.device.generate(), false);
  assert.match(r.last(), /Only 4\/4 clips are supported; this clip is in 3\/4/);
});

test('notes are read over loop and markers, not only the clip length', () => {
  // The loop is bars 3-4, the start marker at 0: a read of [0, length) would miss beat 13.
  const r = rig({ clipOptions: { notes: VERSE, loopStart: 8, loopEnd: 16, startMarker: 0,
    endMarker: 16 } });
  assert.equal(r.device.generate(), true);
  const { notes, params } = sentRequest(r.outbox);
  assert.deepEqual(notes.map((n) => n.start), [0, 4, 9, 13]);
  assert.deepEqual(params.bars, [3, 4]); // the default range is the loop
  assert.equal(params.clip_beats, 16);
  assert.equal(params.tempo, 100);
  const reads = r.world.calls.filter((c) => c.name === 'get_notes_extended');
  assert.deepEqual(reads[0].args, [0, 128, 0, 16]);
  assert.equal(r.outbox[0].address, '/diffjam/hello');
  assert.deepEqual(r.outbox[0].args, [9001]);
});

test('keep original: the result goes into a copy in the next empty slot', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.set('bar_from', 2);
  r.device.set('bar_to', 3);
  r.device.generate();
  answer(r.device, r.outbox);
  assert.match(r.last(), /^Done: 8 notes in bars 2-3 -> Verse diffjam 1\./);
  assert.deepEqual(r.world.notesOf(r.clip).map((n) => [n.start_time, n.pitch]),
    [[0, 60], [4, 62], [9, 64], [13, 65]], 'the original is untouched');
  const copy = r.world.slotClip(r.track, 1);
  assert.notEqual(copy, 0);
  assert.equal(r.world.get(copy).name, 'Verse diffjam 1');
  const notes = r.world.notesOf(copy).map((n) => [n.start_time, n.pitch]);
  // bars 2-3 (beats 4..12) regenerated, beats 0 and 13 kept
  assert.deepEqual(notes, [[0, 60], [4, 64], [5, 65], [6, 66], [7, 67], [8, 60], [9, 61],
    [10, 62], [11, 63], [13, 65]]);
  // one undo removes the copy again
  r.world.undo();
  assert.equal(r.world.slotClip(r.track, 1), 0);
  assert.equal(r.world.undoStack.length, 0, 'the whole edit was one undo step');
});

test('keep original off: the clip itself is rewritten, and one undo restores it', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.set('keep_original', 0);
  r.device.set('bar_from', 1);
  r.device.set('bar_to', 1);
  r.device.generate();
  answer(r.device, r.outbox);
  assert.match(r.last(), /^Done: 4 notes in bars 1-1 -> Verse\./);
  assert.deepEqual(r.world.notesOf(r.clip).map((n) => [n.start_time, n.pitch]),
    [[0, 60], [1, 61], [2, 62], [3, 63], [4, 62], [9, 64], [13, 65]]);
  assert.equal(r.world.slotClip(r.track, 1), 0, 'no copy');
  r.world.undo();
  assert.deepEqual(r.world.notesOf(r.clip).map((n) => [n.start_time, n.pitch]),
    [[0, 60], [4, 62], [9, 64], [13, 65]]);
});

test('variations go into copies, skipping filled slots and adding a scene when full', () => {
  const r = rig({ clipOptions: { notes: VERSE }, slots: 3 });
  r.world.addClip(r.track, 2, { name: 'Chorus' });
  r.device.set('variations', 2);
  r.device.generate();
  answer(r.device, r.outbox);
  assert.match(r.last(), /-> Verse diffjam 1, Verse diffjam 2\./);
  assert.equal(r.world.get(r.world.slotClip(r.track, 1)).name, 'Verse diffjam 1');
  assert.equal(r.world.get(r.world.slotClip(r.track, 2)).name, 'Chorus');
  assert.equal(r.world.get(r.world.slotClip(r.track, 3)).name, 'Verse diffjam 2');
  assert.equal(r.world.get(r.world.song).scenes, 4);
  // variation 2 is variation 1 a semitone up (fake engine)
  const v1 = r.world.notesOf(r.world.slotClip(r.track, 1));
  const v2 = r.world.notesOf(r.world.slotClip(r.track, 3));
  assert.equal(v2[1].pitch, v1[1].pitch + 1);
});

test('keep original off with variations: copies start from the user\'s clip', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.set('keep_original', 0);
  r.device.set('variations', 2);
  r.device.set('bar_from', 1);
  r.device.set('bar_to', 1);
  r.device.generate();
  answer(r.device, r.outbox);
  const copy = r.world.notesOf(r.world.slotClip(r.track, 1));
  assert.deepEqual(copy.map((n) => [n.start_time, n.pitch]),
    [[0, 61], [1, 62], [2, 63], [3, 64], [4, 62], [9, 64], [13, 65]]);
  const original = r.world.notesOf(r.clip);
  assert.deepEqual(original.slice(0, 4).map((n) => n.pitch), [60, 61, 62, 63]);
});

test('an arrangement clip is copied into a session slot with its loop and notes', () => {
  const world = new LiveWorld();
  const track = world.addTrack({ slots: 2 });
  const clip = world.addClip(track, null, { name: 'Arr', notes: VERSE, loopStart: 4,
    loopEnd: 16, startMarker: 4, endMarker: 16 });
  world.select(clip);
  const outbox = [];
  const statuses = [];
  const device = new dj.Device({ LiveAPI: world.LiveAPI(), send: (m) => outbox.push(m),
    configure: () => {}, status: (t) => statuses.push(t),
    schedule: () => ({ cancel() {} }), newId: () => 'arr-1' });
  device.set('bar_from', 4);
  device.generate();
  answer(device, outbox);
  assert.match(statuses[statuses.length - 1], /-> Arr diffjam 1\./);
  const copy = world.get(world.slotClip(track, 0));
  assert.equal(copy.name, 'Arr diffjam 1');
  assert.deepEqual([copy.loop_start, copy.loop_end, copy.start_marker, copy.end_marker],
    [4, 16, 4, 16]);
  assert.deepEqual(world.notesOf(copy.id).map((n) => [n.start_time, n.pitch]),
    [[4, 62], [9, 64], [12, 64], [13, 65], [14, 66], [15, 67]],
    'notes before the start marker cannot play and are not copied');
});

test('accompany adds the accompaniment without doubling the melody', () => {
  const r = rig({ clipOptions: { notes: VERSE, loopEnd: 8, endMarker: 16 } });
  r.device.set('mode', 'accompany');
  r.device.generate();
  const { params, notes } = sentRequest(r.outbox);
  assert.equal(params.n_bars, 2);
  assert.deepEqual(notes.map((n) => n.start), [0, 4]);
  answer(r.device, r.outbox);
  const copy = r.world.notesOf(r.world.slotClip(r.track, 1));
  assert.deepEqual(copy.map((n) => [n.start_time, n.pitch]), [[0, 48], [0, 52], [0, 55],
    [0, 60], [4, 48], [4, 52], [4, 55], [4, 62], [9, 64], [13, 65]]);
});

test('infill on an empty clip asks for generate and fills the range', () => {
  const r = rig({ clipOptions: { notes: [] } });
  r.device.set('bar_from', 2);
  r.device.set('bar_to', 2);
  r.device.generate();
  const { mode, params } = sentRequest(r.outbox);
  assert.equal(mode, 'generate');
  assert.equal(params.n_bars, 1);
  assert.match(r.last(), /^Sent generate for bars 2-2 \(0 notes\)/);
  answer(r.device, r.outbox);
  assert.deepEqual(r.world.notesOf(r.world.slotClip(r.track, 1)).map((n) => [n.start_time,
    n.pitch]), [[4, 48], [4, 52], [4, 55]]);
});

test('an engine that never answers times out with a message', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.generate();
  assert.equal(r.timers[r.timers.length - 1].ms, dj.ACCEPT_TIMEOUT_MS);
  r.fireTimers();
  assert.equal(r.last(), 'The engine did not answer on 127.0.0.1:9000. Is `diffjam serve` ' +
    'running?');
  assert.equal(r.device.busy(), false);
  // a late reply changes nothing
  r.device.receive('/diffjam/accepted', ['req-1', 0]);
  assert.match(r.last(), /did not answer/);
});

test('an engine that goes quiet after accepting times out too', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.generate();
  r.device.receive('/diffjam/accepted', ['req-1', 1]);
  assert.equal(r.last(), 'Queued (1 ahead)...');
  r.device.receive('/diffjam/progress', ['req-1', 0.4]);
  assert.equal(r.last(), 'Generating... 40%');
  const live = r.timers.filter((t) => !t.cancelled);
  assert.equal(live.length, 1);
  assert.equal(live[0].ms, dj.REPLY_TIMEOUT_MS);
  r.fireTimers();
  assert.match(r.last(), /stopped answering in the middle of the request/);
});

test('engine errors show in the status line and the next Generate works', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.generate();
  r.device.receive('/diffjam/accepted', ['req-1', 0]);
  r.device.receive('/diffjam/error', ['req-1', 7, 'BAD_BARS', 'bars 9-9 are outside the clip']);
  assert.equal(r.last(), 'Engine error BAD_BARS (7): bars 9-9 are outside the clip (check the ' +
    'bar range against the clip length)');
  assert.equal(r.device.generate(), true);
  assert.equal(sentRequest(r.outbox).id, 'req-2');
});

test('Generate while a request is in flight is refused', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.generate();
  assert.equal(r.device.generate(), false);
  assert.equal(r.last(), 'Still waiting for the last request.');
});

test('a lost result chunk gives a message and writes nothing', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.generate();
  r.device.receive('/diffjam/accepted', ['req-1', 0]);
  r.device.receive('/diffjam/result', ['req-1', 0, 1, 2, 4, 1, 60, 90]);
  r.device.receive('/diffjam/done', ['req-1', JSON.stringify({ variations: 1, notes: [2] })]);
  assert.match(r.last(), /result arrived incomplete .*variation 1 chunk 1/);
  assert.equal(r.world.slotClip(r.track, 1), 0);
});

test('the engine status answers hello; a protocol mismatch is reported', () => {
  const r = rig();
  r.device.receive('/diffjam/status', [JSON.stringify({ protocol: 1, model: 'pop909-small',
    device: 'cpu' })]);
  assert.equal(r.last(), 'Engine ready: pop909-small on cpu.');
  r.device.receive('/diffjam/status', [JSON.stringify({ protocol: 2 })]);
  assert.match(r.last(), /protocol 2, this device 1/);
});

test('a bad setting from the UI is reported and ignored', () => {
  const r = rig();
  assert.equal(r.device.set('steps', 5000), false);
  assert.match(r.last(), /steps must be a whole number from 1 to 1000, got 5000/);
  assert.equal(r.device.settings.steps, 10);
});

test('Max glue: float messages take the typed path, others go straight out', () => {
  const outlets = [];
  global.outlet = (index, list) => outlets.push([index, list]);
  try {
    dj.maxSend(dj.notesMessage('r', 0, 1, [{ start: 1, duration: 0.5, pitch: 60,
      velocity: 90 }, { start: 2, duration: 1, pitch: 62, velocity: 80 }]));
    dj.maxSend(dj.helloMessage(9001));
  } finally {
    delete global.outlet;
  }
  assert.throws(() => dj.maxSend({ address: '/diffjam/other', types: 'f', args: [1] }),
    /only \/diffjam\/notes has a typed-float path/);
  assert.deepEqual(outlets, [
    [0, ['note', 1, 0.5, 60, 90]],
    [0, ['note', 2, 1, 62, 80]],
    [0, ['send', 'r', 0, 1]],
    [0, ['/diffjam/hello', 9001]],
  ]);
});
