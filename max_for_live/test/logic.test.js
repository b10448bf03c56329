'use strict';
// The pure logic of diffjam.js: units, settings, request building, chunk assembly and the
// reply state machine.

const test = require('node:test');
const assert = require('node:assert/strict');
const dj = require('../diffjam');

function clip(overrides = {}) {
  return {
    notes: [],
    loop_start: 0,
    loop_end: 16,
    start_marker: 0,
    end_marker: 16,
    signature_numerator: 4,
    signature_denominator: 4,
    tempo: 96,
    ...overrides,
  };
}

function note(start, pitch, duration = 1, velocity = 100) {
  return { start, duration, pitch, velocity };
}

test('beats, steps and bars convert both ways', () => {
  assert.equal(dj.beatsToSteps(1.25), 5);
  assert.equal(dj.beatsToSteps(0.13), 1); // nearest 16th
  assert.equal(dj.stepsToBeats(6), 1.5);
  assert.equal(dj.beatsPerBar(4, 4), 4);
  assert.equal(dj.beatsPerBar(6, 8), 3);
  assert.equal(dj.barStartBeat(1, 4), 0);
  assert.equal(dj.barStartBeat(5, 4), 16);
  assert.deepEqual(dj.barsCovering(0, 16, 4), [1, 4]);
  assert.deepEqual(dj.barsCovering(4, 10, 4), [2, 3]);
  assert.deepEqual(dj.barsCovering(8, 8, 4), [3, 3]);
});

test('the clip span covers loop and markers together', () => {
  assert.deepEqual(dj.clipSpan(clip({ loop_start: 8, loop_end: 16, start_marker: 0,
    end_marker: 12 })), { start: 0, end: 16 });
  assert.deepEqual(dj.clipSpan(clip({ loop_start: 4, loop_end: 8, start_marker: 2,
    end_marker: 20 })), { start: 2, end: 20 });
});

test('settings are validated with messages for the status line', () => {
  let s = dj.defaultSettings();
  assert.equal(s.keep_original, true);
  assert.equal(s.mode, 'infill');
  s = dj.applySetting(s, 'mode', 1);
  assert.equal(s.mode, 'accompany');
  s = dj.applySetting(s, 'keep_original', 0);
  assert.equal(s.keep_original, false);
  s = dj.applySetting(s, 'chords', '  C  G | Am F ');
  assert.equal(s.chords, 'C G | Am F');
  assert.throws(() => dj.applySetting(s, 'steps', 0), /steps must be a whole number from 1/);
  assert.throws(() => dj.applySetting(s, 'variations', 9), /variations .* 1 to 8, got 9/);
  assert.throws(() => dj.applySetting(s, 'mode', 'remix'), /infill or accompany, got remix/);
  assert.throws(() => dj.applySetting(s, 'colour', 1), /unknown setting colour/);
  // Live parameters are floats shown as ints: 12.0 is 12, 12.5 is refused
  assert.equal(dj.applySetting(s, 'steps', 12.0).steps, 12);
  assert.throws(() => dj.applySetting(s, 'steps', 12.5), /whole number/);
  assert.equal(dj.applySetting(s, 'reply_port', 0).reply_port, 0, '0: automatic');
  assert.throws(() => dj.applySetting(s, 'reply_port', 80), /0 \(automatic\) or from 1024/);
  assert.equal(dj.applySetting(s, 'seed', 16777215).seed, 16777215);
  assert.throws(() => dj.applySetting(s, 'seed', 16777216), /seed must be a whole number/);
  assert.equal(dj.defaultSettings().keep_original, true, 'settings are copied, not changed');
});

test('the bar range defaults to the clip loop and is checked against the clip', () => {
  const settings = dj.defaultSettings();
  assert.deepEqual(dj.resolveBarRange(settings, clip({ loop_start: 4, loop_end: 12,
    end_marker: 12 })), { first: 2, last: 3 });
  const manual = dj.applySetting(dj.applySetting(settings, 'bar_from', 2), 'bar_to', 4);
  assert.deepEqual(dj.resolveBarRange(manual, clip()), { first: 2, last: 4 });
  const past = dj.applySetting(settings, 'bar_to', 5);
  assert.throws(() => dj.resolveBarRange(past, clip()), /Bar 5 is past the end of the clip \(4 bars\)/);
  const empty = dj.applySetting(dj.applySetting(settings, 'bar_from', 3), 'bar_to', 2);
  assert.throws(() => dj.resolveBarRange(empty, clip()), /bar range 3-2 is empty/);
});

