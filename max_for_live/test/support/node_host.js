'use strict';
// Runs the device's own JavaScript (diffjam.js) in node the way the patcher runs it in Live:
// OSC out over UDP to the engine (the [udpsend] of the patch), replies on a UDP port
// announced with /diffjam/hello (the [udpreceive]), Live through a LiveAPI constructor, and
// a timer in place of Max's Task that calls tick() every TICK_MS.

const dgram = require('node:dgram');
const osc = require('./osc');
const diffjam = require('../../diffjam');

class NodeHost {
  // options: {LiveAPI, enginePort, engineHost, newId, clockRate, toolHost}; clockRate > 1
  // runs the device's wall clock faster (a 5 s deadline passes in 5 s / clockRate); with
  // toolHost (a MidiToolHost) the host runs the MIDI Tool instead of the MIDI effect.
  constructor({ LiveAPI, enginePort, engineHost = '127.0.0.1', newId, clockRate = 1,
    toolHost = null }) {
    this.engineHost = engineHost;
    this.enginePort = enginePort;
    this.statuses = [];
    this.sent = [];
    this.waiters = [];
    this.out = dgram.createSocket('udp4');
    this.in = dgram.createSocket('udp4');
    let counter = 0;
    const env = {
      LiveAPI,
      send: (message) => this.send(message),
      configure: () => {},
      status: (text) => this.onStatus(text),
      target: () => {},
      now: () => started + (Date.now() - started) * clockRate,
      random: Math.random,
      newId: newId || (() => `node-${process.pid}-${++counter}`),
      output: (liveNotes) => toolHost.output(liveNotes),
      requestApply: () => toolHost.bang(),
      showSeed: () => {},
    };
    const started = Date.now();
    this.device = toolHost ? new diffjam.Tool(env) : new diffjam.Device(env);
    if (toolHost) {
      toolHost.connect(this.device);
    }
    this.ticker = setInterval(() => {
      this.device.tick();
      this.checkWaiters();
    }, diffjam.TICK_MS / clockRate);
    this.in.on('message', (buffer) => {
      for (const message of osc.decode(buffer)) {
        this.device.receive(message.address, message.args);
      }
      this.checkWaiters();
    });
  }

  async start() {
    await new Promise((resolve) => this.in.bind(0, '127.0.0.1', resolve));
    await new Promise((resolve) => this.out.bind(0, '127.0.0.1', resolve));
    const port = this.in.address().port;
    this.device.set('reply_port', port);
    this.device.init();
    return port;
  }

  send(message) {
    this.sent.push(message);
    const buffer = osc.encode(message.address, message.types, message.args);
    this.out.send(buffer, this.enginePort, this.engineHost);
  }

  onStatus(text) {
    this.statuses.push(text);
    this.checkWaiters();
  }

  checkWaiters() {
    this.waiters = this.waiters.filter((waiter) => !waiter());
  }

  // Resolves with the last status line once the request in flight is finished; rejects
  // after `guardMs` so a broken engine cannot hang the test run (not a timing assertion).
  finished(guardMs) {
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => {
        reject(new Error(`request still in flight after ${guardMs} ms; statuses: ` +
          JSON.stringify(this.statuses)));
      }, guardMs);
      this.waiters.push(() => {
        if (this.device.busy()) {
          return false;
        }
        clearTimeout(guard);
        resolve(this.statuses[this.statuses.length - 1]);
        return true;
      });
      this.checkWaiters();
    });
  }

  // Resolves with the engine's status once it answered /diffjam/hello, or null when
  // `gaveUp()` says so (e.g. the server process exited) or after `guardMs`.
  async waitForEngine(guardMs, gaveUp = () => false) {
    const deadline = Date.now() + guardMs;
    while (Date.now() < deadline && !gaveUp()) {
      this.device.engineInfo = null;
      this.device.hello();
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (this.device.engineInfo) {
        return this.device.engineInfo;
      }
    }
    return null;
  }

  close() {
    clearInterval(this.ticker);
    this.out.close();
    this.in.close();
  }
}

module.exports = { NodeHost };
