'use strict';
// diffjam.js loaded the way Max's [js] loads it: a plain script (no `module`) with Max's
// globals (outlet, jsarguments, Task, Dict, LiveAPI, messagename, arrayfromargs) faked,
// driven through its message handlers as each patcher would, its OSC output pushed through
// the patcher's cords (support/patch_sim.js).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { LiveWorld } = require('./support/live_mock');
const { MidiToolHost } = require('./support/miditool_mock');
const { simulatePatch } = require('./support/patch_sim');
const { infillResult } = require('./support/fake_engine');

const ROOT = path.join(__dirname, '..');
const SCRIPT = fs.readFileSync(path.join(ROOT, 'diffjam.js'), 'utf8');
const patcherOf = (file) => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')).patcher;
const PATCHER = patcherOf('diffjam.maxpat');
const TOOL_PATCHER = patcherOf('diffjam-tool.maxpat');

function loadInMax(world, { args = ['diffjam.js'], clock = { now: 0 }, host = null } = {}) {
  const outlets = [[], [], [], [], [], []];
  const tasks = [];
  const dicts = new Map();
  function Task(fn) {
    this.fn = fn;
    this.interval = 0;
    this.repeating = false;
    tasks.push(this);
  }
  Task.prototype.repeat = function () { this.repeating = true; };
  Task.prototype.cancel = function () { this.repeating = false; };
  // Max's Dict: new Dict() gets a unique name; parse(json) fills it; stringify() reads it.
  function Dict(name) {
    this.name = name || `u${dicts.size + 1}`;
    if (!dicts.has(this.name)) dicts.set(this.name, '{}');
  }
  Dict.prototype.parse = function (json) { dicts.set(this.name, json); };
  Dict.prototype.stringify = function () { return dicts.get(this.name); };
  let context = null;
  const outlet = (index, ...rest) => {
    const list = rest.length === 1 && Array.isArray(rest[0]) ? rest[0] : rest;
    outlets[index].push(list);
    if (host && index === 4) {
      host.output(JSON.parse(dicts.get(list[1])).notes);
    } else if (host && index === 5) {
      host.bang();
    }
  };
  context = vm.createContext({
    outlet, Task, Dict, jsarguments: args,
    LiveAPI: world.LiveAPI(),
    arrayfromargs: (a) => Array.prototype.slice.call(a),
    messagename: '',
    post: () => {},
    Math,
    JSON,
    Date: function FakeDate() { return { getTime: () => clock.now }; },
  });
  vm.runInContext(SCRIPT, context, { filename: 'diffjam.js' });
  if (host) {
    // [live.miditool.in] -> [prepend context]/[prepend notes] -> [js]: dictionary names
    host.connect({
      onContext: (ctx) => {
        const d = new Dict(); d.parse(JSON.stringify(ctx)); context.context('dictionary', d.name);
      },
      onNotes: (notes) => {
        const d = new Dict(); d.parse(JSON.stringify(notes)); context.notes('dictionary', d.name);
      },
    });
  }
  const receive = (address, list) => {
    context.messagename = address;
    context.anything(...list);
  };
  const status = () => {
    const sets = outlets[1].filter((l) => l[0] === 'set');
    return sets[sets.length - 1][1];
  };
  const osc = (patcher = PATCHER) => simulatePatch(patcher, outlets[0])
    .filter((m) => m.address.startsWith('/'));
  return { context, outlets, tasks, receive, status, osc, clock };
}

function world() {
  const w = new LiveWorld();
  const track = w.addTrack({ slots: 3 });
  const clip = w.addClip(track, 0, { name: 'Hook', loopEnd: 8, notes: [
    { start_time: 0, pitch: 60, duration: 1 }, { start_time: 5, pitch: 67, duration: 1 }] });
  w.select(clip);
  return { w, track, clip };
}

test('Max globals: one inlet, six outlets, no autowatch', () => {
  const { context } = loadInMax(world().w);
  assert.equal(context.inlets, 1);
  assert.equal(context.outlets, 6);
  assert.equal(context.autowatch, 0);
});