test('notes from Live: muted and negative-time notes are left out, sorted', () => {
  const notes = dj.notesFromLive([
    { note_id: 1, pitch: 64, start_time: 2, duration: 1, velocity: 90.4, mute: 0 },
    { note_id: 2, pitch: 60, start_time: 0, duration: 0.5, velocity: 0.2, mute: 0 },
    { note_id: 3, pitch: 67, start_time: 1, duration: 1, velocity: 100, mute: 1 },
    { note_id: 4, pitch: 62, start_time: -1, duration: 1, velocity: 100, mute: 0 },
  ]);
  assert.deepEqual(notes, [note(0, 60, 0.5, 1), note(2, 64, 1, 90)]);
});

test('an infill request chunks the notes and carries the params', () => {
  const notes = [];
  for (let i = 0; i < 300; i++) {
    notes.push(note(i * 0.25, 60 + (i % 12), 0.25));
  }
  const settings = dj.applySetting(dj.applySetting(dj.defaultSettings(), 'bar_from', 3),
    'bar_to', 4);
  const request = dj.buildRequest('r1', settings, clip({ notes, loop_end: 76,
    end_marker: 76 }));
  assert.equal(request.messages.length, 4);
  const [c0, c1, c2, params] = request.messages;
  assert.equal(c0.address, '/diffjam/notes');
  assert.deepEqual(c0.args.slice(0, 3), ['r1', 0, 3]);
  assert.deepEqual(c2.args.slice(0, 3), ['r1', 2, 3]);
  assert.equal(c0.types, 'sii' + 'ffii'.repeat(128));
  assert.equal(c1.args.length, 3 + 4 * 128);
  assert.equal(c2.args.length, 3 + 4 * 44);
  assert.deepEqual(c0.args.slice(3, 7), [0, 0.25, 60, 100]);
  assert.equal(params.address, '/diffjam/infill');
  assert.equal(params.types, 'ss');
  assert.deepEqual(JSON.parse(params.args[1]), {
    tempo: 96, time_signature: [4, 4], guidance: 4, in_key: true, steps: 10,
    variations: 1, clip_beats: 76, bars: [3, 4], notes_chunks: 3,
  });
  assert.equal(request.rangeStart, 8);
  assert.equal(request.rangeEnd, 16);
});

test('an accompany request sends the range as melody from beat 0', () => {
  const settings = dj.applySetting(dj.applySetting(dj.applySetting(dj.defaultSettings(),
    'mode', 'accompany'), 'bar_from', 2), 'chords', 'C G');
  const request = dj.buildRequest('r2', settings, clip({
    notes: [note(1, 60), note(4, 62), note(6.5, 64), note(8, 65)],
    loop_start: 4, loop_end: 12, end_marker: 12,
  }));
  // range: bar 2 to the loop end (bar 3) = beats 4..12
  assert.deepEqual(request.bars, [2, 3]);
  const [chunk, params] = request.messages;
  assert.deepEqual(chunk.args, ['r2', 0, 1, 0, 1, 62, 100, 2.5, 1, 64, 100, 4, 1, 65, 100]);
  assert.equal(params.address, '/diffjam/accompany');
  const json = JSON.parse(params.args[1]);
  assert.equal(json.n_bars, 2);
  assert.equal(json.chords, 'C G');
  assert.equal(json.notes_chunks, 1);
  assert.equal(json.bars, undefined);
  assert.equal(request.offset, 4);
});

test('Root in bass: sent for accompany when on, never for infill, refused by an older engine',
  () => {
    const base = dj.applySetting(dj.defaultSettings(), 'bar_from', 1);
    assert.equal(base.bass_anchor, false);
    const paramsOf = (settings, options) =>
      JSON.parse(dj.buildRequest('b', settings, clip({ notes: [note(0, 60)] }), options)
        .messages.slice(-1)[0].args[1]);
    const accompany = dj.applySetting(base, 'mode', 'accompany');
    assert.equal('bass_anchor' in paramsOf(accompany), false, 'off: not sent');
    const on = dj.applySetting(accompany, 'bass_anchor', 1);
    assert.equal(paramsOf(on).bass_anchor, true);
    assert.equal('bass_anchor' in paramsOf(dj.applySetting(on, 'mode', 'infill')), false);
    assert.throws(() => paramsOf(on, { engineParams: ['candidates'] }),
      /This engine does not take Root in bass; turn it off/);
    assert.equal(paramsOf(on, { engineParams: ['bass_anchor'] }).bass_anchor, true);
  });

