// Tiny OSC client for tests/bridge/test_e2e.py: drives `diffjam serve` with the `osc` package.
// Usage: node client.js <engine port>
// Announces its reply port with /diffjam/hello (as Max does), asks for status, sends a
// two-note infill request (one notes chunk + params), and prints every reply as one JSON
// line: {"address": ..., "args": [...]}. Exits 0 after /diffjam/done, 1 on error/timeout.
"use strict";

const osc = require("osc");

const enginePort = Number(process.argv[2]);
const port = new osc.UDPPort({
    localAddress: "127.0.0.1",
    localPort: 0,
    remoteAddress: "127.0.0.1",
    remotePort: enginePort,
    metadata: true
});

const timer = setTimeout(() => {
    console.error("timed out waiting for the engine");
    process.exit(1);
}, 20000);

function send(address, args) {
    port.send({ address: address, args: args });
}

port.on("ready", () => {
    const replyPort = port.socket.address().port;
    send("/diffjam/hello", [{ type: "i", value: replyPort }]);
});

let sentRequest = false;
port.on("message", (message) => {
    const args = message.args.map((arg) => arg.value);
    console.log(JSON.stringify({ address: message.address, args: args }));
    if (message.address === "/diffjam/status" && !sentRequest) {
        sentRequest = true;
        send("/diffjam/notes", [
            { type: "s", value: "node-1" }, { type: "i", value: 0 }, { type: "i", value: 1 },
            { type: "f", value: 0.0 }, { type: "f", value: 1.0 },
            { type: "i", value: 60 }, { type: "i", value: 100 },
            { type: "f", value: 2.5 }, { type: "f", value: 0.5 },
            { type: "i", value: 67 }, { type: "i", value: 80 }
        ]);
        send("/diffjam/infill", [
            { type: "s", value: "node-1" },
            { type: "s", value: JSON.stringify({ notes_chunks: 1, bars: [2, 2], clip_beats: 8,
                                                 steps: 2, seed: 1 }) }
        ]);
    } else if (message.address === "/diffjam/done" || message.address === "/diffjam/error") {
        clearTimeout(timer);
        port.close();
        process.exit(message.address === "/diffjam/done" ? 0 : 1);
    }
});

port.on("error", (err) => {
    console.error(String(err));
    process.exit(1);
});

port.open();
