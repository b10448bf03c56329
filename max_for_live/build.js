#!/usr/bin/env node
'use strict';
// Builds the frozen devices from their patchers and the script:
//   diffjam.amxd       MIDI effect (Live 11 and 12)   from diffjam.maxpat      + diffjam.js
//   diffjam-tool.amxd  MIDI Tool Generator (Live 12)  from diffjam-tool.maxpat + diffjam.js
//
//   node build.js            write both next to this file
//   node build.js --check    exit 1 when a committed .amxd is not what the sources build
//   node build.js --out DIR  write them into DIR instead
//
// The .amxd layout (README.md, "The .amxd file", names the sources and what is uncertain):
// a sequence of chunks, each a 4-byte ASCII tag, a 32-bit little-endian size of the data
// that follows, and the data, without padding:
//   ampf  4 bytes   device type: 'mmmm' MIDI effect, 'nagg' MIDI Tool Generator, ...
//   meta  4 bytes   zero
//   ptch  n bytes   a frozen device: an 'mx@c' archive holding the patcher and every file
//                   it needs, so the .amxd alone works wherever it is copied:
//     'mx@c', u32 16 (header size), u64 offset of the footer   (big-endian)
//     the files, back to back: the patcher JSON + NUL, then diffjam.js
//     'dlst', u32 size, then per file 'dire', u32 size and the fields
//       type (4 chars), fnam (NUL-padded to 4 bytes), sz32, of32 (offset in ptch), vers,
//       flag, mdat (HFS+ seconds; 0 here)          each: tag, u32 size incl. 8, data
// The output depends only on the bytes of the sources: no dates, no paths, no
// environment, so a rebuild is byte-identical.

const fs = require('node:fs');
const path = require('node:path');

const DEVICE_TYPES = {
  midi_effect: 'mmmm', audio_effect: 'aaaa', instrument: 'iiii',
  midi_generator: 'nagg', midi_transformation: 'natt',
};
const HERE = __dirname;
const SCRIPT = 'diffjam.js';
const DEVICES = [
  { patcher: 'diffjam.maxpat', amxd: 'diffjam.amxd', type: 'midi_effect' },
  { patcher: 'diffjam-tool.maxpat', amxd: 'diffjam-tool.amxd', type: 'midi_generator' },
];
const HEADER_SIZE = 16;
const PATCHER_FLAG = 0x11; // the device's own patcher, as Max writes it
const FILE_FLAG = 0;

function chunk(tag, data) {
  if (!/^[a-z@]{4}$/.test(tag)) {
    throw new Error(`bad chunk tag ${JSON.stringify(tag)}`);
  }
  const size = Buffer.alloc(4);
  size.writeUInt32LE(data.length);
  return Buffer.concat([Buffer.from(tag, 'ascii'), size, data]);
}