test('Candidates: 0 sends none (the default), N is sent, too many samples are refused', () => {
  const base = dj.applySetting(dj.defaultSettings(), 'bar_from', 1);
  assert.equal(base.candidates, 0);
  assert.throws(() => dj.applySetting(base, 'candidates', 17), /candidates .* 0 to 16, got 17/);
  assert.throws(() => dj.applySetting(base, 'candidates', -1), /candidates .* 0 to 16/);
  const paramsOf = (settings, options) =>
    JSON.parse(dj.buildRequest('c', settings, clip({ notes: [note(0, 60)] }), options)
      .messages.slice(-1)[0].args[1]);
  assert.equal('candidates' in paramsOf(base), false, '0: the engine picks');
  const four = dj.applySetting(base, 'candidates', 4.0);
  assert.equal(paramsOf(four).candidates, 4);
  // 8 variations of 8 is the most (64 samples); 8 of 9 is refused before anything is sent
  const eight = dj.applySetting(dj.applySetting(base, 'variations', 8), 'candidates', 8);
  assert.equal(paramsOf(eight).candidates, 8);
  const nine = dj.applySetting(eight, 'candidates', 9);
  assert.throws(() => dj.buildRequest('c', nine, clip({ notes: [note(0, 60)] })),
    new RegExp('8 variations of 9 candidates are 72 samples; the engine draws at most 64 a ' +
      'request \\(at most 8 candidates for 8 variations\\)'));
  // the engine's own limit, when its status gave one
  assert.throws(() => paramsOf(four, { maxRolls: 3 }),
    /at most 3 a request \(at most 3 candidates for 1 variation\)/);
  assert.equal(paramsOf(nine, { maxRolls: 128 }).candidates, 9);
  // an engine whose status does not list the param is not sent it
  assert.throws(() => paramsOf(four, { engineParams: ['steps', 'variations'] }),
    /This engine does not take Candidates; set Candidates to 0/);
  assert.equal(paramsOf(four, { engineParams: ['candidates'] }).candidates, 4);
  assert.equal('candidates' in paramsOf(base, { engineParams: ['steps'] }), false);
});

test('infill on an empty clip becomes generate over the range', () => {
  const settings = dj.applySetting(dj.defaultSettings(), 'bar_from', 3);
  const request = dj.buildRequest('r3', settings, clip());
  assert.equal(request.messages.length, 1);
  assert.equal(request.messages[0].address, '/diffjam/generate');
  const params = JSON.parse(request.messages[0].args[1]);
  assert.equal(params.notes_chunks, 0);
  assert.equal(params.n_bars, 2);
  assert.equal(params.bars, undefined);
  assert.equal(request.task, 'generate');
  assert.equal(request.mode, 'infill'); // written back like infill: range cleared, refilled
  assert.equal(request.offset, 8);
  const plan = dj.planWrite(request, [], [note(0, 60), note(7, 62), note(8, 64)]);
  assert.deepEqual(plan.remove, { from: 8, span: 8 });
  assert.deepEqual(plan.add, [note(8, 60), note(15, 62)]);
});

test('accompany without a melody in the range needs chords', () => {
  const settings = dj.applySetting(dj.defaultSettings(), 'mode', 'accompany');
  assert.throws(() => dj.buildRequest('r4', settings, clip()),
    /Accompany needs a melody in bars 1-4 or chords to follow\./);
  const withChords = dj.applySetting(settings, 'chords', 'C F');
  assert.equal(dj.buildRequest('r4', withChords, clip()).messages[0].address,
    '/diffjam/accompany');
});

test('the Model field picks a model by name; empty leaves the engine\'s default', () => {
  const empty = dj.buildRequest('r5', dj.defaultSettings(), clip());
  assert.equal(JSON.parse(empty.messages[0].args[1]).model, undefined);
  const settings = dj.applySetting(dj.defaultSettings(), 'model', '  mine ');
  assert.equal(settings.model, 'mine');
  const request = dj.buildRequest('r5', settings, clip());
  assert.equal(JSON.parse(request.messages[0].args[1]).model, 'mine');
});

