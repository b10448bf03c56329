'use strict';
// A fake of Max's LiveAPI over a small Live Object Model: the song, tracks, clip slots,
// session and arrangement clips with notes. It answers get/set/call the way LiveAPI does
// (values as arrays, object references as ['id', n]) and throws on anything it does not
// know, so a typo in diffjam.js fails a test instead of silently doing nothing in Live.
//
// Undo: Song.begin_undo_step/end_undo_step group edits; an edit outside a group is a step of
// its own. world.undo() restores the state from before the last step.

class LiveWorld {
  constructor({ tempo = 120 } = {}) {
    this.nextId = 1;
    this.objects = new Map();
    this.calls = [];
    this.undoStack = [];
    this.groupDepth = 0;
    this.song = this.add({ type: 'Song', tempo, tracks: [], scenes: 0, detailClip: 0 });
  }

  add(object) {
    const id = this.nextId++;
    this.objects.set(id, { id, ...object });
    return id;
  }

  get(id) {
    const object = this.objects.get(Number(id));
    if (!object) {
      throw new Error(`no Live object with id ${id}`);
    }
    return object;
  }

  addTrack({ name = 'MIDI', slots = 4 } = {}) {
    const track = this.add({ type: 'Track', name, clipSlots: [], arrangementClips: [] });
    this.get(this.song).tracks.push(track);
    const song = this.get(this.song);
    song.scenes = Math.max(song.scenes, slots);
    for (let i = 0; i < slots; i++) {
      this.get(track).clipSlots.push(this.add({ type: 'ClipSlot', track, clip: 0 }));
    }
    return track;
  }

  // A MIDI (or audio) clip in a session slot, or in the arrangement when slotIndex is null.
  addClip(track, slotIndex, {
    name = 'clip', notes = [], loopStart = 0, loopEnd = 16, startMarker = null,
    endMarker = null, numerator = 4, denominator = 4, midi = true,
  } = {}) {
    const parent = slotIndex === null ? track : this.get(track).clipSlots[slotIndex];
    const clip = this.add({
      type: 'Clip', name, midi, parent,
      loop_start: loopStart, loop_end: loopEnd,
      start_marker: startMarker === null ? loopStart : startMarker,
      end_marker: endMarker === null ? loopEnd : endMarker,
      signature_numerator: numerator, signature_denominator: denominator,
      notes: [], nextNoteId: 1,
    });
    for (const note of notes) {
      this.insertNote(this.get(clip), note);
    }
    if (slotIndex === null) {
      this.get(track).arrangementClips.push(clip);
    } else {
      this.get(parent).clip = clip;
    }
    return clip;
  }

  select(clip) {
    this.get(this.song).detailClip = clip;
  }

  insertNote(clip, note) {
    clip.notes.push({
      note_id: clip.nextNoteId++,
      pitch: note.pitch,
      start_time: note.start_time,
      duration: note.duration,
      velocity: note.velocity === undefined ? 100 : note.velocity,
      mute: note.mute ? 1 : 0,
      probability: note.probability === undefined ? 1 : note.probability,
      velocity_deviation: note.velocity_deviation || 0,
      release_velocity: note.release_velocity === undefined ? 64 : note.release_velocity,
    });
  }

  notesOf(clip) {
    return this.get(clip).notes
      .map((n) => ({ pitch: n.pitch, start_time: n.start_time, duration: n.duration,
        velocity: n.velocity, mute: n.mute }))
      .sort((a, b) => a.start_time - b.start_time || a.pitch - b.pitch);
  }

  slotClip(track, index) {
    return this.get(this.get(track).clipSlots[index]).clip;
  }

  // --- undo -------------------------------------------------------------------------------

  snapshot() {
    return {
      nextId: this.nextId,
      objects: new Map([...this.objects].map(([id, o]) => [id, structuredClone(o)])),
    };
  }

  beforeEdit() {
    if (this.groupDepth === 0) {
      this.undoStack.push(this.snapshot());
    }
  }

