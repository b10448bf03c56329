#!/usr/bin/env node
'use strict';
// Builds diffjam.amxd (a Max for Live MIDI effect) from diffjam.maxpat.
//
//   node build.js            write diffjam.amxd next to this file
//   node build.js --check    exit 1 when diffjam.amxd is not what the sources build
//   node build.js --out PATH write somewhere else
//
// The .amxd layout (see README.md, "The .amxd file", for sources and what is uncertain):
// a sequence of chunks, each a 4-byte ASCII tag, a 32-bit little-endian size of the data
// that follows, and the data, without padding:
//   ampf  4 bytes   device type: 'mmmm' MIDI effect ('aaaa' audio effect, 'iiii' instrument)
//   meta  4 bytes   zero in the devices we could inspect
//   ptch  n bytes   the patcher JSON (the .maxpat text as is) followed by one NUL byte
// The output depends only on the bytes of diffjam.maxpat: no dates, no paths, no
// environment, so a rebuild is byte-identical.

const fs = require('node:fs');
const path = require('node:path');

const DEVICE_TYPES = { midi_effect: 'mmmm', audio_effect: 'aaaa', instrument: 'iiii' };
const HERE = __dirname;
const SOURCE = path.join(HERE, 'diffjam.maxpat');
const TARGET = path.join(HERE, 'diffjam.amxd');

function chunk(tag, data) {
  if (!/^[a-z@]{4}$/.test(tag)) {
    throw new Error(`bad chunk tag ${JSON.stringify(tag)}`);
  }
  const size = Buffer.alloc(4);
  size.writeUInt32LE(data.length);
  return Buffer.concat([Buffer.from(tag, 'ascii'), size, data]);
}

// patcherBytes: the .maxpat file's bytes. Returns the .amxd bytes.
function buildAmxd(patcherBytes, { deviceType = 'midi_effect' } = {}) {
  const code = DEVICE_TYPES[deviceType];
  if (!code) {
    throw new Error(`unknown device type ${deviceType}; one of ${Object.keys(DEVICE_TYPES)}`);
  }
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
  return Buffer.concat([
    chunk('ampf', Buffer.from(code, 'ascii')),
    chunk('meta', Buffer.alloc(4)),
    chunk('ptch', Buffer.concat([patcherBytes, Buffer.alloc(1)])),
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

function main(argv) {
  const check = argv.includes('--check');
  const outIndex = argv.indexOf('--out');
  const target = outIndex >= 0 ? path.resolve(argv[outIndex + 1]) : TARGET;
  const built = buildAmxd(fs.readFileSync(SOURCE));
  if (check) {
    const current = fs.existsSync(target) ? fs.readFileSync(target) : Buffer.alloc(0);
    if (!current.equals(built)) {
      process.stderr.write(`${target} is out of date: run node build.js\n`);
      return 1;
    }
    process.stdout.write(`${target} is up to date (${built.length} bytes)\n`);
    return 0;
  }
  fs.writeFileSync(target, built);
  process.stdout.write(`wrote ${target} (${built.length} bytes)\n`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

module.exports = { buildAmxd, parseAmxd, DEVICE_TYPES };
