'use strict';
// Pushes what the [js] object sends out of its outlet 0 through the patcher's own cords and
// returns what reaches [udpsend], with OSC type tags. It models the few Max objects on that
// path as Max documents them; it is a check of the wiring and of the int/float handling,
// not a substitute for Max.
//
// Atoms are {t: 'i'|'f'|'s', v}. Max's [js] outputs a whole-valued number as an int (this is
// why notes go through [pack 0. 0. 0 0]); strings are symbols.

function atomsFromJs(list) {
  return list.map((v) => (typeof v === 'string' ? { t: 's', v }
    : Number.isInteger(v) ? { t: 'i', v } : { t: 'f', v }));
}

function cast(spec, atom) {
  return spec.includes('.') ? { t: 'f', v: Number(atom.v) }
    : { t: 'i', v: Math.trunc(Number(atom.v)) };
}

// jsOutputs: the lists given to outlet(0, list), in order. Returns [{address, types, args}].
function simulatePatch(patcher, jsOutputs) {
  const boxes = new Map(patcher.boxes.map(({ box }) => [box.id, box]));
  const state = new Map();
  const sent = [];
  const cordsFrom = (id, outlet) => patcher.lines
    .filter((l) => l.patchline.source[0] === id && l.patchline.source[1] === outlet)
    .map((l) => l.patchline.destination);
  const emit = (id, outlet, atoms) => {
    for (const [dst, inlet] of cordsFrom(id, outlet)) {
      deliver(dst, inlet, atoms);
    }
  };
  function deliver(id, inlet, atoms) {
    const box = boxes.get(id);
    const words = box.text.split('@')[0].trim().split(/\s+/);
    const s = state.get(id) || {};
    state.set(id, s);
    switch (words[0]) {
      case 'route': {
        const names = words.slice(1);
        const index = names.indexOf(atoms[0].v);
        if (index >= 0) emit(id, index, atoms.slice(1));
        else emit(id, names.length, atoms);
        break;
      }
      case 'unpack': {
        const specs = words.slice(1);
        for (let i = specs.length - 1; i >= 0; i--) emit(id, i, [cast(specs[i], atoms[i])]);
        break;
      }
      case 'pack': {
        const specs = words.slice(1);
        s.values = s.values || specs.map((spec) => cast(spec, { v: 0 }));
        s.values[inlet] = cast(specs[inlet], atoms[0]);
        if (inlet === 0) emit(id, 0, s.values.slice());
        break;
      }
      case 't': // [t a b]: right to left
        emit(id, 1, [{ t: 's', v: 'bang' }]);
        emit(id, 0, atoms);
        break;
      case 'zl':
        if (words[1] === 'group') {
          s.items = s.items || [];
          if (atoms.length === 1 && atoms[0].v === 'bang') {
            const out = s.items;
            s.items = [];
            emit(id, 0, out);
          } else {
            s.items.push(...atoms);
          }
        } else if (words[1] === 'join') {
          if (inlet === 1) s.right = atoms;
          else emit(id, 0, atoms.concat(s.right || []));
        } else {
          throw new Error(`simulation has no model of ${box.text}`);
        }
        break;
      case 'prepend':
        emit(id, 0, [{ t: 's', v: words[1] }].concat(atoms));
        break;
      case 'udpsend':
        sent.push(atoms);
        break;
      default:
        throw new Error(`simulation has no model of ${box.text}`);
    }
  }
  const js = [...boxes.values()].find((b) => /^js\b/.test(b.text || '')).id;
  for (const list of jsOutputs) {
    emit(js, 0, atomsFromJs(list));
  }
  return sent.map((atoms) => ({
    address: atoms[0].v,
    types: atoms.slice(1).map((a) => a.t).join(''),
    args: atoms.slice(1).map((a) => a.v),
  }));
}

module.exports = { simulatePatch };
