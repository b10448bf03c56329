'use strict';
// The MIDI effect against the fake LiveAPI (support/live_mock.js, every call documented):
// the Target line, reading the clip, the round trip with the engine's replies fed in by hand
// (in any order), writing into Live (new clips, in place, a new track, the Arrangement),
// deadlines on the wall clock, Cancel and error messages.

const test = require('node:test');
const assert = require('node:assert/strict');
const dj = require('../diffjam');
const { LiveWorld } = require('./support/live_mock');
const { infillResult, accompanyResult } = require('./support/fake_engine');

function liveNote(start_time, pitch, duration = 1, velocity = 100) {
  return { start_time, pitch, duration, velocity };
}

// A device wired to a fake world, a hand-moved wall clock and an outbox instead of UDP.
function rig({ clipOptions = {}, slot = 0, slots = 4, select = true, world = null,
  arrangement = false } = {}) {
  const w = world || new LiveWorld({ tempo: 100 });
  const track = w.addTrack({ name: 'Keys', slots });
  const clip = w.addClip(track, arrangement ? null : slot, { name: 'Verse', ...clipOptions });
  const outbox = [];
  const statuses = [];
  const targets = [];
  const clock = { now: 1000 };
  let counter = 0;
  const device = new dj.Device({
    LiveAPI: w.LiveAPI(),
    send: (message) => outbox.push(message),
    configure: () => {},
    status: (text) => statuses.push(text),
    target: (text) => targets.push(text),
    now: () => clock.now,
    random: () => 0.25,
    newId: () => `req-${++counter}`,
  });
  device.init();
  if (select) {
    w.select(clip);
  }
  return { world: w, track, clip, device, outbox, statuses, targets, clock,
    last: () => statuses[statuses.length - 1],
    target: () => targets[targets.length - 1] };
}

// What the engine would receive: the last request's notes and params.
function sentRequest(outbox) {
  const start = outbox.map((m) => m.address).lastIndexOf('/diffjam/hello');
  const notes = [];
  let params = null;
  let mode = null;
  let id = null;
  for (const message of outbox.slice(start)) {
    if (message.address === '/diffjam/notes') {
      for (let i = 3; i < message.args.length; i += 4) {
        notes.push({ start: message.args[i], duration: message.args[i + 1],
          pitch: message.args[i + 2], velocity: message.args[i + 3] });
      }
    } else if (/^\/diffjam\/(infill|accompany|generate)$/.test(message.address)) {
      mode = message.address.slice('/diffjam/'.length);
      params = JSON.parse(message.args[1]);
      id = message.args[0];
    }
  }
  return { notes, params, mode, id };
}

// The engine's replies for the request in the outbox, in order (or shuffled by `order`).
function replies(outbox, { variations, candidates, order = (list) => list } = {}) {
  const { notes, params, mode, id } = sentRequest(outbox);
  const count = variations || params.variations;
  const out = [['/diffjam/accepted', [id, 0]], ['/diffjam/progress', [id, 0.5]]];
  const counts = [];
  for (let v = 0; v < count; v++) {
    const result = (mode === 'infill' ? infillResult(notes, params) : accompanyResult(notes, params))
      .map((n) => ({ ...n, pitch: n.pitch + v }));
    counts.push(result.length);
    const args = [id, v, 0, 1];
    for (const n of result) args.push(n.start, n.duration, n.pitch, n.velocity);
    out.push(['/diffjam/result', args]);
  }
  const info = { variations: count, notes: counts };
  if (candidates !== undefined) info.candidates = candidates;
  out.push(['/diffjam/done', [id, JSON.stringify(info)]]);
  return order(out);
}

function answer(device, outbox, options) {
  for (const [address, args] of replies(outbox, options)) device.receive(address, args);
}

const VERSE = [liveNote(0, 60), liveNote(4, 62), liveNote(9, 64), liveNote(13, 65)];
const pairs = (notes) => notes.map((n) => [n.start_time, n.pitch]);

test('the Target line names the clip, track, place, bars, key and destination', () => {
  const r = rig({ clipOptions: { notes: VERSE, loopEnd: 8 } });
  assert.equal(r.target(), 'Target: "Verse" on Keys, Session slot 1, bars 1-2, key estimated, ' +
    'as new clips below.');
  r.device.set('bar_from', 2);
  r.device.set('keep_original', 0);
  assert.match(r.target(), /bars 2-2, key estimated, into this clip\.$/);
  r.world.select(0);
  assert.equal(r.target(), 'Target: none. No clip selected: click a MIDI clip, then press ' +
    'Generate.');
});

