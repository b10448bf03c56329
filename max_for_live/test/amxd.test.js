'use strict';
// The built devices (diffjam.amxd, diffjam-tool.amxd): chunk layout, frozen (the script is
// inside, so the file alone works), byte-identical rebuilds, the patchers' structure (every
// cord joins existing objects at valid inlets/outlets, every handler exists), the rules Live
// sets for parameters, [udpreceive @defer 1], no undo calls outside the API, the ES5-only
// script, and the typed-float path simulated through each patcher's own cords.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const acorn = require('acorn');
const { buildAmxd, buildDevice, parseAmxd, parseFrozen, DEVICES, SCRIPT } = require('../build');
const dj = require('../diffjam');
const { simulatePatch } = require('./support/patch_sim');

const ROOT = path.join(__dirname, '..');
const SCRIPT_TEXT = fs.readFileSync(path.join(ROOT, SCRIPT), 'utf8');

function load(device) {
  const bytes = fs.readFileSync(path.join(ROOT, device.amxd));
  const chunks = parseAmxd(bytes);
  const files = parseFrozen(chunks[2].data);
  const json = files[0].bytes.subarray(0, files[0].bytes.length - 1).toString('utf8');
  const patcher = JSON.parse(json).patcher;
  const boxes = new Map(patcher.boxes.map(({ box }) => [box.id, box]));
  return { device, bytes, chunks, files, patcher, boxes };
}

const devices = DEVICES.map(load);
const [effect, tool] = devices;

const textOf = (box) => box.text || '';
const find = (d, re) => [...d.boxes.values()].filter((b) => re.test(textOf(b)));
const cordsFrom = (d, id, outlet) => d.patcher.lines
  .filter((l) => l.patchline.source[0] === id && l.patchline.source[1] === outlet)
  .map((l) => l.patchline.destination);
const cordsInto = (d, id) => d.patcher.lines.filter((l) => l.patchline.destination[0] === id)
  .map((l) => l.patchline.source);

test('each .amxd is ampf, meta, ptch; ampf says MIDI effect / MIDI Tool Generator', () => {
  assert.deepEqual(devices.map((d) => d.chunks.map((c) => c.tag)),
    [['ampf', 'meta', 'ptch'], ['ampf', 'meta', 'ptch']]);
  assert.equal(effect.chunks[0].data.toString('ascii'), 'mmmm');
  assert.equal(tool.chunks[0].data.toString('ascii'), 'nagg');
  for (const d of devices) {
    assert.deepEqual([...d.chunks[1].data], [0, 0, 0, 0]);
    assert.equal(d.bytes.length, 12 + 12 + 8 + d.chunks[2].data.length);
  }
  assert.equal(effect.patcher.project.amxdtype, Buffer.from('mmmm').readUInt32BE(0));
  assert.equal(tool.patcher.project.amxdtype, Buffer.from('nagg').readUInt32BE(0));
});

test('frozen: the .amxd holds its patcher and diffjam.js byte for byte', () => {
  for (const d of devices) {
    const ptch = d.chunks[2].data;
    assert.equal(ptch.toString('ascii', 0, 4), 'mx@c');
    assert.deepEqual(d.files.map((f) => [f.type, f.name, f.flag]),
      [['JSON', d.device.amxd, 0x11], ['TEXT', 'diffjam.js', 0]]);
    const source = fs.readFileSync(path.join(ROOT, d.device.patcher));
    assert.ok(d.files[0].bytes.equals(Buffer.concat([source, Buffer.alloc(1)])));
    assert.ok(d.files[1].bytes.equals(fs.readFileSync(path.join(ROOT, SCRIPT))),
      `${d.device.amxd} carries a stale diffjam.js: run node build.js`);
    assert.deepEqual(d.patcher.dependency_cache.map((e) => [e.name, e.type]),
      [['diffjam.js', 'TEXT']]);
    // the [js] box names exactly the frozen file
    assert.deepEqual(find(d, /^js /).map((b) => textOf(b).split(/\s+/)[1]), ['diffjam.js']);
  }
});

