'use strict';
// The built device: chunk layout, byte-identical rebuild, the patcher's structure (every
// cord joins existing objects at valid inlets/outlets, the script and its handlers exist,
// the UI is there), ES5-only script, and the typed-float path simulated through the
// patcher's own cords.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const acorn = require('acorn');
const { buildAmxd, parseAmxd } = require('../build');
const dj = require('../diffjam');
const { simulatePatch } = require('./support/patch_sim');

const ROOT = path.join(__dirname, '..');
const AMXD = path.join(ROOT, 'diffjam.amxd');
const SCRIPT = fs.readFileSync(path.join(ROOT, 'diffjam.js'), 'utf8');

function patcherOf(bytes) {
  const ptch = parseAmxd(bytes).find((c) => c.tag === 'ptch').data;
  return JSON.parse(ptch.subarray(0, ptch.length - 1).toString('utf8')).patcher;
}

const patcher = patcherOf(fs.readFileSync(AMXD));
const boxes = new Map(patcher.boxes.map(({ box }) => [box.id, box]));

test('the .amxd is ampf(mmmm), meta, ptch(JSON + NUL) and nothing else', () => {
  const bytes = fs.readFileSync(AMXD);
  const chunks = parseAmxd(bytes);
  assert.deepEqual(chunks.map((c) => c.tag), ['ampf', 'meta', 'ptch']);
  assert.equal(chunks[0].data.toString('ascii'), 'mmmm');
  assert.deepEqual([...chunks[1].data], [0, 0, 0, 0]);
  const ptch = chunks[2].data;
  assert.equal(ptch[ptch.length - 1], 0);
  assert.equal(ptch.indexOf(0), ptch.length - 1, 'one NUL, at the end');
  assert.equal(bytes.readUInt32LE(28), ptch.length);
  assert.equal(bytes.length, 12 + 12 + 8 + ptch.length);
});