test('Generate writes to the clip the Target line showed', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  const other = r.world.addClip(r.track, 2, { name: 'Other', notes: VERSE });
  r.world.select(other);
  assert.match(r.target(), /^Target: "Other"/);
  r.device.generate();
  answer(r.device, r.outbox);
  assert.match(r.last(), /^Done: .* -> Other diffjam 1 seed \d+\. Seed \d+\.$/);
  assert.notEqual(r.world.slotClip(r.track, 3), 0, 'the copy went below Other');
});

test('no selected clip gives a clear message and sends only hello', () => {
  const r = rig({ select: false });
  assert.equal(r.device.generate(), false);
  assert.equal(r.last(), 'No clip selected: click a MIDI clip, then press Generate.');
  assert.deepEqual(r.outbox.map((m) => m.address), ['/diffjam/hello']);
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

test('notes are read over loop and markers; seed and tempo go with the request', () => {
  // The loop is bars 3-4, the start marker at 0: a read of [0, length) would miss beat 13.
  const r = rig({ clipOptions: { notes: VERSE, loopStart: 8, loopEnd: 16, startMarker: 0,
    endMarker: 16 } });
  assert.equal(r.device.generate(), true);
  const { notes, params } = sentRequest(r.outbox);
  assert.deepEqual(notes.map((n) => n.start), [0, 4, 9, 13]);
  assert.deepEqual(params.bars, [3, 4]); // the default range is the loop
  assert.equal(params.clip_beats, 16);
  assert.equal(params.tempo, 100);
  assert.equal(params.seed, 1 + Math.floor(0.25 * (dj.LIMITS.seed[1] - 1)));
  assert.equal(params.key, undefined, 'no key: the engine estimates it');
  const reads = r.world.calls.filter((c) => c.name === 'get_notes_extended');
  assert.deepEqual(reads[reads.length - 1].args, [0, 128, 0, 16]);
  assert.deepEqual(r.outbox[0], { address: '/diffjam/hello', types: 'i',
    args: [dj.AUTO_PORT_BASE + (2 % dj.AUTO_PORT_SPAN)] });
});

test('a fixed seed is sent as is and named in the result', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.set('seed', 77);
  r.device.generate();
  assert.equal(sentRequest(r.outbox).params.seed, 77);
  answer(r.device, r.outbox);
  assert.equal(r.world.get(r.world.slotClip(r.track, 1)).name, 'Verse diffjam 1 seed 77');
});

test('Live 12 scale: the key goes with the request when Scale Mode is on', () => {
  const world = new LiveWorld({ scale: { mode: 1, root: 9, name: 'Minor' } });
  const r = rig({ world, clipOptions: { notes: VERSE } });
  assert.match(r.target(), /key Am \(Live's scale\)/);
  r.device.generate();
  assert.equal(sentRequest(r.outbox).params.key, 'Am');
  r.device.set('key', 'F# minor');
  assert.match(r.target(), /key F# minor,/);
  r.device.cancel();
  r.device.generate();
  assert.equal(sentRequest(r.outbox).params.key, 'F# minor');
});

test('Live 12 scale: Dorian is not a key the engine knows; off and Live 11 estimate', () => {
  const dorian = rig({ world: new LiveWorld({ scale: { mode: 1, root: 2, name: 'Dorian' } }),
    clipOptions: { notes: VERSE } });
  assert.match(dorian.target(), /key estimated \(Live's D Dorian is not major or minor\)/);
  const off = rig({ world: new LiveWorld({ scale: { mode: 0, root: 2, name: 'Major' } }) });
  assert.match(off.target(), /key estimated,/);
  const live11 = rig({ world: new LiveWorld({ live: 11 }), clipOptions: { notes: VERSE } });
  assert.match(live11.target(), /key estimated,/);
  live11.device.generate();
  assert.equal(sentRequest(live11.outbox).params.key, undefined);
});

test('new clips: each variation goes into a named, coloured copy below; the original stays', () => {
  const r = rig({ clipOptions: { notes: VERSE }, slots: 3 });
  r.world.addClip(r.track, 2, { name: 'Chorus' });
  r.device.set('seed', 5);
  r.device.set('variations', 2);
  r.device.set('bar_from', 2);
  r.device.set('bar_to', 3);
  r.device.generate();
  answer(r.device, r.outbox);
  assert.match(r.last(), /-> Verse diffjam 1 seed 5, Verse diffjam 2 seed 5\. Seed 5\.$/);
  assert.deepEqual(pairs(r.world.notesOf(r.clip)), [[0, 60], [4, 62], [9, 64], [13, 65]]);
  const one = r.world.get(r.world.slotClip(r.track, 1));
  const two = r.world.get(r.world.slotClip(r.track, 3));
  assert.equal(r.world.get(r.world.slotClip(r.track, 2)).name, 'Chorus');
  assert.equal(r.world.get(r.world.song).scenes, 4, 'a scene was added');
  assert.deepEqual([one.name, two.name], ['Verse diffjam 1 seed 5', 'Verse diffjam 2 seed 5']);
  assert.notEqual(one.color, two.color);
  // bars 2-3 (beats 4..12) regenerated, beats 0 and 13 kept
  assert.deepEqual(pairs(r.world.notesOf(one.id)), [[0, 60], [4, 64], [5, 65], [6, 66],
    [7, 67], [8, 60], [9, 61], [10, 62], [11, 63], [13, 65]]);
  assert.equal(r.world.notesOf(two.id)[1].pitch, r.world.notesOf(one.id)[1].pitch + 1);
});

test('into the clip: two Live edits (remove, add), no undo-step calls, undone in two steps', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.set('keep_original', 0);
  r.device.set('bar_from', 1);
  r.device.set('bar_to', 1);
  r.device.generate();
  const before = r.world.calls.length;
  answer(r.device, r.outbox);
  assert.match(r.last(), /^Done: 4 notes in bars 1-1 -> Verse \(in place\)\./);
  assert.deepEqual(pairs(r.world.notesOf(r.clip)),
    [[0, 60], [1, 61], [2, 62], [3, 63], [4, 62], [9, 64], [13, 65]]);
  assert.equal(r.world.slotClip(r.track, 1), 0, 'no copy');
  const edits = r.world.calls.slice(before).filter((c) => c.edit);
  assert.deepEqual(edits.map((c) => c.member), ['Clip.remove_notes_extended', 'Clip.add_new_notes']);
  assert.ok(!r.world.calls.some((c) => /undo/.test(c.name)));
  r.world.undo();
  r.world.undo();
  assert.deepEqual(pairs(r.world.notesOf(r.clip)), [[0, 60], [4, 62], [9, 64], [13, 65]]);
});

test('into the clip with variations: copies start from the user\'s clip', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.set('keep_original', 0);
  r.device.set('variations', 2);
  r.device.set('bar_from', 1);
  r.device.set('bar_to', 1);
  r.device.generate();
  answer(r.device, r.outbox);
  assert.deepEqual(pairs(r.world.notesOf(r.world.slotClip(r.track, 1))),
    [[0, 61], [1, 62], [2, 63], [3, 64], [4, 62], [9, 64], [13, 65]]);
  assert.deepEqual(r.world.notesOf(r.clip).slice(0, 4).map((n) => n.pitch), [60, 61, 62, 63]);
});

test('an Arrangement clip is written in place, also on a Live 12 take lane', () => {
  const world = new LiveWorld();
  const track = world.addTrack({ name: 'Lead', slots: 2 });
  const lane = world.addTakeLane(track);
  const r = rig({ world, arrangement: true, select: false });
  const clip = world.addClip(track, null, { name: 'Take', notes: VERSE, lane, startTime: 32 });
  world.select(clip);
  assert.match(r.target(), /^Target: "Take" on Lead, Arrangement, bars 1-4, key estimated, into this clip\.$/);
  r.device.set('bar_from', 2);
  r.device.set('bar_to', 2);
  r.device.generate();
  answer(r.device, r.outbox);
  assert.match(r.last(), /-> Take \(in place\)\./);
  assert.deepEqual(pairs(world.notesOf(clip)), [[0, 60], [4, 64], [5, 65], [6, 66], [7, 67],
    [9, 64], [13, 65]]);
  assert.equal(world.slotClip(track, 0), 0, 'nothing was copied into the Session');
});

test('an Arrangement clip takes one variation', () => {
  const r = rig({ arrangement: true, clipOptions: { notes: VERSE } });
  r.device.set('variations', 3);
  assert.equal(r.device.generate(), false);
  assert.match(r.last(), /An Arrangement clip takes one variation/);
});

test('accompany adds the accompaniment without doubling the melody', () => {
  const r = rig({ clipOptions: { notes: VERSE, loopEnd: 8, endMarker: 16 } });
  r.device.set('mode', 'accompany');
  r.device.generate();
  const { params, notes } = sentRequest(r.outbox);
  assert.equal(params.n_bars, 2);
  assert.deepEqual(notes.map((n) => n.start), [0, 4]);
  answer(r.device, r.outbox);
  assert.deepEqual(pairs(r.world.notesOf(r.world.slotClip(r.track, 1))), [[0, 48], [0, 52],
    [0, 55], [0, 60], [4, 48], [4, 52], [4, 55], [4, 62], [9, 64], [13, 65]]);
});

test('accompany to a new track: new clips in the same scene on a new track after the melody', () => {
  const r = rig({ clipOptions: { notes: VERSE, loopEnd: 8 }, slot: 1 });
  r.device.set('mode', 'accompany');
  r.device.set('new_track', 1);
  r.device.set('variations', 2);
  r.device.set('seed', 9);
  assert.match(r.target(), /accompaniment to a new track\.$/);
  r.device.generate();
  answer(r.device, r.outbox);
  const tracks = r.world.get(r.world.song).tracks;
  assert.equal(tracks.length, 2);
  assert.equal(tracks[0], r.track);
  assert.equal(r.world.get(tracks[1]).name, 'Keys accompaniment');
  assert.deepEqual(pairs(r.world.notesOf(r.clip)), [[0, 60], [4, 62], [9, 64], [13, 65]],
    'the melody clip is untouched');
  const first = r.world.get(r.world.slotClip(tracks[1], 1));
  const second = r.world.get(r.world.slotClip(tracks[1], 2));
  assert.equal(first.name, 'Verse diffjam 1 seed 9');
  assert.deepEqual([first.loop_start, first.loop_end], [0, 8]);
  assert.deepEqual(pairs(r.world.notesOf(first.id)), [[0, 48], [0, 52], [0, 55], [4, 48],
    [4, 52], [4, 55]], 'only the accompaniment');
  assert.equal(r.world.notesOf(second.id)[0].pitch, 49);
});

test('accompany to a new track from the Arrangement: a Live 12 clip at the same song time', () => {
  const world = new LiveWorld();
  const r = rig({ world, arrangement: true, select: false });
  const clip = world.addClip(r.track, null, { name: 'Arr', notes: VERSE, startTime: 64,
    loopStart: 0, loopEnd: 16 });
  world.select(clip);
  r.device.set('mode', 'accompany');
  r.device.set('new_track', 1);
  r.device.set('bar_from', 2);
  r.device.set('bar_to', 3);
  r.device.generate();
  answer(r.device, r.outbox);
  const track = world.get(world.get(world.song).tracks[1]);
  assert.equal(track.arrangementClips.length, 1);
  const made = world.get(track.arrangementClips[0]);
  assert.equal(made.start_time, 64 + 4);
  assert.deepEqual(pairs(world.notesOf(made.id)), [[0, 48], [0, 52], [0, 55], [4, 48], [4, 52],
    [4, 55]]);
});

test('accompany to a new track from the Arrangement in Live 11 says it cannot', () => {
  const world = new LiveWorld({ live: 11 });
  const r = rig({ world, arrangement: true, clipOptions: { notes: VERSE } });
  r.device.set('mode', 'accompany');
  r.device.set('new_track', 1);
  r.device.generate();
  answer(r.device, r.outbox);
  assert.match(r.last(), /Could not write the notes into Live: this Live cannot make Arrangement clips/);
});

test('infill on an empty clip asks for generate and fills the range', () => {
  const r = rig({ clipOptions: { notes: [] } });
  r.device.set('bar_from', 2);
  r.device.set('bar_to', 2);
  r.device.generate();
  const { mode, params } = sentRequest(r.outbox);
  assert.equal(mode, 'generate');
  assert.equal(params.n_bars, 1);
  assert.match(r.last(), /^Sent generate for bars 2-2 of "Verse" \(0 notes, seed \d+\)/);
  answer(r.device, r.outbox);
  assert.deepEqual(pairs(r.world.notesOf(r.world.slotClip(r.track, 1))),
    [[4, 48], [4, 52], [4, 55]]);
});

test('replies in any order, done before its chunks included, write the same notes', () => {
  const orders = {
    reversed: (list) => list.slice().reverse(),
    doneFirst: (list) => [list[list.length - 1]].concat(list.slice(0, -1)),
    chunksLast: (list) => list.filter((m) => m[0] !== '/diffjam/result')
      .concat(list.filter((m) => m[0] === '/diffjam/result')),
  };
  const reference = rig({ clipOptions: { notes: VERSE } });
  reference.device.set('variations', 3);
  reference.device.generate();
  answer(reference.device, reference.outbox);
  const expected = [1, 2, 3].map((s) => pairs(reference.world.notesOf(
    reference.world.slotClip(reference.track, s))));
  for (const [name, order] of Object.entries(orders)) {
    const r = rig({ clipOptions: { notes: VERSE } });
    r.device.set('variations', 3);
    r.device.generate();
    answer(r.device, r.outbox, { order });
    assert.match(r.last(), /^Done: /, name);
    assert.deepEqual([1, 2, 3].map((s) => pairs(r.world.notesOf(r.world.slotClip(r.track, s)))),
      expected, name);
  }
});

test('done before a chunk that never comes: incomplete after the grace time, nothing written', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.generate();
  const id = sentRequest(r.outbox).id;
  r.device.receive('/diffjam/accepted', [id, 0]);
  r.device.receive('/diffjam/result', [id, 0, 1, 2, 4, 1, 60, 90]);
  r.device.receive('/diffjam/done', [id, JSON.stringify({ variations: 1, notes: [2] })]);
  assert.equal(r.device.busy(), true, 'still waiting for chunk 1');
  r.clock.now += dj.CHUNK_GRACE_MS - 1;
  r.device.tick();
  assert.equal(r.device.busy(), true);
  r.clock.now += 1;
  r.device.tick();
  assert.match(r.last(), /result arrived incomplete \(1 chunk\(s\) lost: variation 1 chunk 1\)/);
  assert.equal(r.world.slotClip(r.track, 1), 0);
});

test('an engine that never answers: the deadline is wall-clock time, checked on any event', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.generate();
  r.clock.now += dj.ACCEPT_TIMEOUT_MS - 1;
  r.device.tick();
  assert.equal(r.device.busy(), true);
  r.clock.now += 1;
  // no Task ran (Live's audio engine off): the next button press notices
  assert.equal(r.device.generate(), true);
  assert.ok(r.statuses.includes('The engine did not answer on 127.0.0.1:9000. Is `diffjam ' +
    'serve` running?'));
  assert.equal(sentRequest(r.outbox).id, 'req-2');
});

test('an engine that goes quiet after accepting times out too; a late reply changes nothing', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.generate();
  r.device.receive('/diffjam/accepted', ['req-1', 1]);
  assert.equal(r.last(), 'Queued (1 ahead)...');
  r.device.receive('/diffjam/progress', ['req-1', 0.4]);
  assert.equal(r.last(), 'Generating... 40%');
  r.clock.now += dj.REPLY_TIMEOUT_MS;
  r.device.tick();
  assert.match(r.last(), /stopped answering in the middle of the request/);
  r.device.receive('/diffjam/progress', ['req-1', 0.5]);
  assert.match(r.last(), /stopped answering/);
});

test('Cancel sends /diffjam/cancel, frees the device and ignores the late replies', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  assert.equal(r.device.cancel(), false);
  assert.equal(r.last(), 'Nothing to cancel.');
  r.device.generate();
  const late = replies(r.outbox);
  r.device.receive('/diffjam/accepted', ['req-1', 0]);
  assert.equal(r.device.cancel(), true);
  assert.deepEqual(r.outbox[r.outbox.length - 1], { address: '/diffjam/cancel', types: 's',
    args: ['req-1'] });
  assert.equal(r.last(), 'Cancelled; nothing was written.');
  for (const [address, args] of late) r.device.receive(address, args);
  r.device.receive('/diffjam/error', ['req-1', 14, 'CANCELLED', 'cancelled']);
  assert.equal(r.last(), 'Cancelled; nothing was written.');
  assert.equal(r.world.slotClip(r.track, 1), 0);
  assert.equal(r.device.generate(), true);
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
  assert.equal(r.last(), 'Still waiting for the last request (Cancel stops it).');
});