test('only 4/4 clips are accepted', () => {
  assert.throws(() => dj.buildRequest('r', dj.defaultSettings(),
    clip({ signature_numerator: 3 })), /Only 4\/4 clips are supported; this clip is in 3\/4/);
});

test('chunks assemble in any order; repeats are ignored; gaps are reported', () => {
  const a = new dj.ResultAssembler();
  assert.equal(a.add(0, 1, 3, [note(4, 61)]), 'added');
  assert.equal(a.add(0, 0, 3, [note(0, 60)]), 'added');
  assert.equal(a.add(0, 1, 3, [note(4, 61)]), 'duplicate');
  assert.deepEqual(a.missing(2), [{ variation: 0, chunk: 2 }, { variation: 1, chunk: 0 }]);
  assert.equal(a.add(0, 2, 3, []), 'added');
  assert.equal(a.add(1, 0, 1, [note(0, 50)]), 'added');
  assert.deepEqual(a.missing(2), []);
  assert.deepEqual(a.notes(0), [note(0, 60), note(4, 61)]);
  assert.throws(() => a.add(0, 3, 3, []), /bad result chunk: variation 0, chunk 3 of 3/);
  assert.throws(() => a.add(0, 0, 4, []), /chunk count changed from 3 to 4/);
});

function resultArgs(id, variation, index, count, notes) {
  const args = [id, variation, index, count];
  for (const n of notes) {
    args.push(n.start, n.duration, n.pitch, n.velocity);
  }
  return args;
}

test('the reply state machine: accepted, progress, chunks, done', () => {
  const t = new dj.RequestTracker('r', 1);
  assert.equal(t.handle('/diffjam/accepted', ['other', 0]).kind, 'ignored');
  assert.deepEqual(t.handle('/diffjam/accepted', ['r', 2]), { kind: 'accepted', position: 2 });
  assert.deepEqual(t.handle('/diffjam/progress', ['r', 0.25]),
    { kind: 'progress', fraction: 0.25 });
  assert.deepEqual(t.handle('/diffjam/result', resultArgs('r', 0, 1, 2, [note(4, 62)])),
    { kind: 'chunk', duplicate: false });
  assert.deepEqual(t.handle('/diffjam/result', resultArgs('r', 0, 1, 2, [note(4, 62)])),
    { kind: 'chunk', duplicate: true });
  t.handle('/diffjam/result', resultArgs('r', 0, 0, 2, [note(0, 60)]));
  const done = t.handle('/diffjam/done', ['r', JSON.stringify({ variations: 1, notes: [2] })]);
  assert.equal(done.kind, 'done');
  assert.deepEqual(done.variations, [[note(0, 60), note(4, 62)]]);
  assert.equal(t.handle('/diffjam/error', ['r', 17, 'INTERNAL', 'late']).kind, 'ignored');
});

test('a done before its chunks waits for them; chunks after it complete the result', () => {
  const t = new dj.RequestTracker('r', 2);
  assert.deepEqual(t.handle('/diffjam/done', ['r', JSON.stringify({ variations: 2,
    notes: [2, 1] })]), { kind: 'draining', missing: 2 });
  assert.equal(t.state, 'draining');
  assert.deepEqual(t.handle('/diffjam/progress', ['r', 1]), { kind: 'progress', fraction: 1 });
  assert.equal(t.state, 'draining', 'a late progress does not undo done');
  assert.equal(t.handle('/diffjam/done', ['r', '{}']).kind, 'ignored', 'a repeated done');
  assert.deepEqual(t.handle('/diffjam/result', resultArgs('r', 1, 0, 1, [note(0, 50)])),
    { kind: 'draining', missing: 1 });
  const done = t.handle('/diffjam/result', resultArgs('r', 0, 0, 1, [note(0, 60), note(4, 62)]));
  assert.equal(done.kind, 'done');
  assert.deepEqual(done.variations, [[note(0, 60), note(4, 62)], [note(0, 50)]]);
});

test('chunks still missing after done are reported by incomplete()', () => {
  const t = new dj.RequestTracker('r', 2);
  t.handle('/diffjam/result', resultArgs('r', 0, 0, 2, [note(0, 60)]));
  t.handle('/diffjam/result', resultArgs('r', 1, 0, 1, [note(0, 60)]));
  assert.equal(t.handle('/diffjam/done', ['r', JSON.stringify({ variations: 2 })]).kind,
    'draining');
  const event = t.incomplete();
  assert.equal(event.kind, 'failed');
  assert.match(event.message, /incomplete \(1 chunk\(s\) lost: variation 1 chunk 2\)/);
  assert.ok(t.finished());
});