  undo() {
    const state = this.undoStack.pop();
    if (!state) {
      throw new Error('nothing to undo');
    }
    this.nextId = state.nextId;
    this.objects = state.objects;
  }

  // --- the LiveAPI constructor ------------------------------------------------------------

  LiveAPI() {
    const world = this;
    return function LiveAPI(callbackOrPath, maybePath) {
      const path = typeof callbackOrPath === 'string' ? callbackOrPath : maybePath;
      const id = world.resolve(path);
      this.id = String(id);
      this.type = id === 0 ? '' : world.get(id).type;
      this.path = path;
      this.get = (prop) => world.getProperty(id, prop);
      this.set = (prop, value) => world.setProperty(id, prop, value);
      this.call = (fn, ...args) => world.callFunction(id, fn, args);
    };
  }

  resolve(path) {
    const words = String(path).trim().split(/\s+/);
    if (words[0] === 'id') {
      const id = Number(words[1]);
      return this.objects.has(id) ? id : 0;
    }
    if (words[0] !== 'live_set') {
      throw new Error(`LiveAPI path must start with live_set or id: ${path}`);
    }
    let id = this.song;
    for (let i = 1; i < words.length && id !== 0; i++) {
      const object = this.get(id);
      const word = words[i];
      if (object.type === 'Song' && word === 'view') {
        continue;
      } else if (object.type === 'Song' && word === 'detail_clip') {
        id = object.detailClip;
      } else if (object.type === 'Song' && word === 'tracks') {
        id = object.tracks[Number(words[++i])] || 0;
      } else if (object.type === 'Track' && word === 'clip_slots') {
        id = object.clipSlots[Number(words[++i])] || 0;
      } else if (object.type === 'ClipSlot' && word === 'clip') {
        id = object.clip;
      } else {
        throw new Error(`unknown path element ${word} in ${path}`);
      }
    }
    return id;
  }

  getProperty(id, prop) {
    if (id === 0) {
      throw new Error(`get ${prop} on an invalid LiveAPI object`);
    }
    const o = this.get(id);
    this.calls.push({ id, op: 'get', name: prop });
    const ref = (target) => ['id', target];
    const ids = (list) => list.flatMap((target) => ['id', target]);
    switch (`${o.type}.${prop}`) {
      case 'Song.tempo': return [o.tempo];
      case 'Song.tracks': return ids(o.tracks);
      case 'Track.clip_slots': return ids(o.clipSlots);
      case 'Track.arrangement_clips': return ids(o.arrangementClips);
      case 'Track.name': return [o.name];
      case 'ClipSlot.has_clip': return [o.clip ? 1 : 0];
      case 'ClipSlot.clip': return ref(o.clip);
      case 'ClipSlot.canonical_parent': return ref(o.track);
      case 'Clip.canonical_parent': return ref(o.parent);
      case 'Clip.is_midi_clip': return [o.midi ? 1 : 0];
      case 'Clip.is_audio_clip': return [o.midi ? 0 : 1];
      case 'Clip.name': return [o.name];
      case 'Clip.loop_start':
      case 'Clip.loop_end':
      case 'Clip.start_marker':
      case 'Clip.end_marker':
      case 'Clip.signature_numerator':
      case 'Clip.signature_denominator':
        return [o[prop]];
      case 'Clip.length': return [o.loop_end - o.loop_start];
      default: throw new Error(`unknown property ${o.type}.${prop}`);
    }
  }

  setProperty(id, prop, value) {
    const o = this.get(id);
    this.calls.push({ id, op: 'set', name: prop, args: [value] });
    const settable = ['name', 'loop_start', 'loop_end', 'start_marker', 'end_marker'];
    if (o.type !== 'Clip' || !settable.includes(prop)) {
      throw new Error(`cannot set ${o.type}.${prop}`);
    }
    this.beforeEdit();
    o[prop] = prop === 'name' ? String(value) : Number(value);
  }