test('the engine status answers hello; a protocol mismatch is reported', () => {
  const r = rig();
  r.device.receive('/diffjam/status', [JSON.stringify({ protocol: 1, model: 'pop909-small',
    device: 'cpu' })]);
  assert.equal(r.last(), 'Engine ready: pop909-small on cpu.');
  r.device.receive('/diffjam/status', [JSON.stringify({ protocol: 2 })]);
  assert.match(r.last(), /protocol 2, this device 1/);
});

test('Candidates: sent when set, checked against the engine\'s limit, the best-of shown', () => {
  const r = rig({ clipOptions: { notes: VERSE } });
  r.device.set('mode', 'accompany');
  r.device.set('chords', 'C G');
  r.device.generate();
  assert.equal('candidates' in sentRequest(r.outbox).params, false, 'default: the engine picks');
  answer(r.device, r.outbox, { candidates: 12 });
  assert.match(r.last(), /^Done: .*\. Seed \d+\. Each the best of 12\.$/);
  // an engine that says it draws at most 16 samples a request
  r.device.receive('/diffjam/status', [JSON.stringify({ protocol: 1, model: 'm', device: 'cpu',
    limits: { max_rolls: 16 }, capabilities: { params: ['candidates', 'variations'] } })]);
  r.device.set('variations', 2);
  r.device.set('candidates', 12);
  const sent = r.outbox.length;
  assert.equal(r.device.generate(), false);
  assert.equal(r.last(), '2 variations of 12 candidates are 24 samples; the engine draws at ' +
    'most 16 a request (at most 8 candidates for 2 variations).');
  assert.equal(r.outbox.slice(sent).some((m) => m.address === '/diffjam/accompany'), false);
  r.device.set('candidates', 8);
  assert.equal(r.device.generate(), true);
  assert.equal(sentRequest(r.outbox).params.candidates, 8);
  answer(r.device, r.outbox, { candidates: 8 });
  assert.match(r.last(), /Each the best of 8\.$/);
  // one sample a variation: nothing to add
  r.device.set('candidates', 1);
  r.device.generate();
  answer(r.device, r.outbox, { candidates: 1 });
  assert.match(r.last(), /\. Seed \d+\.$/);
});