test('the frozen device works alone: copied without diffjam.js, it still has the script', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diffjam-alone-'));
  try {
    const copy = path.join(dir, 'moved.amxd');
    fs.copyFileSync(path.join(ROOT, 'diffjam.amxd'), copy);
    const files = parseFrozen(parseAmxd(fs.readFileSync(copy))[2].data);
    const script = files.find((f) => f.name === 'diffjam.js').bytes.toString('utf8');
    assert.equal(script, SCRIPT_TEXT);
    assert.ok(!fs.existsSync(path.join(dir, 'diffjam.js')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the committed devices rebuild byte-identically, twice, from the sources', () => {
  for (const d of devices) {
    assert.ok(buildDevice(d.device).equals(d.bytes), `${d.device.amxd} is stale: node build.js`);
    assert.ok(buildDevice(d.device).equals(buildDevice(d.device)));
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diffjam-amxd-'));
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'build.js'), '--out', dir]);
    for (const d of devices) {
      assert.ok(fs.readFileSync(path.join(dir, d.device.amxd)).equals(d.bytes));
    }
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
  assert.throws(() => parseFrozen(Buffer.from('{"patcher": {}}')), /not a frozen device/);
});

test('box ids are unique and every cord joins existing objects at valid indices', () => {
  for (const d of devices) {
    assert.equal(d.boxes.size, d.patcher.boxes.length, 'duplicate box id');
    for (const { patchline } of d.patcher.lines) {
      const [srcId, outlet] = patchline.source;
      const [dstId, inlet] = patchline.destination;
      const src = d.boxes.get(srcId);
      const dst = d.boxes.get(dstId);
      assert.ok(src, `cord from missing object ${srcId}`);
      assert.ok(dst, `cord to missing object ${dstId}`);
      assert.ok(Number.isInteger(outlet) && outlet >= 0 && outlet < src.numoutlets,
        `${textOf(src) || src.maxclass} has no outlet ${outlet}`);
      assert.ok(Number.isInteger(inlet) && inlet >= 0 && inlet < dst.numinlets,
        `${textOf(dst) || dst.maxclass} has no inlet ${inlet}`);
      assert.equal(src.outlettype.length, src.numoutlets);
    }
  }
});

// Inlets and outlets of the objects the patches use, as Max creates them.
function expectedIo(box) {
  const words = textOf(box).split('@')[0].trim().split(/\s+/);
  const args = words.slice(1);
  switch (box.maxclass === 'newobj' ? words[0] : box.maxclass) {
    case 'route': return [2, args.length + 1];
    case 'unpack': return [1, args.length];
    case 'pack': return [args.length, 1];
    case 'zl': return [2, 2];
    case 't': return [1, args.length];
    case 'prepend': return [1, 1];
    case 'deferlow': return [1, 1];
    case 'pattr': return [1, 3];
    case 'udpsend': return [1, 0];
    case 'udpreceive': return [1, 1];
    case 'midiin': return [1, 1];
    case 'midiout': return [1, 0];
    case 'live.thisdevice': return [1, 3];
    case 'live.miditool.in': return [1, 3];
    case 'live.miditool.out': return [1, 0];
    case 'js': return [Number(/\binlets = (\d+);/.exec(SCRIPT_TEXT)[1]),
      Number(/\boutlets = (\d+);/.exec(SCRIPT_TEXT)[1])];
    case 'message': return [2, 1];
    case 'comment': return [1, 0];
    case 'textedit': return [1, 4];
    case 'live.tab': return [1, 3];
    case 'live.numbox': return [1, 2];
    case 'live.toggle': return [1, 1];
    case 'live.text': return [1, 2];
    default: throw new Error(`no I/O entry for ${box.maxclass} ${textOf(box)}`);
  }
}

