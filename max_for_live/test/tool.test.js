'use strict';
// The Live 12 MIDI Tool (Generator) against the fake MIDI Tool host
// (support/miditool_mock.js) and the fake LiveAPI: two apply cycles per Generate, the time
// selection, the grid and scale context, Re-roll, a fixed seed, Cancel.

const test = require('node:test');
const assert = require('node:assert/strict');
const dj = require('../diffjam');
const { LiveWorld } = require('./support/live_mock');
const { MidiToolHost } = require('./support/miditool_mock');
const { infillResult, accompanyResult } = require('./support/fake_engine');

function liveNote(start_time, pitch, duration = 1, velocity = 100) {
  return { start_time, pitch, duration, velocity };
}

const MELODY = [liveNote(0, 60), liveNote(2, 62), liveNote(5, 64), liveNote(6.5, 65, 0.5),
  liveNote(9, 67), liveNote(13, 69)];

function rig({ notes = MELODY, hostOptions = {}, clipOptions = {} } = {}) {
  const world = new LiveWorld();
  const track = world.addTrack({ name: 'Lead', slots: 2 });
  const clip = world.addClip(track, 0, { name: 'Riff', notes, ...clipOptions });
  world.select(clip);
  const host = new MidiToolHost(world, clip, { selection: [4, 8], ...hostOptions });
  const outbox = [];
  const statuses = [];
  const seeds = [];
  const clock = { now: 0 };
  let counter = 0;
  const tool = new dj.Tool({
    LiveAPI: world.LiveAPI(),
    send: (message) => outbox.push(message),
    configure: () => {},
    status: (text) => statuses.push(text),
    now: () => clock.now,
    random: () => 0.5,
    newId: () => `tool-${++counter}`,
    output: (liveNotes) => host.output(liveNotes),
    requestApply: () => host.bang(),
    showSeed: (seed) => seeds.push(seed),
  });
  host.connect(tool);
  tool.init();
  return { world, clip, host, tool, outbox, statuses, seeds, clock,
    last: () => statuses[statuses.length - 1] };
}

function lastRequest(outbox) {
  const start = outbox.map((m) => m.address).lastIndexOf('/diffjam/hello');
  const notes = [];
  let params = null;
  let mode = null;
  let id = null;
  for (const m of outbox.slice(start)) {
    if (m.address === '/diffjam/notes') {
      for (let i = 3; i < m.args.length; i += 4) {
        notes.push({ start: m.args[i], duration: m.args[i + 1], pitch: m.args[i + 2],
          velocity: m.args[i + 3] });
      }
    } else if (/^\/diffjam\/(infill|accompany|generate)$/.test(m.address)) {
      mode = m.address.slice(9);
      params = JSON.parse(m.args[1]);
      id = m.args[0];
    }
  }
  return { notes, params, mode, id };
}

// A deterministic engine: the same request (seed included) gives the same notes; infill
// moves its notes by seed % 3 semitones so another seed gives other notes.
function engineAnswers(tool, outbox, info = {}) {
  const { notes, params, mode, id } = lastRequest(outbox);
  const result = mode === 'accompany' ? accompanyResult(notes, params)
    : infillResult(notes, params).map((n) => ({ ...n, pitch: n.pitch + (params.seed % 3) }));
  const args = [id, 0, 0, 1];
  for (const n of result) args.push(n.start, n.duration, n.pitch, n.velocity);
  tool.receive('/diffjam/accepted', [id, 0]);
  tool.receive('/diffjam/result', args);
  tool.receive('/diffjam/done', [id, JSON.stringify({ variations: 1, notes: [result.length],
    ...info })]);
}

const pairs = (notes) => notes.map((n) => [n.start_time, n.pitch]);

