'use strict';
// diffjam.js loaded the way Max's [js] loads it: a plain script (no `module`) with Max's
// globals (outlet, Task, LiveAPI, messagename, arrayfromargs) faked, driven through its
// message handlers (init, mode, press, anything, ...) as the patcher would, and its OSC
// output pushed through the patcher's cords (support/patch_sim.js).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { LiveWorld } = require('./support/live_mock');
const { simulatePatch } = require('./support/patch_sim');
const { infillResult } = require('./support/fake_engine');

const ROOT = path.join(__dirname, '..');
const SCRIPT = fs.readFileSync(path.join(ROOT, 'diffjam.js'), 'utf8');
const PATCHER = JSON.parse(fs.readFileSync(path.join(ROOT, 'diffjam.maxpat'), 'utf8')).patcher;

function loadInMax(world) {
  const outlets = [[], [], []];
  const tasks = [];
  function Task(fn) {
    this.fn = fn;
    this.cancelled = false;
    tasks.push(this);
  }
  Task.prototype.schedule = function (ms) { this.ms = ms; };
  Task.prototype.cancel = function () { this.cancelled = true; };
  const context = vm.createContext({
    outlet: (index, ...rest) => {
      outlets[index].push(rest.length === 1 && Array.isArray(rest[0]) ? rest[0] : rest);
    },
    Task,
    LiveAPI: world.LiveAPI(),
    arrayfromargs: (args) => Array.prototype.slice.call(args),
    messagename: '',
    post: () => {},
    Math,
    JSON,
    Date,
  });
  vm.runInContext(SCRIPT, context, { filename: 'diffjam.js' });
  // [udpreceive] -> [js]: the OSC address becomes the message name
  const receive = (address, args) => {
    context.messagename = address;
    context.anything(...args);
  };
  const status = () => {
    const sets = outlets[1].filter((l) => l[0] === 'set');
    return sets[sets.length - 1][1];
  };
  const osc = () => simulatePatch(PATCHER, outlets[0]).filter((m) => m.address.startsWith('/'));
  return { context, outlets, tasks, receive, status, osc };
}

function world() {
  const w = new LiveWorld();
  const track = w.addTrack({ slots: 3 });
  const clip = w.addClip(track, 0, { name: 'Hook', loopEnd: 8, notes: [
    { start_time: 0, pitch: 60, duration: 1 }, { start_time: 5, pitch: 67, duration: 1 }] });
  w.select(clip);
  return { w, track, clip };
}

test('Max globals: one inlet, three outlets, no autowatch', () => {
  const { context } = loadInMax(world().w);
  assert.equal(context.inlets, 1);
  assert.equal(context.outlets, 3);
  assert.equal(context.autowatch, 0);
});

test('Max handlers: UI values before init survive it; a full round trip writes notes', () => {
  const { w, track, clip } = world();
  const max = loadInMax(w);
  // live.* objects may output their saved values before [live.thisdevice] bangs
  max.context.bar_from(2);
  max.context.bar_to(2);
  max.context.chords('text', 'C', 'G');
  max.context.model('text', 'mine');
  max.context.init();
  assert.deepEqual(max.outlets[2], [['port', 9001]]);
  assert.equal(max.status(), 'Select a MIDI clip and press Generate.');
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
  assert.match(max.status(), /^Sent infill for bars 2-2 \(2 notes\), waiting/);
  // the engine's replies, as [udpreceive] hands them over
  const notes = [];
  for (let i = 3; i < sent[2].args.length; i += 4) {
    notes.push({ start: sent[2].args[i], duration: sent[2].args[i + 1],
      pitch: sent[2].args[i + 2], velocity: sent[2].args[i + 3] });
  }
  const result = infillResult(notes, params);
  max.receive('/diffjam/accepted', [id, 0]);
  max.receive('/diffjam/progress', [id, 0.5]);
  assert.equal(max.status(), 'Generating... 50%');
  const args = [id, 0, 0, 1];
  for (const n of result) args.push(n.start, n.duration, n.pitch, n.velocity);
  max.receive('/diffjam/result', args);
  max.receive('/diffjam/done', [id, JSON.stringify({ variations: 1, notes: [result.length] })]);
  assert.match(max.status(), /^Done: 4 notes in bars 2-2 -> Hook diffjam 1\./);
  const copy = w.slotClip(track, 1);
  assert.deepEqual(w.notesOf(copy).map((n) => [n.start_time, n.pitch]),
    [[0, 60], [4, 64], [5, 65], [6, 66], [7, 67]]);
  assert.equal(w.notesOf(clip).length, 2);
  assert.ok(max.tasks.every((t) => t.cancelled || t.ms !== undefined));
});

test('Max handlers: the Task timeout reports an engine that does not answer', () => {
  const { w } = world();
  const max = loadInMax(w);
  max.context.init();
  max.context.generate();
  const task = max.tasks[max.tasks.length - 1];
  assert.equal(task.ms, 5000);
  task.fn();
  assert.equal(max.status(), 'The engine did not answer on 127.0.0.1:9000. Is `diffjam serve` ' +
    'running?');
});

test('Max handlers: port changes go to [udpsend] and [udpreceive] and re-announce', () => {
  const max = loadInMax(world().w);
  max.context.init();
  max.context.engine_port(9100);
  max.context.reply_port(9101);
  assert.deepEqual(max.outlets[2], [['port', 9001], ['port', 9101]]);
  const control = simulatePatch(PATCHER, max.outlets[0]).filter((m) => m.address === 'port');
  assert.deepEqual(control.map((m) => m.args), [[9100]]);
  const hellos = max.osc().filter((m) => m.address === '/diffjam/hello').map((m) => m.args[0]);
  assert.deepEqual(hellos, [9001, 9001, 9101]);
  max.context.steps(0);
  assert.match(max.status(), /steps must be a whole number from 1 to 1000, got 0/);
});
