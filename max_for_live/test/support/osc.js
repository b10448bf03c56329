'use strict';
// Minimal OSC 1.0 encoder/decoder (types s, i, f; bundles when decoding), enough to stand in
// for Max's [udpsend]/[udpreceive] in the node tests.

function pad4(length) {
  return (4 - (length % 4)) % 4;
}

function encodeString(text) {
  const bytes = Buffer.from(String(text), 'utf8');
  return Buffer.concat([bytes, Buffer.alloc(1 + pad4(bytes.length + 1))]);
}

function encode(address, types, args) {
  if (types.length !== args.length) {
    throw new Error(`${address}: ${types.length} type tags for ${args.length} arguments`);
  }
  const parts = [encodeString(address), encodeString(`,${types}`)];
  for (let i = 0; i < types.length; i++) {
    const value = args[i];
    if (types[i] === 's') {
      parts.push(encodeString(value));
    } else if (types[i] === 'i') {
      if (!Number.isInteger(value)) {
        throw new Error(`${address}: argument ${i} is not an int: ${value}`);
      }
      const b = Buffer.alloc(4);
      b.writeInt32BE(value);
      parts.push(b);
    } else if (types[i] === 'f') {
      const b = Buffer.alloc(4);
      b.writeFloatBE(Number(value));
      parts.push(b);
    } else {
      throw new Error(`unsupported OSC type ${types[i]}`);
    }
  }
  return Buffer.concat(parts);
}

function readString(buffer, offset) {
  const end = buffer.indexOf(0, offset);
  if (end < 0) {
    throw new Error('unterminated OSC string');
  }
  const text = buffer.toString('utf8', offset, end);
  return { text, next: end + 1 + pad4(end + 1 - offset) };
}

// Returns a list of messages {address, types, args} (a bundle gives all of its messages).
function decode(buffer) {
  if (buffer.toString('ascii', 0, 8) === '#bundle\0') {
    const messages = [];
    let offset = 16;
    while (offset < buffer.length) {
      const size = buffer.readInt32BE(offset);
      messages.push(...decode(buffer.subarray(offset + 4, offset + 4 + size)));
      offset += 4 + size;
    }
    return messages;
  }
  const address = readString(buffer, 0);
  const tags = readString(buffer, address.next);
  if (!tags.text.startsWith(',')) {
    throw new Error('OSC message without type tags');
  }
  const types = tags.text.slice(1);
  const args = [];
  let offset = tags.next;
  for (const type of types) {
    if (type === 's') {
      const s = readString(buffer, offset);
      args.push(s.text);
      offset = s.next;
    } else if (type === 'i') {
      args.push(buffer.readInt32BE(offset));
      offset += 4;
    } else if (type === 'f') {
      args.push(buffer.readFloatBE(offset));
      offset += 4;
    } else if (type === 'd') {
      args.push(buffer.readDoubleBE(offset));
      offset += 8;
    } else if (type === 'h') {
      args.push(Number(buffer.readBigInt64BE(offset)));
      offset += 8;
    } else if (type === 'T' || type === 'F' || type === 'N') {
      args.push(type === 'T' ? true : type === 'F' ? false : null);
    } else {
      throw new Error(`unsupported OSC type ${type}`);
    }
  }
  return [{ address: address.text, types, args }];
}

module.exports = { encode, decode };