test('Generate: the first apply cycle leaves the clip as it is and sends the request', () => {
  const r = rig();
  const before = r.world.notesOf(r.clip);
  assert.equal(r.tool.generate(), true);
  assert.deepEqual(r.host.errors, []);
  assert.equal(r.host.applied, 1, 'the cycle was answered');
  assert.deepEqual(r.world.notesOf(r.clip), before, 'answered with the selection unchanged');
  const { mode, params, notes } = lastRequest(r.outbox);
  assert.equal(mode, 'infill');
  assert.deepEqual(params.bars, [2, 2], 'the bars covering beats 4-8');
  assert.equal(params.variations, 1);
  assert.equal(notes.length, MELODY.length, 'the whole clip is the context');
  assert.match(r.last(), /^Sent infill for 2\.1\.1-3\.1\.1 \(seed \d+\), waiting/);
});

test('the result replaces the time selection in a second cycle; the rest stays', () => {
  const r = rig();
  r.tool.generate();
  engineAnswers(r.tool, r.outbox);
  assert.deepEqual(r.host.errors, []);
  assert.equal(r.host.applied, 2);
  const seedShift = lastRequest(r.outbox).params.seed % 3;
  assert.deepEqual(pairs(r.world.notesOf(r.clip)), [[0, 60], [2, 62],
    [4, 64 + seedShift], [5, 65 + seedShift], [6, 66 + seedShift], [7, 67 + seedShift],
    [9, 67], [13, 69]]);
  assert.match(r.last(), /^Done: 4 notes in the selection, seed \d+\. Re-roll for another\.$/);
});

test('Candidates: the tool sends the count set and says the result was the best of it', () => {
  const r = rig();
  r.tool.set('candidates', 4);
  r.tool.generate();
  assert.equal(lastRequest(r.outbox).params.candidates, 4);
  engineAnswers(r.tool, r.outbox, { candidates: 4 });
  assert.match(r.last(),
    /^Done: 4 notes in the selection, seed \d+\. Each the best of 4\. Re-roll for another\.$/);
});

test('a cycle Live starts by itself (Auto Apply) changes nothing and sends nothing', () => {
  const r = rig();
  const before = r.world.notesOf(r.clip);
  r.host.bang();
  assert.deepEqual(r.host.errors, []);
  assert.deepEqual(r.world.notesOf(r.clip), before);
  assert.deepEqual(r.outbox.map((m) => m.address), ['/diffjam/hello']);
});

test('a fixed seed gives the same notes every time; Re-roll moves to the next seed', () => {
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const r = rig();
    r.tool.set('seed', 40);
    r.tool.generate();
    assert.equal(lastRequest(r.outbox).params.seed, 40);
    engineAnswers(r.tool, r.outbox);
    runs.push({ notes: r.world.notesOf(r.clip), params: lastRequest(r.outbox).params });
  }
  assert.deepEqual(runs[0], runs[1]);
  const r = rig();
  r.tool.set('seed', 40);
  r.tool.generate();
  engineAnswers(r.tool, r.outbox);
  r.tool.reroll();
  assert.deepEqual(r.seeds, [41], 'the Seed box shows the new seed');
  assert.equal(lastRequest(r.outbox).params.seed, 41);
  engineAnswers(r.tool, r.outbox);
  assert.notDeepEqual(r.world.notesOf(r.clip), runs[0].notes);
  assert.deepEqual(r.host.errors, []);
});

test('Re-roll from a random seed continues from the seed it used', () => {
  const r = rig();
  r.tool.generate();
  const used = lastRequest(r.outbox).params.seed;
  engineAnswers(r.tool, r.outbox);
  r.tool.reroll();
  assert.equal(lastRequest(r.outbox).params.seed, used + 1);
});

test('the grid: results are snapped to the clip grid', () => {
  const r = rig({ hostOptions: { grid: { interval: 1, enabled: 1 }, selection: [4, 8] } });
  const request = { mode: 'infill', offset: 0 };
  const planned = dj.planSelection(request, { start: 4, end: 8 }, [],
    [{ start: 4.25, duration: 0.25, pitch: 60, velocity: 90 },
      { start: 5.75, duration: 1.5, pitch: 62, velocity: 90 }], 1);
  assert.deepEqual(planned.map((n) => [n.start, n.duration]), [[4, 1], [6, 2]]);
  r.tool.generate();
  engineAnswers(r.tool, r.outbox);
  for (const n of r.world.notesOf(r.clip)) {
    assert.equal(n.start_time % 1, 0, JSON.stringify(n));
  }
});

