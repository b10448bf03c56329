'use strict';
// A fake of Max's LiveAPI over a small Live Object Model: the song, tracks, clip slots,
// session and Arrangement clips (also on Live 12 take lanes) with notes. It answers
// get/set/call the way LiveAPI does (values as arrays, object references as ['id', n]) and
// throws on anything it does not know, so a typo or a call outside the documented API in
// diffjam.js fails a test instead of silently doing nothing in Live.
//
// Every property and function it answers is listed in DOCUMENTED with the page of the Live
// Object Model reference that describes it (LOM = https://docs.cycling74.com/apiref/lom/);
// the behaviour it models is what that page says. What the pages leave open is modelled the
// strict way and named in the README's assumptions:
//  - undo: the LOM has no undo grouping for Max for Live (Song.begin_undo_step and
//    end_undo_step belong to Live's Python remote-script API), so every edit is one step of
//    its own here, and calling them throws;
//  - Live 11 has no Song.scale_mode/root_note/scale_name, no Track.create_midi_clip and no
//    take lanes (world options: { live: 11 }).

const LOM = 'https://docs.cycling74.com/apiref/lom/';
const LIVEAPI = 'https://docs.cycling74.com/apiref/js/liveapi/';

// 'Class.member' -> where it is documented. Live 12 only: marked with live: 12.
const DOCUMENTED = {
  'Song.tempo': { doc: `${LOM}song` },
  'Song.tracks': { doc: `${LOM}song` },
  'Song.scale_mode': { doc: `${LOM}song`, live: 12 },
  'Song.root_note': { doc: `${LOM}song`, live: 12 },
  'Song.scale_name': { doc: `${LOM}song`, live: 12 },
  'Song.create_scene': { doc: `${LOM}song` },
  'Song.create_midi_track': { doc: `${LOM}song` },
  'Song.View.detail_clip': { doc: `${LOM}songview` },
  'Track.name': { doc: `${LOM}track` },
  'Track.clip_slots': { doc: `${LOM}track` },
  'Track.arrangement_clips': { doc: `${LOM}track` },
  'Track.take_lanes': { doc: `${LOM}track`, live: 12 },
  'Track.canonical_parent': { doc: `${LOM}track` },
  'Track.create_midi_clip': { doc: `${LOM}track`, live: 12 },
  'TakeLane.arrangement_clips': { doc: `${LOM}takelane`, live: 12 },
  'TakeLane.canonical_parent': { doc: `${LOM}takelane`, live: 12 },
  'ClipSlot.has_clip': { doc: `${LOM}clipslot` },
  'ClipSlot.clip': { doc: `${LOM}clipslot` },
  'ClipSlot.canonical_parent': { doc: `${LOM}clipslot` },
  'ClipSlot.create_clip': { doc: `${LOM}clipslot` },
  'ClipSlot.duplicate_clip_to': { doc: `${LOM}clipslot` },
  'Clip.canonical_parent': { doc: `${LOM}clip` },
  'Clip.is_midi_clip': { doc: `${LOM}clip` },
  'Clip.is_arrangement_clip': { doc: `${LOM}clip` },
  'Clip.name': { doc: `${LOM}clip` },
  'Clip.color': { doc: `${LOM}clip` },
  'Clip.loop_start': { doc: `${LOM}clip` },
  'Clip.loop_end': { doc: `${LOM}clip` },
  'Clip.start_marker': { doc: `${LOM}clip` },
  'Clip.end_marker': { doc: `${LOM}clip` },
  'Clip.start_time': { doc: `${LOM}clip` },
  'Clip.end_time': { doc: `${LOM}clip` },
  'Clip.signature_numerator': { doc: `${LOM}clip` },
  'Clip.signature_denominator': { doc: `${LOM}clip` },
  'Clip.get_notes_extended': { doc: `${LOM}clip` },
  'Clip.remove_notes_extended': { doc: `${LOM}clip` },
  'Clip.add_new_notes': { doc: `${LOM}clip` },
  'Device.canonical_parent': { doc: `${LOM}device` },
  'LiveAPI(callback, path) / property': { doc: LIVEAPI },
};