  callFunction(id, fn, args) {
    const o = this.get(id);
    this.calls.push({ id, op: 'call', name: fn, args });
    const key = `${o.type}.${fn}`;
    if (key === 'Song.begin_undo_step') {
      this.beforeEdit();
      this.groupDepth += 1;
      return undefined;
    }
    if (key === 'Song.end_undo_step') {
      if (this.groupDepth === 0) {
        throw new Error('end_undo_step without begin_undo_step');
      }
      this.groupDepth -= 1;
      return undefined;
    }
    if (key === 'Song.create_scene') {
      this.beforeEdit();
      o.scenes += 1;
      for (const track of o.tracks) {
        this.get(track).clipSlots.push(this.add({ type: 'ClipSlot', track, clip: 0 }));
      }
      return undefined;
    }
    if (key === 'Clip.get_notes_extended') {
      const [fromPitch, pitchSpan, fromTime, timeSpan] = numbers(fn, args, 4);
      const notes = o.notes.filter((n) => inArea(n, fromPitch, pitchSpan, fromTime, timeSpan));
      return JSON.stringify({ notes });
    }
    if (key === 'Clip.remove_notes_extended') {
      const [fromPitch, pitchSpan, fromTime, timeSpan] = numbers(fn, args, 4);
      this.beforeEdit();
      o.notes = o.notes.filter((n) => !inArea(n, fromPitch, pitchSpan, fromTime, timeSpan));
      return undefined;
    }
    if (key === 'Clip.add_new_notes') {
      if (args.length !== 1 || !Array.isArray(args[0].notes)) {
        throw new Error('add_new_notes takes one dictionary with a notes array');
      }
      if (!o.midi) {
        throw new Error('add_new_notes on an audio clip');
      }
      this.beforeEdit();
      for (const note of args[0].notes) {
        checkNote(note);
        this.insertNote(o, note);
      }
      return undefined;
    }
    if (key === 'ClipSlot.duplicate_clip_to') {
      if (args.length !== 2 || args[0] !== 'id') {
        throw new Error('duplicate_clip_to takes a clip slot as id n');
      }
      const target = this.get(args[1]);
      if (target.type !== 'ClipSlot' || !o.clip) {
        throw new Error('duplicate_clip_to needs a filled source and a target slot');
      }
      this.beforeEdit();
      const copy = structuredClone(this.get(o.clip));
      delete copy.id;
      copy.parent = target.id;
      target.clip = this.add(copy);
      return undefined;
    }
    if (key === 'ClipSlot.create_clip') {
      const [length] = numbers(fn, args, 1);
      if (o.clip) {
        throw new Error('create_clip on a slot that has a clip');
      }
      this.beforeEdit();
      o.clip = this.add({
        type: 'Clip', name: '', midi: true, parent: o.id, loop_start: 0, loop_end: length,
        start_marker: 0, end_marker: length, signature_numerator: 4,
        signature_denominator: 4, notes: [], nextNoteId: 1,
      });
      return undefined;
    }
    throw new Error(`unknown function ${key}`);
  }
}

function numbers(fn, args, count) {
  if (args.length !== count || args.some((a) => typeof a !== 'number' || Number.isNaN(a))) {
    throw new Error(`${fn} takes ${count} numbers, got ${JSON.stringify(args)}`);
  }
  return args;
}

function inArea(note, fromPitch, pitchSpan, fromTime, timeSpan) {
  return note.pitch >= fromPitch && note.pitch < fromPitch + pitchSpan &&
    note.start_time >= fromTime && note.start_time < fromTime + timeSpan;
}

function checkNote(note) {
  const ok = Number.isInteger(note.pitch) && note.pitch >= 0 && note.pitch <= 127 &&
    typeof note.start_time === 'number' && note.duration > 0 &&
    note.velocity >= 1 && note.velocity <= 127;
  if (!ok) {
    throw new Error(`invalid note ${JSON.stringify(note)}`);
  }
}

module.exports = { LiveWorld };