test('a done whose note count disagrees fails', () => {
  const t = new dj.RequestTracker('r', 1);
  t.handle('/diffjam/result', resultArgs('r', 0, 0, 1, [note(0, 60)]));
  const event = t.handle('/diffjam/done', ['r', JSON.stringify({ variations: 1, notes: [3] })]);
  assert.match(event.message, /variation 1 has 1 notes, the engine sent 3/);
});

test('engine errors, malformed chunks and bad done JSON fail the request', () => {
  const e = new dj.RequestTracker('r', 1).handle('/diffjam/error',
    ['r', 11, 'BUSY', 'queue full (4)']);
  assert.deepEqual(e, { kind: 'failed', message:
    'Engine error BUSY (11): queue full (4) (the engine queue is full, try again in a moment)' });
  const anonymous = new dj.RequestTracker('r', 1).handle('/diffjam/error',
    ['', 1, 'MALFORMED', 'not OSC']);
  assert.equal(anonymous.kind, 'failed');
  const odd = new dj.RequestTracker('r', 1).handle('/diffjam/result', ['r', 0, 0, 1, 0.5, 1]);
  assert.match(odd.message, /note list of 2 values is not a multiple of 4/);
  const json = new dj.RequestTracker('r', 1).handle('/diffjam/done', ['r', '{oops']);
  assert.match(json.message, /done info is not JSON/);
});

test('infill plans clear the range and refill it from the whole-clip result', () => {
  const request = { mode: 'infill', rangeStart: 4, rangeEnd: 8, offset: 0 };
  const plan = dj.planWrite(request, [], [note(0, 60), note(4, 62), note(7.5, 64),
    note(8, 65)]);
  assert.deepEqual(plan.remove, { from: 4, span: 4 });
  assert.deepEqual(plan.add, [note(4, 62), note(7.5, 64)]);
});

test('accompany plans add shifted notes and skip ones already in the clip', () => {
  const request = { mode: 'accompany', rangeStart: 4, rangeEnd: 12, offset: 4 };
  const existing = [note(4, 72, 2)];
  const plan = dj.planWrite(request, existing, [note(0, 72, 2), note(0, 48, 4),
    note(8, 50, 4)]);
  assert.equal(plan.remove, null);
  assert.deepEqual(plan.add, [note(4, 48, 4)]); // beat 12 is past the range
});

test('Live 12 scales become engine keys: major and natural minor only', () => {
  assert.equal(dj.keyFromScale(0, 'Major'), 'C');
  assert.equal(dj.keyFromScale(9, 'Minor'), 'Am');
  assert.equal(dj.keyFromScale(6, 'Aeolian'), 'F#m');
  assert.equal(dj.keyFromScale(3, undefined, [0, 2, 4, 5, 7, 9, 11]), 'Eb');
  assert.equal(dj.keyFromScale(10, '', [0, 2, 3, 5, 7, 8, 10]), 'Bbm');
  assert.equal(dj.keyFromScale(2, 'Dorian', [0, 2, 3, 5, 7, 9, 10]), null);
  assert.equal(dj.keyFromScale(12, 'Major'), null);
});

test('the automatic reply port is derived from the device id, in 9001-9999', () => {
  assert.equal(dj.replyPortFor(9100, 5), 9100);
  assert.equal(dj.replyPortFor(0, 5), 9006);
  assert.equal(dj.replyPortFor(0, 999 + 5), 9006);
  assert.notEqual(dj.replyPortFor(0, 5), dj.replyPortFor(0, 6));
});

test('a request carries the seed and key it was given', () => {
  const request = dj.buildRequest('r', dj.defaultSettings(), clip({ notes: [note(0, 60)] }),
    { seed: 42, key: 'Am' });
  const params = JSON.parse(request.messages[request.messages.length - 1].args[1]);
  assert.equal(params.seed, 42);
  assert.equal(params.key, 'Am');
  assert.equal(request.seed, 42);
  assert.deepEqual(dj.cancelMessage('r'), { address: '/diffjam/cancel', types: 's', args: ['r'] });
});