test('the scale context sets the key when Live\'s scale is on', () => {
  const r = rig({ hostOptions: { scale: { scale_mode: 1, root_note: 7,
    scale_intervals: [0, 2, 4, 5, 7, 9, 11], scale_name: 'Major' } } });
  r.tool.generate();
  assert.equal(lastRequest(r.outbox).params.key, 'G');
  const off = rig({ hostOptions: { scale: { scale_mode: 0, root_note: 7,
    scale_intervals: [0, 2, 4, 5, 7, 9, 11] } } });
  off.tool.generate();
  assert.equal(lastRequest(off.outbox).params.key, undefined);
});

test('accompany: the selection\'s notes are the melody; the result is added to them', () => {
  const r = rig({ hostOptions: { selection: [4, 12] } });
  r.tool.set('mode', 'accompany');
  r.tool.generate();
  const { mode, params, notes } = lastRequest(r.outbox);
  assert.equal(mode, 'accompany');
  assert.equal(params.n_bars, 2);
  assert.deepEqual(notes.map((n) => [n.start, n.pitch]), [[1, 64], [2.5, 65], [5, 67]]);
  engineAnswers(r.tool, r.outbox);
  const inSelection = r.world.notesOf(r.clip).filter((n) => n.start_time >= 4 && n.start_time < 12);
  const melody = inSelection.filter((n) => n.pitch >= 60);
  assert.deepEqual(pairs(melody), [[5, 64], [6.5, 65], [9, 67]], 'the melody stays');
  assert.equal(inSelection.length - melody.length, 6, 'two bars of three-note chords');
});

test('no time selection: the clip loop', () => {
  const r = rig({ hostOptions: { selection: null }, clipOptions: { loopStart: 4, loopEnd: 12 } });
  r.tool.generate();
  assert.deepEqual(lastRequest(r.outbox).params.bars, [2, 3]);
});

test('the selection changed while the engine worked: nothing is written', () => {
  const r = rig();
  r.tool.generate();
  const before = r.world.notesOf(r.clip);
  r.host.interrupt({ selection: [8, 12] });
  engineAnswers(r.tool, r.outbox);
  assert.deepEqual(r.world.notesOf(r.clip), before);
  assert.match(r.last(), /The selection changed while the engine worked; nothing was written/);
  assert.deepEqual(r.host.errors, []);
});

test('Cancel stops the request; a late result is ignored', () => {
  const r = rig();
  r.tool.generate();
  const before = r.world.notesOf(r.clip);
  assert.equal(r.tool.cancel(), true);
  assert.equal(r.outbox[r.outbox.length - 1].address, '/diffjam/cancel');
  engineAnswers(r.tool, r.outbox);
  assert.deepEqual(r.world.notesOf(r.clip), before);
  assert.equal(r.host.applied, 1);
});

test('a clip in 3/4 is refused and the cycle still answered', () => {
  const r = rig({ clipOptions: { numerator: 3 } });
  r.tool.generate();
  assert.match(r.last(), /Only 4\/4 clips are supported/);
  assert.deepEqual(r.host.errors, []);
  assert.equal(r.tool.busy(), false);
});

test('a silent engine: the deadline passes on the wall clock', () => {
  const r = rig();
  r.tool.generate();
  r.clock.now += dj.ACCEPT_TIMEOUT_MS;
  r.tool.tick();
  assert.match(r.last(), /did not answer/);
});

test('positions read like Live\'s: bar.beat.sixteenth', () => {
  assert.equal(dj.position(0), '1.1.1');
  assert.equal(dj.position(4), '2.1.1');
  assert.equal(dj.position(5.75), '2.2.4');
});