test('the committed device rebuilds byte-identically from the sources', () => {
  const built = buildAmxd(fs.readFileSync(path.join(ROOT, 'diffjam.maxpat')));
  assert.ok(built.equals(fs.readFileSync(AMXD)), 'diffjam.amxd is stale: run node build.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diffjam-amxd-'));
  try {
    const out = path.join(dir, 'again.amxd');
    execFileSync(process.execPath, [path.join(ROOT, 'build.js'), '--out', out]);
    assert.ok(fs.readFileSync(out).equals(built));
    execFileSync(process.execPath, [path.join(ROOT, 'build.js'), '--check']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the builder refuses broken input', () => {
  assert.throws(() => buildAmxd(Buffer.from('{"patcher": ')), /not valid JSON/);
  assert.throws(() => buildAmxd(Buffer.from('{"x": 1}')), /no patcher.boxes/);
  assert.throws(() => buildAmxd(Buffer.from('{"patcher": {"boxes": []}}'),
    { deviceType: 'synth' }), /unknown device type synth/);
  assert.throws(() => parseAmxd(Buffer.from('ampf\x09\x00\x00\x00mmmm', 'latin1')),
    /chunk ampf at byte 0 claims 9 bytes, 4 left/);
});

test('box ids are unique and every cord joins existing objects at valid indices', () => {
  assert.equal(boxes.size, patcher.boxes.length, 'duplicate box id');
  assert.ok(patcher.lines.length > 30);
  for (const { patchline } of patcher.lines) {
    const [srcId, outlet] = patchline.source;
    const [dstId, inlet] = patchline.destination;
    const src = boxes.get(srcId);
    const dst = boxes.get(dstId);
    assert.ok(src, `cord from missing object ${srcId}`);
    assert.ok(dst, `cord to missing object ${dstId}`);
    assert.ok(Number.isInteger(outlet) && outlet >= 0 && outlet < src.numoutlets,
      `${src.text || src.maxclass} has no outlet ${outlet}`);
    assert.ok(Number.isInteger(inlet) && inlet >= 0 && inlet < dst.numinlets,
      `${dst.text || dst.maxclass} has no inlet ${inlet}`);
    assert.equal(src.outlettype.length, src.numoutlets);
  }
});

// Inlets and outlets of the objects the patch uses, as Max creates them.
function expectedIo(box) {
  const words = (box.text || '').split('@')[0].trim().split(/\s+/);
  const args = words.slice(1);
  switch (box.maxclass === 'newobj' ? words[0] : box.maxclass) {
    case 'route': return [2, args.length + 1];
    case 'unpack': return [1, args.length];
    case 'pack': return [args.length, 1];
    case 'zl': return [2, 2];
    case 't': return [1, args.length];
    case 'prepend': return [1, 1];
    case 'udpsend': return [1, 0];
    case 'udpreceive': return [1, 1];
    case 'midiin': return [1, 1];
    case 'midiout': return [1, 0];
    case 'live.thisdevice': return [1, 3];
    case 'js': return [Number(/\binlets = (\d+);/.exec(SCRIPT)[1]),
      Number(/\boutlets = (\d+);/.exec(SCRIPT)[1])];
    case 'message': return [2, 1];
    case 'comment': return [1, 0];
    case 'textedit': return [1, 4];
    case 'live.tab': return [1, 3];
    case 'live.numbox': return [1, 2];
    case 'live.toggle': return [1, 1];
    case 'live.text': return [1, 2];
    default: throw new Error(`no I/O entry for ${box.maxclass} ${box.text || ''}`);
  }
}

test('every object has the inlets and outlets Max gives it', () => {
  for (const box of boxes.values()) {
    assert.deepEqual([box.numinlets, box.numoutlets], expectedIo(box),
      `${box.id} ${box.maxclass} ${box.text || ''}`);
  }
});

test('the [js] script exists and every message the patch sends it has a handler', () => {
  const jsBoxes = [...boxes.values()].filter((b) => /^js\b/.test(b.text || ''));
  assert.equal(jsBoxes.length, 1);
  const file = jsBoxes[0].text.split(/\s+/)[1];
  assert.ok(fs.existsSync(path.join(ROOT, file)), `${file} is missing`);
  const handlers = new Set([...SCRIPT.matchAll(/^function (\w+)\(/gm)].map((m) => m[1]));
  const jsId = jsBoxes[0].id;
  const into = patcher.lines.filter((l) => l.patchline.destination[0] === jsId)
    .map((l) => boxes.get(l.patchline.source[0]));
  const selectors = into.map((b) => {
    if (b.maxclass === 'message') return b.text.split(/\s+/)[0];
    if (/^prepend /.test(b.text || '')) return b.text.split(/\s+/)[1];
    if (/^udpreceive/.test(b.text || '')) return 'anything';
    throw new Error(`unexpected input to js: ${b.maxclass} ${b.text}`);
  });
  assert.ok(selectors.length >= 12);
  for (const selector of selectors) {
    assert.ok(handlers.has(selector), `diffjam.js has no function ${selector}`);
  }
});

test('the script is ES5 (Max\'s classic [js]) and loads without Max', () => {
  assert.doesNotThrow(() => acorn.parse(SCRIPT, { ecmaVersion: 5, sourceType: 'script' }));
  assert.equal(typeof dj.Device, 'function');
});

test('the device UI: every control is in presentation mode with the right defaults', () => {
  assert.equal(patcher.openinpresentation, 1);
  const byName = new Map([...boxes.values()].filter((b) => b.varname).map((b) => [b.varname, b]));
  for (const name of ['Mode', 'From Bar', 'To Bar', 'Guidance', 'In Key', 'Steps', 'Variations',
    'Keep Original', 'Generate', 'Chords', 'Model', 'Status', 'Engine Port', 'Reply Port']) {
    assert.ok(byName.has(name), `no ${name} control`);
    assert.equal(byName.get(name).presentation, 1, `${name} not in presentation`);
  }
  const initial = (name) =>
    byName.get(name).saved_attribute_attributes.valueof.parameter_initial[0];
  const settings = dj.defaultSettings();
  assert.deepEqual(byName.get('Mode').saved_attribute_attributes.valueof.parameter_enum,
    ['infill', 'accompany']);
  assert.equal(initial('Keep Original'), settings.keep_original ? 1 : 0);
  assert.equal(initial('In Key'), settings.in_key ? 1 : 0);
  assert.equal(initial('Guidance'), settings.guidance);
  assert.equal(initial('Steps'), settings.steps);
  assert.equal(initial('Variations'), settings.variations);
  assert.equal(initial('From Bar'), 0);
  assert.equal(initial('Engine Port'), settings.engine_port);
  assert.equal(initial('Reply Port'), settings.reply_port);
  const texts = [...boxes.values()].map((b) => b.text || '');
  assert.ok(texts.includes(`udpsend ${settings.engine_host} ${settings.engine_port}`));
  assert.ok(texts.includes(`udpreceive ${settings.reply_port}`));
  // Live parameters: unique long names, all listed in the patcher's parameters
  const params = [...boxes.values()].filter((b) => b.parameter_enable === 1);
  const names = params.map((b) => b.saved_attribute_attributes.valueof.parameter_longname);
  assert.equal(new Set(names).size, names.length);
  for (const b of params) {
    assert.ok(patcher.parameters[b.id], `${b.varname} missing from patcher.parameters`);
  }
});

// The typed-float path, simulated over the patcher's own cords (support/patch_sim.js).
test('simulated patch: notes reach [udpsend] as OSC ffii even at whole beats', () => {
  const notes = [];
  for (let i = 0; i < 130; i++) {
    notes.push({ start: i, duration: i % 2 ? 0.5 : 1, pitch: 60 + (i % 12), velocity: 100 });
  }
  const request = dj.buildRequest('sim-1', dj.defaultSettings(), {
    notes, loop_start: 0, loop_end: 132, start_marker: 0, end_marker: 132,
    signature_numerator: 4, signature_denominator: 4, tempo: 120,
  });
  const outlets = [];
  global.outlet = (index, list) => outlets.push(list);
  try {
    dj.maxSend(dj.helloMessage(9001));
    request.messages.forEach(dj.maxSend);
  } finally {
    delete global.outlet;
  }
  const sent = simulatePatch(patcher, outlets);
  assert.deepEqual(sent.map((m) => [m.address, m.types]),
    [['/diffjam/hello', 'i']].concat(request.messages.map((m) => [m.address, m.types])));
  assert.deepEqual(sent[1].args.slice(0, 11), ['sim-1', 0, 2, 0, 1, 60, 100, 1, 0.5, 61, 100]);
  assert.equal(sent[2].args.length, 3 + 4 * 2);
});