class LiveWorld {
  constructor({ tempo = 120, live = 12, scale = null } = {}) {
    this.live = live;
    this.nextId = 1;
    this.objects = new Map();
    this.calls = [];
    this.undoStack = [];
    this.observers = [];
    this.song = this.add({ type: 'Song', tempo, tracks: [], scenes: 0, detailClip: 0,
      scale: scale || { mode: 0, root: 0, name: 'Major' } });
    this.device = this.add({ type: 'Device', parent: 0 });
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
    const track = this.add({ type: 'Track', name, clipSlots: [], arrangementClips: [],
      takeLanes: [] });
    this.get(this.song).tracks.push(track);
    this.fillSlots(track, Math.max(this.get(this.song).scenes, slots));
    this.get(this.song).scenes = this.get(track).clipSlots.length;
    return track;
  }

  fillSlots(track, count) {
    while (this.get(track).clipSlots.length < count) {
      this.get(track).clipSlots.push(this.add({ type: 'ClipSlot', track, clip: 0 }));
    }
  }

  addTakeLane(track) {
    const lane = this.add({ type: 'TakeLane', track, arrangementClips: [] });
    this.get(track).takeLanes.push(lane);
    return lane;
  }

  // A MIDI (or audio) clip in a session slot, or in the Arrangement when slotIndex is null
  // (at song time `startTime`, on the track or on take lane `lane`).
  addClip(track, slotIndex, {
    name = 'clip', notes = [], loopStart = 0, loopEnd = 16, startMarker = null,
    endMarker = null, numerator = 4, denominator = 4, midi = true, startTime = 0, lane = null,
  } = {}) {
    let parent;
    if (slotIndex !== null) parent = this.get(track).clipSlots[slotIndex];
    else parent = lane === null ? track : lane;
    const clip = this.add({
      type: 'Clip', name, midi, parent, color: 0, arrangement: slotIndex === null,
      start_time: startTime,
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
      this.get(parent).arrangementClips.push(clip);
    } else {
      this.get(parent).clip = clip;
    }
    return clip;
  }

  select(clip) {
    this.get(this.song).detailClip = clip;
    for (const observer of this.observers) {
      if (observer.property === 'detail_clip') observer.callback(['detail_clip', 'id', clip]);
    }
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
    const slot = this.get(track).clipSlots[index];
    return slot === undefined ? 0 : this.get(slot).clip;
  }

  edits() {
    return this.calls.filter((c) => c.edit);
  }

  // --- undo: one step per edit (no grouping in the Max for Live API) -------------------

  snapshot() {
    return {
      nextId: this.nextId,
      objects: new Map([...this.objects].map(([id, o]) => [id, structuredClone(o)])),
    };
  }

  beforeEdit() {
    this.undoStack.push(this.snapshot());
    this.calls[this.calls.length - 1].edit = true;
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

  // LiveAPI(path) or LiveAPI(callback, path); setting .property observes that property and
  // calls back with [property, value...] on every change (LiveAPI reference).
  LiveAPI() {
    const world = this;
    return function LiveAPI(callbackOrPath, maybePath) {
      const callback = typeof callbackOrPath === 'function' ? callbackOrPath : null;
      const path = callback ? maybePath : callbackOrPath;
      const id = world.resolve(path);
      this.id = String(id);
      this.type = id === 0 ? '' : world.typeOf(id);
      this.path = path;
      this.get = (prop) => world.getProperty(id, prop);
      this.set = (prop, value) => world.setProperty(id, prop, value);
      this.call = (fn, ...args) => world.callFunction(id, fn, args);
      let observed = '';
      Object.defineProperty(this, 'property', {
        get: () => observed,
        set: (name) => {
          if (!callback) throw new Error('property needs a LiveAPI made with a callback');
          const member = `${world.typeOf(id)}.${name}`;
          world.check(member);
          observed = name;
          world.observers.push({ property: name, callback });
        },
      });
    };
  }

  typeOf(id) {
    const object = this.get(id);
    return object.type === 'SongView' ? 'Song.View' : object.type;
  }

  // The doc a member is in, or an error for one that is not in the LOM (of this Live).
  check(member) {
    const entry = DOCUMENTED[member];
    if (!entry) {
      throw new Error(`${member} is not in the Live Object Model`);
    }
    if (entry.live && entry.live > this.live) {
      throw new Error(`${member} is not in the Live ${this.live} API`);
    }
    return entry.doc;
  }

  resolve(path) {
    const words = String(path).trim().split(/\s+/);
    if (words[0] === 'id') {
      const id = Number(words[1]);
      return this.objects.has(id) ? id : 0;
    }
    if (words[0] === 'this_device') {
      return this.device;
    }
    if (words[0] !== 'live_set') {
      throw new Error(`LiveAPI path must start with live_set, this_device or id: ${path}`);
    }
    let id = this.song;
    for (let i = 1; i < words.length && id !== 0; i++) {
      const object = this.get(id);
      const word = words[i];
      if (object.type === 'Song' && word === 'view') {
        if (!this.songView) this.songView = this.add({ type: 'SongView' });
        id = this.songView;
      } else if (object.type === 'SongView' && word === 'detail_clip') {
        this.check('Song.View.detail_clip');
        id = this.get(this.song).detailClip;
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
    const member = `${this.typeOf(id)}.${prop}`;
    this.check(member);
    this.calls.push({ id, op: 'get', name: prop, member });
    const ref = (target) => ['id', target];
    const ids = (list) => list.flatMap((target) => ['id', target]);
    switch (member) {
      case 'Song.tempo': return [o.tempo];
      case 'Song.tracks': return ids(o.tracks);
      case 'Song.scale_mode': return [o.scale.mode];
      case 'Song.root_note': return [o.scale.root];
      case 'Song.scale_name': return [o.scale.name];
      case 'Track.clip_slots': return ids(o.clipSlots);
      case 'Track.arrangement_clips': return ids(o.arrangementClips);
      case 'Track.take_lanes': return ids(o.takeLanes);
      case 'Track.name': return [o.name];
      case 'Track.canonical_parent': return ref(this.song);
      case 'TakeLane.arrangement_clips': return ids(o.arrangementClips);
      case 'TakeLane.canonical_parent': return ref(o.track);
      case 'Device.canonical_parent': return ref(o.parent);
      case 'ClipSlot.has_clip': return [o.clip ? 1 : 0];
      case 'ClipSlot.clip': return ref(o.clip);
      case 'ClipSlot.canonical_parent': return ref(o.track);
      case 'Clip.canonical_parent': return ref(o.parent);
      case 'Clip.is_midi_clip': return [o.midi ? 1 : 0];
      case 'Clip.is_arrangement_clip': return [o.arrangement ? 1 : 0];
      case 'Clip.name': return [o.name];
      case 'Clip.color': return [o.color];
      case 'Clip.start_time': return [o.arrangement ? o.start_time : o.loop_start];
      case 'Clip.end_time':
        return [o.arrangement ? o.start_time + o.end_marker - o.start_marker : o.loop_end];
      case 'Clip.loop_start':
      case 'Clip.loop_end':
      case 'Clip.start_marker':
      case 'Clip.end_marker':
      case 'Clip.signature_numerator':
      case 'Clip.signature_denominator':
        return [o[prop]];
      default: throw new Error(`the fake has no value for ${member}`);
    }
  }

  setProperty(id, prop, value) {
    const o = this.get(id);
    const member = `${this.typeOf(id)}.${prop}`;
    this.check(member);
    this.calls.push({ id, op: 'set', name: prop, member, args: [value] });
    const settable = ['Clip.name', 'Clip.color', 'Clip.loop_start', 'Clip.loop_end',
      'Clip.start_marker', 'Clip.end_marker', 'Track.name'];
    if (!settable.includes(member)) {
      throw new Error(`${member} is read-only`);
    }
    this.beforeEdit();
    o[prop] = prop === 'name' ? String(value) : Number(value);
  }

  callFunction(id, fn, args) {
    const o = this.get(id);
    const member = `${this.typeOf(id)}.${fn}`;
    if (member === 'Song.begin_undo_step' || member === 'Song.end_undo_step') {
      throw new Error(`${member} is in Live's Python remote-script API, not in the Max for ` +
        'Live Live Object Model');
    }
    this.check(member);
    this.calls.push({ id, op: 'call', name: fn, member, args });
    switch (member) {
      case 'Song.create_scene': {
        this.beforeEdit();
        o.scenes += 1;
        for (const track of o.tracks) this.fillSlots(track, o.scenes);
        return undefined;
      }
      case 'Song.create_midi_track': {
        const [index] = numbers(fn, args, 1);
        if (index < -1 || index > o.tracks.length) throw new Error('index out of range');
        this.beforeEdit();
        const track = this.add({ type: 'Track', name: `${o.tracks.length + 1}-MIDI`,
          clipSlots: [], arrangementClips: [], takeLanes: [] });
        o.tracks.splice(index === -1 ? o.tracks.length : index, 0, track);
        this.fillSlots(track, o.scenes);
        return undefined;
      }
      case 'Track.create_midi_clip': {
        const [start, length] = numbers(fn, args, 2);
        this.beforeEdit();
        const clip = this.add({
          type: 'Clip', name: '', midi: true, parent: id, color: 0, arrangement: true,
          start_time: start, loop_start: 0, loop_end: length, start_marker: 0,
          end_marker: length, signature_numerator: 4, signature_denominator: 4, notes: [],
          nextNoteId: 1,
        });
        o.arrangementClips.push(clip);
        return undefined;
      }
      case 'Clip.get_notes_extended': {
        const [fromPitch, pitchSpan, fromTime, timeSpan] = numbers(fn, args, 4);
        const notes = o.notes.filter((n) => inArea(n, fromPitch, pitchSpan, fromTime, timeSpan));
        return JSON.stringify({ notes });
      }
      case 'Clip.remove_notes_extended': {
        const [fromPitch, pitchSpan, fromTime, timeSpan] = numbers(fn, args, 4);
        this.beforeEdit();
        o.notes = o.notes.filter((n) => !inArea(n, fromPitch, pitchSpan, fromTime, timeSpan));
        return undefined;
      }
      case 'Clip.add_new_notes': {
        if (args.length !== 1 || !Array.isArray(args[0].notes)) {
          throw new Error('add_new_notes takes one dictionary with a notes array');
        }
        if (!o.midi) throw new Error('add_new_notes on an audio clip');
        this.beforeEdit();
        for (const note of args[0].notes) {
          checkNote(note);
          this.insertNote(o, note);
        }
        return undefined;
      }
      case 'ClipSlot.duplicate_clip_to': {
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
      case 'ClipSlot.create_clip': {
        const [length] = numbers(fn, args, 1);
        if (o.clip) throw new Error('create_clip on a slot that has a clip');
        this.beforeEdit();
        o.clip = this.add({
          type: 'Clip', name: '', midi: true, parent: o.id, color: 0, arrangement: false,
          start_time: 0, loop_start: 0, loop_end: length, start_marker: 0, end_marker: length,
          signature_numerator: 4, signature_denominator: 4, notes: [], nextNoteId: 1,
        });
        return undefined;
      }
      default: throw new Error(`the fake has no behaviour for ${member}`);
    }
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

module.exports = { LiveWorld, DOCUMENTED };
