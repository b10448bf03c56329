'use strict';
// A small stand-in for `diffjam serve` speaking docs/osc-protocol.md over UDP, with knobs to
// misbehave (stay silent, answer with an error, lose or repeat result chunks).

const dgram = require('node:dgram');
const osc = require('./osc');

const NOTES_PER_CHUNK = 128;

// The engine's answer for a request: deterministic notes, one per beat in the range.
function infillResult(notes, params) {
  const [first, last] = params.bars;
  const start = (first - 1) * 4;
  const end = last * 4;
  const kept = notes.filter((n) => n.start < start || n.start >= end);
  const made = [];
  for (let beat = start; beat < end; beat += 1) {
    made.push({ start: beat, duration: 0.5, pitch: 60 + (beat % 8), velocity: 90 });
  }
  return kept.concat(made).sort((a, b) => a.start - b.start || a.pitch - b.pitch);
}

function accompanyResult(melody, params) {
  const made = [];
  for (let bar = 0; bar < params.n_bars; bar += 1) {
    for (const pitch of [48, 52, 55]) {
      made.push({ start: bar * 4, duration: 4, pitch, velocity: 70 });
    }
  }
  // Like a result that holds the melody too: the device must not write it twice.
  return melody.concat(made);
}

class FakeEngine {
  // behaviour: {silent, error: {code, name, message}, drop: [[variation, chunk]...],
  //             repeat: true, reverse: true, doneFirst: true (done overtakes the chunks),
  //             chunkSize}
  constructor(behaviour = {}) {
    this.behaviour = behaviour;
    this.socket = dgram.createSocket('udp4');
    this.replyPorts = new Map();
    this.pending = new Map();
    this.requests = [];
    this.received = [];
    this.socket.on('message', (buffer, rinfo) => {
      for (const message of osc.decode(buffer)) {
        this.handle(message, rinfo);
      }
    });
  }

  async start() {
    await new Promise((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  close() {
    this.socket.close();
  }

  reply(rinfo, address, types, args) {
    const port = this.replyPorts.get(rinfo.address) || rinfo.port;
    this.socket.send(osc.encode(address, types, args), port, rinfo.address);
  }

  handle(message, rinfo) {
    this.received.push(message);
    if (this.behaviour.silent) {
      return;
    }
    const { address, args } = message;
    if (address === '/diffjam/hello') {
      if (args.length === 1) {
        this.replyPorts.set(rinfo.address, args[0]);
      }
      this.reply(rinfo, '/diffjam/status', 's', [JSON.stringify({
        protocol: 1, version: 'fake', model: 'fake-model', device: 'cpu', queue: 0,
        queue_capacity: 4, busy: false, last_latency_ms: null,
      })]);
      return;
    }
    if (address === '/diffjam/notes') {
      const [id, index, count] = args;
      const entry = this.entry(id);
      entry.count = count;
      const notes = [];
      for (let i = 3; i < args.length; i += 4) {
        notes.push({ start: args[i], duration: args[i + 1], pitch: args[i + 2],
          velocity: args[i + 3] });
      }
      entry.chunks.set(index, notes);
      entry.types.push(message.types);
      this.maybeRun(id, rinfo);
      return;
    }
    if (['/diffjam/infill', '/diffjam/accompany', '/diffjam/generate'].includes(address)) {
      const [id, json] = args;
      const entry = this.entry(id);
      entry.mode = address.slice('/diffjam/'.length);
      entry.params = JSON.parse(json);
      this.maybeRun(id, rinfo);
    }
  }

  entry(id) {
    if (!this.pending.has(id)) {
      this.pending.set(id, { chunks: new Map(), count: null, params: null, types: [] });
    }
    return this.pending.get(id);
  }

  maybeRun(id, rinfo) {
    const entry = this.pending.get(id);
    const expected = entry.params ? entry.params.notes_chunks || 0 : null;
    if (expected === null || entry.chunks.size !== expected) {
      return;
    }
    this.pending.delete(id);
    const notes = [];
    for (let i = 0; i < expected; i++) {
      notes.push(...entry.chunks.get(i));
    }
    const request = { id, mode: entry.mode, params: entry.params, notes, types: entry.types };
    this.requests.push(request);
    this.run(request, rinfo);
  }

  run(request, rinfo) {
    const { id, mode, params, notes } = request;
    this.reply(rinfo, '/diffjam/accepted', 'si', [id, 0]);
    if (this.behaviour.error) {
      const { code, name, message } = this.behaviour.error;
      this.reply(rinfo, '/diffjam/error', 'siss', [id, code, name, message]);
      return;
    }
    this.reply(rinfo, '/diffjam/progress', 'sf', [id, 0.5]);
    const variations = params.variations || 1;
    const size = this.behaviour.chunkSize || NOTES_PER_CHUNK;
    const counts = [];
    let messages = [];
    for (let v = 0; v < variations; v++) {
      const result = (mode === 'infill' ? infillResult(notes, params)
        : accompanyResult(notes, params))
        .map((n) => ({ ...n, pitch: n.pitch + v }));
      counts.push(result.length);
      const chunks = [];
      for (let i = 0; i < Math.max(1, result.length); i += size) {
        chunks.push(result.slice(i, i + size));
      }
      chunks.forEach((chunk, index) => {
        if ((this.behaviour.drop || []).some(([dv, di]) => dv === v && di === index)) {
          return;
        }
        const args = [id, v, index, chunks.length];
        for (const n of chunk) {
          args.push(n.start, n.duration, n.pitch, n.velocity);
        }
        messages.push(['/diffjam/result', 'siii' + 'ffii'.repeat(chunk.length), args]);
      });
    }
    if (this.behaviour.reverse) {
      messages = messages.reverse();
    }
    if (this.behaviour.repeat) {
      messages = messages.concat(messages);
    }
    const done = ['/diffjam/done', 'ss', [id, JSON.stringify({
      variations, notes: counts, bars: params.bars || [1, params.n_bars],
      n_bars: params.n_bars || params.bars[1], midi_paths: [], latency_ms: 1, nfe: 1,
    })]];
    messages = this.behaviour.doneFirst ? [done].concat(messages) : messages.concat([done]);
    for (const [address, types, args] of messages) {
      this.reply(rinfo, address, types, args);
    }
  }
}

module.exports = { FakeEngine, infillResult, accompanyResult };