test('a bad setting from the UI is reported and ignored', () => {
  const r = rig();
  assert.equal(r.device.set('steps', 5000), false);
  assert.match(r.last(), /steps must be a whole number from 1 to 1000, got 5000/);
  assert.equal(r.device.settings.steps, 10);
});

test('two devices in one set listen on different automatic reply ports', () => {
  const world = new LiveWorld();
  const ports = [];
  for (let i = 0; i < 2; i++) {
    world.device = world.add({ type: 'Device', parent: 0 });
    const device = new dj.Device({ LiveAPI: world.LiveAPI(), send: () => {},
      configure: (what, value) => ports.push([what, value]), status: () => {},
      target: () => {}, now: () => 0, random: () => 0, newId: () => 'x' });
    device.init();
  }
  assert.equal(ports.length, 2);
  assert.notEqual(ports[0][1], ports[1][1]);
  assert.ok(ports.every(([what, port]) => what === 'reply_port' && port > 9000 && port < 10000));
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

test('the fake LiveAPI answers only documented members, each with its source', () => {
  const { DOCUMENTED } = require('./support/live_mock');
  for (const [member, entry] of Object.entries(DOCUMENTED)) {
    assert.match(entry.doc, /^https:\/\/docs\.cycling74\.com\/apiref\//, member);
  }
  const r = rig({ clipOptions: { notes: VERSE } });
  const LiveAPI = r.world.LiveAPI();
  const song = new LiveAPI('live_set');
  assert.throws(() => song.call('begin_undo_step'), /remote-script API, not in the Max for Live/);
  assert.throws(() => new LiveAPI(`id ${r.clip}`).get('playing_position_x'),
    /Clip\.playing_position_x is not in the Live Object Model/);
  const live11 = new LiveWorld({ live: 11 });
  assert.throws(() => new (live11.LiveAPI())('live_set').get('scale_name'),
    /Song\.scale_name is not in the Live 11 API/);
  // every member the device used in this suite's runs is a documented one
  const used = new Set(r.world.calls.map((c) => c.member));
  for (const member of used) assert.ok(DOCUMENTED[member], member);
});