function u32(value) {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

// A big-endian field of the frozen archive: tag, size including these 8 bytes, data.
function field(tag, data) {
  return Buffer.concat([Buffer.from(tag, 'ascii'), u32(8 + data.length), data]);
}

// A string NUL-terminated and padded to a multiple of 4 bytes.
function padded(text) {
  const bytes = Buffer.from(text, 'ascii');
  return Buffer.concat([bytes, Buffer.alloc(4 - (bytes.length % 4))]);
}

function checkPatcher(patcherBytes) {
  let patcher;
  try {
    patcher = JSON.parse(patcherBytes.toString('utf8'));
  } catch (err) {
    throw new Error(`the patcher is not valid JSON: ${err.message}`, { cause: err });
  }
  if (!patcher.patcher || !Array.isArray(patcher.patcher.boxes)) {
    throw new Error('the patcher JSON has no patcher.boxes');
  }
  if (patcherBytes.includes(0)) {
    throw new Error('the patcher contains a NUL byte');
  }
  return patcher;
}

// The frozen 'ptch' data: the patcher (named `name`) and `files` [{name, bytes}].
function freeze(name, patcherBytes, files) {
  const entries = [{ type: 'JSON', name, bytes: Buffer.concat([patcherBytes, Buffer.alloc(1)]),
    flag: PATCHER_FLAG }];
  for (const file of files) {
    entries.push({ type: 'TEXT', name: file.name, bytes: file.bytes, flag: FILE_FLAG });
  }
  let offset = HEADER_SIZE;
  const directory = [];
  for (const entry of entries) {
    directory.push(field('dire', Buffer.concat([
      field('type', Buffer.from(entry.type, 'ascii')),
      field('fnam', padded(entry.name)),
      field('sz32', u32(entry.bytes.length)),
      field('of32', u32(offset)),
      field('vers', u32(0)),
      field('flag', u32(entry.flag)),
      field('mdat', u32(0)),
    ])));
    offset += entry.bytes.length;
  }
  const header = Buffer.concat([Buffer.from('mx@c', 'ascii'), u32(HEADER_SIZE), u32(0),
    u32(offset)]);
  return Buffer.concat([header, ...entries.map((e) => e.bytes),
    field('dlst', Buffer.concat(directory))]);
}

// patcherBytes: the .maxpat file's bytes; files: [{name, bytes}] it needs (the script).
// Returns the .amxd bytes.
function buildAmxd(patcherBytes, { deviceType = 'midi_effect', name = 'device.amxd',
  files = [] } = {}) {
  const code = DEVICE_TYPES[deviceType];
  if (!code) {
    throw new Error(`unknown device type ${deviceType}; one of ${Object.keys(DEVICE_TYPES)}`);
  }
  checkPatcher(patcherBytes);
  return Buffer.concat([
    chunk('ampf', Buffer.from(code, 'ascii')),
    chunk('meta', Buffer.alloc(4)),
    chunk('ptch', freeze(name, patcherBytes, files)),
  ]);
}

// Returns [{tag, data}] for every chunk; throws when a size runs past the end.
function parseAmxd(bytes) {
  const chunks = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) {
      throw new Error(`truncated chunk header at byte ${offset}`);
    }
    const tag = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (offset + 8 + size > bytes.length) {
      throw new Error(`chunk ${tag} at byte ${offset} claims ${size} bytes, ` +
        `${bytes.length - offset - 8} left`);
    }
    chunks.push({ tag, data: bytes.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size;
  }
  return chunks;
}

function readFields(data, where) {
  const fields = [];
  let offset = 0;
  while (offset < data.length) {
    if (offset + 8 > data.length) throw new Error(`truncated field in ${where}`);
    const tag = data.toString('ascii', offset, offset + 4);
    const size = data.readUInt32BE(offset + 4);
    if (size < 8 || offset + size > data.length) {
      throw new Error(`field ${tag} in ${where} claims ${size} bytes`);
    }
    fields.push({ tag, data: data.subarray(offset + 8, offset + size) });
    offset += size;
  }
  return fields;
}

// A frozen 'ptch' chunk -> [{type, name, flag, bytes}]; throws on any inconsistency.
function parseFrozen(ptch) {
  if (ptch.toString('ascii', 0, 4) !== 'mx@c') throw new Error('not a frozen device (no mx@c)');
  if (ptch.readUInt32BE(4) !== HEADER_SIZE) throw new Error('unexpected mx@c header size');
  const footer = Number(ptch.readBigUInt64BE(8));
  const [dlst, ...rest] = readFields(ptch.subarray(footer), 'the footer');
  if (!dlst || dlst.tag !== 'dlst' || rest.length) throw new Error('the footer is not one dlst');
  return readFields(dlst.data, 'dlst').map((dire) => {
    if (dire.tag !== 'dire') throw new Error(`unexpected ${dire.tag} in dlst`);
    const f = Object.fromEntries(readFields(dire.data, 'dire').map((x) => [x.tag, x.data]));
    const size = f.sz32.readUInt32BE(0);
    const offset = f.of32.readUInt32BE(0);
    if (offset < HEADER_SIZE || offset + size > footer) {
      throw new Error('a frozen file lies outside the archive');
    }
    return {
      type: f.type.toString('ascii'),
      name: f.fnam.toString('ascii').replace(/\0+$/, ''),
      flag: f.flag.readUInt32BE(0),
      bytes: ptch.subarray(offset, offset + size),
    };
  });
}

function buildDevice(device, dir = HERE) {
  return buildAmxd(fs.readFileSync(path.join(dir, device.patcher)), {
    deviceType: device.type,
    name: device.amxd,
    files: [{ name: SCRIPT, bytes: fs.readFileSync(path.join(dir, SCRIPT)) }],
  });
}

function main(argv) {
  const check = argv.includes('--check');
  const outIndex = argv.indexOf('--out');
  const outDir = outIndex >= 0 ? path.resolve(argv[outIndex + 1]) : HERE;
  let status = 0;
  for (const device of DEVICES) {
    const built = buildDevice(device);
    const target = path.join(outDir, device.amxd);
    if (check) {
      const current = fs.existsSync(target) ? fs.readFileSync(target) : Buffer.alloc(0);
      if (!current.equals(built)) {
        process.stderr.write(`${target} is out of date: run node build.js\n`);
        status = 1;
      } else {
        process.stdout.write(`${target} is up to date (${built.length} bytes)\n`);
      }
    } else {
      fs.writeFileSync(target, built);
      process.stdout.write(`wrote ${target} (${built.length} bytes)\n`);
    }
  }
  return status;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

module.exports = { buildAmxd, buildDevice, parseAmxd, parseFrozen, DEVICE_TYPES, DEVICES, SCRIPT };