test('every object has the inlets and outlets Max gives it', () => {
  for (const d of devices) {
    for (const box of d.boxes.values()) {
      assert.deepEqual([box.numinlets, box.numoutlets], expectedIo(box),
        `${d.device.amxd} ${box.id} ${box.maxclass} ${textOf(box)}`);
    }
  }
});

test('[js] gets only deferred input: [udpreceive @defer 1], UI, init and live.miditool.in', () => {
  for (const d of devices) {
    const receivers = find(d, /^udpreceive /);
    assert.equal(receivers.length, 1);
    assert.match(textOf(receivers[0]), /^udpreceive \d+ @defer 1$/);
    const js = find(d, /^js /)[0];
    for (const [srcId] of cordsInto(d, js.id)) {
      const src = d.boxes.get(srcId);
      const ok = src.maxclass === 'message' || /^prepend /.test(textOf(src)) ||
        /^udpreceive .*@defer 1/.test(textOf(src));
      assert.ok(ok, `unexpected input to js: ${src.maxclass} ${textOf(src)}`);
    }
  }
});

test('every message the patches send [js] has a handler', () => {
  const handlers = new Set([...SCRIPT_TEXT.matchAll(/^function (\w+)\(/gm)].map((m) => m[1]));
  for (const d of devices) {
    const js = find(d, /^js /)[0];
    const selectors = cordsInto(d, js.id).map(([srcId]) => {
      const b = d.boxes.get(srcId);
      if (b.maxclass === 'message') return textOf(b).split(/\s+/)[0];
      if (/^prepend /.test(textOf(b))) return textOf(b).split(/\s+/)[1];
      return 'anything';
    });
    assert.ok(selectors.length >= 12);
    for (const selector of selectors) {
      assert.ok(handlers.has(selector), `diffjam.js has no function ${selector}`);
    }
  }
});

test('the script is ES5 (Max\'s classic [js]), makes no undo-step calls, loads without Max', () => {
  assert.doesNotThrow(() => acorn.parse(SCRIPT_TEXT, { ecmaVersion: 5, sourceType: 'script' }));
  assert.doesNotMatch(SCRIPT_TEXT, /['"](begin|end)_undo_step['"]/);
  assert.equal(typeof dj.Device, 'function');
  assert.equal(typeof dj.Tool, 'function');
});

function valueof(box) {
  return box.saved_attribute_attributes.valueof;
}

test('Live parameters: no Int beyond 0-255, buttons hidden, ports/steps/seed not automatable', () => {
  const PARAMETER_TYPES = { 0: 'float', 1: 'int', 2: 'enum', 3: 'blob' };
  for (const d of devices) {
    const params = [...d.boxes.values()].filter((b) => b.parameter_enable === 1);
    const names = params.map((b) => valueof(b).parameter_longname);
    assert.equal(new Set(names).size, names.length, 'long names are unique');
    const byName = new Map(params.map((b) => [valueof(b).parameter_longname, b]));
    for (const b of params) {
      const v = valueof(b);
      assert.ok(PARAMETER_TYPES[v.parameter_type], `${v.parameter_longname}: type`);
      if (v.parameter_type === 1) {
        assert.ok(v.parameter_mmin === undefined || v.parameter_mmin >= 0);
        assert.ok(v.parameter_mmax <= 255, `${v.parameter_longname}: an Int parameter ` +
          'holds 0-255 only; use Float with the Int unit style');
      }
      if (v.parameter_type === 0 && v.parameter_mmax > 255) {
        assert.equal(v.parameter_unitstyle, 0, `${v.parameter_longname} shows whole numbers`);
      }
      assert.ok(d.patcher.parameters[b.id], `${v.parameter_longname} not in patcher.parameters`);
    }
    for (const button of ['Generate', 'Cancel'].concat(d === tool ? ['Re-roll'] : [])) {
      assert.equal(valueof(byName.get(button)).parameter_invisible, 2, `${button}: hidden`);
    }
    const storedOnly = ['Engine Port', 'Reply Port', 'Steps', 'Candidates', 'Seed',
      'Chords Text', 'Key Text', 'Model Text'].concat(d === effect ? ['From Bar', 'To Bar'] : []);
    for (const name of storedOnly) {
      assert.equal(valueof(byName.get(name)).parameter_invisible, 1, `${name}: stored only`);
    }
    for (const name of ['Engine Port', 'Reply Port']) {
      assert.equal(valueof(byName.get(name)).parameter_mmax, 65535, `${name} can show any port`);
    }
  }
});

test('text fields apply on every key and are saved with the Set', () => {
  for (const d of devices) {
    for (const [name, selector] of [['Chords', 'chords'], ['Key', 'key'], ['Model', 'model']]) {
      const field = [...d.boxes.values()].find((b) => b.varname === name);
      assert.equal(field.maxclass, 'textedit');
      const [[bang]] = cordsFrom(d, field.id, 1); // typed keys
      assert.equal(textOf(d.boxes.get(bang)), 't b');
      const [[later]] = cordsFrom(d, bang, 0);
      assert.equal(textOf(d.boxes.get(later)), 'deferlow');
      assert.deepEqual(cordsFrom(d, later, 0), [[field.id, 0]], 'bang: the typed text');
      const [[store]] = cordsFrom(d, field.id, 0);
      const pattr = d.boxes.get(store);
      assert.match(textOf(pattr), new RegExp(`^pattr ${selector} @parameter_enable 1$`));
      assert.equal(valueof(pattr).parameter_type, 3, 'blob: text saved with the Set');
      const outs = cordsFrom(d, store, 0).map(([id]) => textOf(d.boxes.get(id)));
      assert.deepEqual(outs.sort(), [`prepend ${selector}`, 'prepend set'].sort());
    }
  }
});

test('the UI: controls in presentation mode, defaults equal the script\'s', () => {
  const settings = dj.defaultSettings();
  for (const d of devices) {
    assert.equal(d.patcher.openinpresentation, 1);
    const byName = new Map([...d.boxes.values()].filter((b) => b.varname)
      .map((b) => [b.varname, b]));
    const names = ['Mode', 'Guidance', 'In Key', 'Steps', 'Candidates', 'Seed', 'Generate',
      'Cancel', 'Chords', 'Key', 'Model', 'Status', 'Engine Port', 'Reply Port',
      'Root In Bass'];
    if (d === effect) {
      names.push('From Bar', 'To Bar', 'Variations', 'Keep Original', 'New Track',
        'Live Scale', 'Target');
    } else {
      names.push('Re-roll');
    }
    for (const name of names) {
      assert.ok(byName.has(name), `${d.device.amxd}: no ${name} control`);
      assert.equal(byName.get(name).presentation, 1, `${name} not in presentation`);
    }
    const initial = (name) => valueof(byName.get(name)).parameter_initial[0];
    assert.deepEqual(valueof(byName.get('Mode')).parameter_enum, ['infill', 'accompany']);
    assert.equal(initial('In Key'), 1);
    assert.equal(initial('Guidance'), settings.guidance);
    assert.equal(initial('Steps'), settings.steps);
    assert.equal(initial('Candidates'), settings.candidates);
    assert.equal(initial('Root In Bass'), settings.bass_anchor ? 1 : 0);
    const candidates = valueof(byName.get('Candidates'));
    assert.deepEqual([candidates.parameter_mmin, candidates.parameter_mmax],
      [0, dj.LIMITS.candidates[1]], 'Candidates: 0 (the default) to the engine\'s most');
    assert.equal(initial('Seed'), settings.seed);
    assert.equal(initial('Engine Port'), settings.engine_port);
    assert.equal(initial('Reply Port'), settings.reply_port);
    if (d === effect) {
      assert.equal(initial('Keep Original'), settings.keep_original ? 1 : 0);
      assert.equal(initial('New Track'), settings.new_track ? 1 : 0);
      assert.equal(initial('Live Scale'), settings.live_scale ? 1 : 0);
      assert.equal(initial('Variations'), settings.variations);
      assert.equal(initial('From Bar'), 0);
    }
    assert.equal(find(d, /^udpsend /).map(textOf)[0],
      `udpsend ${settings.engine_host} ${settings.engine_port}`);
  }
});

test('the presentation: controls inside the device (169 px high) and not on top of each other', () => {
  for (const d of devices) {
    const shown = [...d.boxes.values()].filter((b) => b.presentation)
      .map((b) => ({ name: b.varname || textOf(b), r: b.presentation_rect }));
    for (const { name, r } of shown) {
      assert.ok(r[0] >= 0 && r[1] >= 0 && r[0] + r[2] <= d.patcher.devicewidth &&
        r[1] + r[3] <= 169, `${d.device.amxd}: ${name} is outside the device`);
    }
    for (let i = 0; i < shown.length; i++) {
      for (let j = i + 1; j < shown.length; j++) {
        const [a, b] = [shown[i].r, shown[j].r];
        const overlap = a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] &&
          b[1] < a[1] + a[3];
        assert.ok(!overlap, `${d.device.amxd}: ${shown[i].name} overlaps ${shown[j].name}`);
      }
    }
  }
});

test('the MIDI Tool: live.miditool.in/out wired to the script, no MIDI in or out', () => {
  const js = find(tool, /^js /)[0];
  assert.equal(textOf(js), 'js diffjam.js tool');
  const input = find(tool, /^live\.miditool\.in$/)[0];
  const output = find(tool, /^live\.miditool\.out$/)[0];
  const via = (outlet) => cordsFrom(tool, input.id, outlet).map(([id]) => textOf(tool.boxes.get(id)));
  assert.deepEqual(via(0), ['prepend notes']);
  assert.deepEqual(via(1), ['prepend context']);
  assert.deepEqual(cordsFrom(tool, js.id, 4), [[output.id, 0]]);
  assert.deepEqual(cordsFrom(tool, js.id, 5), [[input.id, 0]]);
  assert.equal(find(tool, /^midi(in|out)$/).length, 0);
  assert.equal(tool.patcher.minimum_live_version, '12.0');
  const seed = [...tool.boxes.values()].find((b) => b.varname === 'Seed');
  assert.deepEqual(cordsFrom(tool, js.id, 3), [[seed.id, 0]], 'Re-roll shows its seed');
});

// The typed-float path, simulated over each patcher's own cords (support/patch_sim.js).
test('simulated patches: notes reach [udpsend] as OSC ffii even at whole beats', () => {
  const notes = [];
  for (let i = 0; i < 130; i++) {
    notes.push({ start: i, duration: i % 2 ? 0.5 : 1, pitch: 60 + (i % 12), velocity: 100 });
  }
  const request = dj.buildRequest('sim-1', dj.defaultSettings(), {
    notes, loop_start: 0, loop_end: 132, start_marker: 0, end_marker: 132,
    signature_numerator: 4, signature_denominator: 4, tempo: 120,
  });
  for (const d of devices) {
    const outlets = [];
    global.outlet = (index, list) => outlets.push(list);
    try {
      dj.maxSend(dj.helloMessage(9001));
      request.messages.forEach(dj.maxSend);
      dj.maxSend(dj.cancelMessage('sim-1'));
    } finally {
      delete global.outlet;
    }
    const sent = simulatePatch(d.patcher, outlets);
    assert.deepEqual(sent.map((m) => [m.address, m.types]),
      [['/diffjam/hello', 'i']].concat(request.messages.map((m) => [m.address, m.types]),
        [['/diffjam/cancel', 's']]));
    assert.deepEqual(sent[1].args.slice(0, 11), ['sim-1', 0, 2, 0, 1, 60, 100, 1, 0.5, 61, 100]);
    assert.equal(sent[2].args.length, 3 + 4 * 2);
  }
});