test('Max handlers: UI values before init survive it; a full round trip writes notes', () => {
  const { w, track, clip } = world();
  const max = loadInMax(w);
  // live.* objects and pattr may output their saved values before [live.thisdevice] bangs
  max.context.bar_from(2.0);
  max.context.bar_to(2.0);
  max.context.seed(12.0);
  max.context.chords('text', 'C', 'G');
  max.context.model('mine');
  max.context.init();
  assert.deepEqual(max.outlets[2], [['port', 9001 + (2 % 999)]]);
  assert.equal(max.status(), 'Select a MIDI clip and press Generate.');
  assert.match(max.outlets[3][max.outlets[3].length - 1][1], /^Target: "Hook" .* bars 2-2,/);
  const [task] = max.tasks;
  assert.equal(task.interval, 250);
  assert.equal(task.repeating, true);
  max.context.press(0); // button release: nothing
  assert.equal(max.osc().filter((m) => m.address !== '/diffjam/hello').length, 0);
  max.context.press(1);
  const sent = max.osc();
  assert.deepEqual(sent.map((m) => [m.address, m.types]), [
    ['/diffjam/hello', 'i'], ['/diffjam/hello', 'i'],
    ['/diffjam/notes', 'sii' + 'ffii'.repeat(2)], ['/diffjam/infill', 'ss']]);
  const id = sent[3].args[0];
  const params = JSON.parse(sent[3].args[1]);
  assert.deepEqual(params.bars, [2, 2]);
  assert.equal(params.chords, 'C G');
  assert.equal(params.model, 'mine');
  assert.equal(params.seed, 12);
  // the engine's replies, as [udpreceive] hands them over, done first
  const notes = [];
  for (let i = 3; i < sent[2].args.length; i += 4) {
    notes.push({ start: sent[2].args[i], duration: sent[2].args[i + 1],
      pitch: sent[2].args[i + 2], velocity: sent[2].args[i + 3] });
  }
  const result = infillResult(notes, params);
  max.receive('/diffjam/accepted', [id, 0]);
  max.receive('/diffjam/progress', [id, 0.5]);
  assert.equal(max.status(), 'Generating... 50%');
  max.receive('/diffjam/done', [id, JSON.stringify({ variations: 1, notes: [result.length] })]);
  const args = [id, 0, 0, 1];
  for (const n of result) args.push(n.start, n.duration, n.pitch, n.velocity);
  max.receive('/diffjam/result', args);
  assert.match(max.status(), /^Done: 4 notes in bars 2-2 -> Hook diffjam 1 seed 12\./);
  assert.deepEqual(w.notesOf(w.slotClip(track, 1)).map((n) => [n.start_time, n.pitch]),
    [[0, 60], [4, 64], [5, 65], [6, 66], [7, 67]]);
  assert.equal(w.notesOf(clip).length, 2);
});

test('Max handlers: the Task tick reports an engine that does not answer; Cancel works', () => {
  const { w } = world();
  const clock = { now: 1000 };
  const max = loadInMax(w, { clock });
  max.context.init();
  max.context.generate();
  clock.now += 5000;
  max.tasks[0].fn();
  assert.equal(max.status(), 'The engine did not answer on 127.0.0.1:9000. Is `diffjam serve` ' +
    'running?');
  max.context.generate();
  max.context.cancel(1);
  assert.equal(max.status(), 'Cancelled; nothing was written.');
  const last = max.osc().pop();
  assert.equal(last.address, '/diffjam/cancel');
});

test('Max handlers: port changes go to [udpsend] and [udpreceive] and re-announce', () => {
  const max = loadInMax(world().w);
  max.context.init();
  max.context.engine_port(9100.0);
  max.context.reply_port(9101.0);
  assert.deepEqual(max.outlets[2], [['port', 9003], ['port', 9101]]);
  const control = simulatePatch(PATCHER, max.outlets[0]).filter((m) => m.address === 'port');
  assert.deepEqual(control.map((m) => m.args), [[9100]]);
  const hellos = max.osc().filter((m) => m.address === '/diffjam/hello').map((m) => m.args[0]);
  assert.deepEqual(hellos, [9003, 9003, 9101]);
  max.context.steps(0);
  assert.match(max.status(), /steps must be a whole number from 1 to 1000, got 0/);
});

test('Max handlers, MIDI Tool: [js diffjam.js tool] answers both apply cycles with dicts', () => {
  const { w, clip } = world();
  const host = new MidiToolHost(w, clip, { selection: [4, 8] });
  const max = loadInMax(w, { args: ['diffjam.js', 'tool'], host });
  max.context.init();
  assert.equal(max.status(), 'Select a time range in a MIDI clip and press Generate.');
  max.context.seed(3);
  max.context.press(1);
  assert.deepEqual(host.errors, []);
  const sent = max.osc(TOOL_PATCHER);
  const request = sent.find((m) => m.address === '/diffjam/infill');
  const params = JSON.parse(request.args[1]);
  assert.deepEqual([params.bars, params.seed], [[2, 2], 3]);
  const id = request.args[0];
  const result = [{ start: 4, duration: 1, pitch: 70, velocity: 90 },
    { start: 6, duration: 1, pitch: 72, velocity: 90 }];
  const args = [id, 0, 0, 1];
  for (const n of result) args.push(n.start, n.duration, n.pitch, n.velocity);
  max.receive('/diffjam/result', args);
  max.receive('/diffjam/done', [id, JSON.stringify({ variations: 1, notes: [2] })]);
  assert.deepEqual(host.errors, []);
  assert.equal(host.applied, 2);
  assert.deepEqual(w.notesOf(clip).map((n) => [n.start_time, n.pitch]),
    [[0, 60], [4, 70], [6, 72]]);
  max.context.reroll(1);
  assert.deepEqual(max.outlets[3][max.outlets[3].length - 1], ['set', 4]);
});
