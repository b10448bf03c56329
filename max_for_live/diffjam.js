// diffjam.js: the Max for Live device's script.
//
// One file, two hosts:
//  - Max's classic [js] object (ES5, the only JavaScript object in Max with LiveAPI). The
//    functions at the bottom (init, generate, anything, ...) are its message handlers.
//  - node, for the tests: `require('./diffjam.js')` returns the pure logic and the Device,
//    which takes everything that touches Max or Live (LiveAPI, outlets, timers) as arguments.
//
// Units: notes travel in beats (quarter notes) from the clip's time 0, bars are 1-based and
// inclusive at the user's edge (docs/osc-protocol.md). Only 4/4 is supported by the engine.
//
// Keep this file ES5: var, function, no arrow functions, let/const, classes or template
// strings. The node tests parse it with ecmaVersion 5.

var PROTOCOL_VERSION = 1;
var STEPS_PER_BEAT = 4;
var NOTES_PER_CHUNK = 128;
var MAX_VARIATIONS = 8;
var EPSILON = 1e-6;
// How long the engine may stay silent: before it accepts a request, and between two replies.
var ACCEPT_TIMEOUT_MS = 5000;
var REPLY_TIMEOUT_MS = 120000;

var MODES = ['infill', 'accompany'];

// Names of the engine's error codes (docs/osc-protocol.md, "Error codes").
var ERROR_HINTS = {
    BUSY: 'the engine queue is full, try again in a moment',
    TIMEOUT: 'generation took too long; try fewer steps or bars',
    UNSUPPORTED_METER: 'only 4/4 clips are supported',
    CHUNK: 'notes got lost on the way to the engine; try again',
    BAD_BARS: 'check the bar range against the clip length'
};

// ---------------------------------------------------------------------------------------
// Units: beats, steps and bars.

function beatsToSteps(beats) {
    return Math.round(beats * STEPS_PER_BEAT);
}

function stepsToBeats(steps) {
    return steps / STEPS_PER_BEAT;
}

// Beats in one bar of numerator/denominator (quarter-note beats): 4/4 -> 4, 6/8 -> 3.
function beatsPerBar(numerator, denominator) {
    return numerator * 4 / denominator;
}

// Beat where 1-based `bar` starts.
function barStartBeat(bar, barBeats) {
    return (bar - 1) * barBeats;
}

// The bars [first, last] (1-based, inclusive) that cover the beats [start, end).
function barsCovering(start, end, barBeats) {
    var first = Math.floor((start + EPSILON) / barBeats) + 1;
    var last = Math.ceil((end - EPSILON) / barBeats);
    if (last < first) {
        last = first;
    }
    return [first, last];
}

// The whole span a clip can play, in beats: the loop and the markers together. Reading only
// [0, length) misses notes when the loop or the start marker does not sit at 0.
function clipSpan(clip) {
    var start = Math.min(clip.loop_start, clip.start_marker);
    var end = Math.max(clip.loop_end, clip.end_marker);
    return { start: start, end: end };
}

// ---------------------------------------------------------------------------------------
// Settings from the device's UI.

function defaultSettings() {
    return {
        mode: 'infill',
        bar_from: 0, // 0: the clip loop
        bar_to: 0,
        guidance: 4.0,
        in_key: true,
        steps: 10,
        variations: 1,
        keep_original: true,
        chords: '',
        model: '', // '': the engine's default model
        engine_host: '127.0.0.1',
        engine_port: 9000,
        reply_port: 9001
    };
}

function toInt(value, name, low, high) {
    var number = Number(value);
    if (isNaN(number) || Math.floor(number) !== number || number < low || number > high) {
        throw new Error(name + ' must be a whole number from ' + low + ' to ' + high +
            ', got ' + value);
    }
    return number;
}

// Returns a copy of `settings` with `name` set to `value`, validated. Throws Error with a
// message for the status line when the value is out of range.
function applySetting(settings, name, value) {
    var next = {};
    var key;
    for (key in settings) {
        if (settings.hasOwnProperty(key)) {
            next[key] = settings[key];
        }
    }
    if (name === 'mode') {
        if (typeof value === 'number') {
            value = MODES[value];
        }
        if (MODES.indexOf(value) < 0) {
            throw new Error('mode must be infill or accompany, got ' + value);
        }
        next.mode = value;
    } else if (name === 'bar_from' || name === 'bar_to') {
        next[name] = toInt(value, name === 'bar_from' ? 'From bar' : 'To bar', 0, 256);
    } else if (name === 'guidance') {
        var guidance = Number(value);
        if (isNaN(guidance) || guidance < 0 || guidance > 20) {
            throw new Error('guidance must be from 0 to 20, got ' + value);
        }
        next.guidance = guidance;
    } else if (name === 'in_key' || name === 'keep_original') {
        next[name] = Number(value) !== 0 && value !== false;
    } else if (name === 'steps') {
        next.steps = toInt(value, 'steps', 1, 1000);
    } else if (name === 'variations') {
        next.variations = toInt(value, 'variations', 1, MAX_VARIATIONS);
    } else if (name === 'chords') {
        next.chords = String(value).replace(/\s+/g, ' ').replace(/^ | $/g, '');
    } else if (name === 'model') {
        next.model = String(value).replace(/^\s+|\s+$/g, '');
    } else if (name === 'engine_port' || name === 'reply_port') {
        next[name] = toInt(value, name === 'engine_port' ? 'engine port' : 'reply port',
            1024, 65535);
    } else if (name === 'engine_host') {
        next.engine_host = String(value);
    } else {
        throw new Error('unknown setting ' + name);
    }
    return next;
}

// ---------------------------------------------------------------------------------------
// The clip as read from Live, and the bar range to regenerate.

// Throws when the clip cannot be used; returns {first, last} (1-based, inclusive).
function resolveBarRange(settings, clip) {
    var barBeats = beatsPerBar(clip.signature_numerator, clip.signature_denominator);
    var span = clipSpan(clip);
    var clipBars = Math.ceil((span.end - EPSILON) / barBeats);
    var loop = barsCovering(clip.loop_start, clip.loop_end, barBeats);
    var first = settings.bar_from > 0 ? settings.bar_from : loop[0];
    var last = settings.bar_to > 0 ? settings.bar_to : loop[1];
    if (settings.bar_from > 0 && settings.bar_to === 0 && first > last) {
        last = first;
    }
    if (first < 1) {
        throw new Error('The clip loop starts before bar 1; set From bar and To bar.');
    }
    if (last < first) {
        throw new Error('The bar range ' + first + '-' + last + ' is empty.');
    }
    if (last > clipBars) {
        throw new Error('Bar ' + last + ' is past the end of the clip (' + clipBars +
            (clipBars === 1 ? ' bar).' : ' bars).'));
    }
    return { first: first, last: last };
}

// Notes as Live gives them (get_notes_extended) -> protocol notes
// {start, duration, pitch, velocity}, in beats, sorted by start then pitch. Muted notes and
// notes before beat 0 are left out (the engine cannot place them).
function notesFromLive(liveNotes) {
    var out = [];
    var i;
    for (i = 0; i < liveNotes.length; i++) {
        var n = liveNotes[i];
        if (n.mute || n.start_time < 0) {
            continue;
        }
        out.push({
            start: n.start_time,
            duration: n.duration,
            pitch: Math.round(n.pitch),
            velocity: Math.max(1, Math.min(127, Math.round(n.velocity)))
        });
    }
    out.sort(compareNotes);
    return out;
}

function compareNotes(a, b) {
    if (a.start !== b.start) {
        return a.start - b.start;
    }
    return a.pitch - b.pitch;
}

// Protocol notes -> the note dictionaries add_new_notes takes.
function notesToLive(notes) {
    var out = [];
    var i;
    for (i = 0; i < notes.length; i++) {
        out.push({
            pitch: notes[i].pitch,
            start_time: notes[i].start,
            duration: notes[i].duration,
            velocity: notes[i].velocity,
            mute: 0
        });
    }
    return out;
}

// Live note dictionaries without their note_id, for add_new_notes into another clip.
function copyLiveNotes(liveNotes) {
    var keys = ['pitch', 'start_time', 'duration', 'velocity', 'mute', 'probability',
        'velocity_deviation', 'release_velocity'];
    var out = [];
    var i;
    var k;
    for (i = 0; i < liveNotes.length; i++) {
        var note = {};
        for (k = 0; k < keys.length; k++) {
            if (liveNotes[i].hasOwnProperty(keys[k])) {
                note[keys[k]] = liveNotes[i][keys[k]];
            }
        }
        out.push(note);
    }
    return out;
}

function shiftNotes(notes, beats) {
    var out = [];
    var i;
    for (i = 0; i < notes.length; i++) {
        out.push({
            start: notes[i].start + beats,
            duration: notes[i].duration,
            pitch: notes[i].pitch,
            velocity: notes[i].velocity
        });
    }
    return out;
}

function notesStartingIn(notes, start, end) {
    var out = [];
    var i;
    for (i = 0; i < notes.length; i++) {
        if (notes[i].start >= start - EPSILON && notes[i].start < end - EPSILON) {
            out.push(notes[i]);
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Requests: OSC messages as {address, types, args}.

function splitChunks(notes, size) {
    var chunks = [];
    var i;
    for (i = 0; i < notes.length; i += size) {
        chunks.push(notes.slice(i, i + size));
    }
    return chunks;
}

function helloMessage(replyPort) {
    return { address: '/diffjam/hello', types: 'i', args: [replyPort] };
}

function notesMessage(requestId, index, count, notes) {
    var types = 'sii';
    var args = [requestId, index, count];
    var i;
    for (i = 0; i < notes.length; i++) {
        types += 'ffii';
        args.push(notes[i].start, notes[i].duration, notes[i].pitch, notes[i].velocity);
    }
    return { address: '/diffjam/notes', types: types, args: args };
}

// A request for the clip: the OSC messages to send, in order (notes chunks, then params),
// and what the reply will be written back to.
//   clip: {notes, loop_start, loop_end, start_marker, end_marker, signature_numerator,
//          signature_denominator, tempo}
function buildRequest(requestId, settings, clip) {
    if (clip.signature_numerator !== 4 || clip.signature_denominator !== 4) {
        throw new Error('Only 4/4 clips are supported; this clip is in ' +
            clip.signature_numerator + '/' + clip.signature_denominator + '.');
    }
    var bars = resolveBarRange(settings, clip);
    var barBeats = beatsPerBar(clip.signature_numerator, clip.signature_denominator);
    var rangeStart = barStartBeat(bars.first, barBeats);
    var rangeEnd = barStartBeat(bars.last + 1, barBeats);
    var span = clipSpan(clip);
    var params = {
        tempo: clip.tempo,
        time_signature: [clip.signature_numerator, clip.signature_denominator],
        guidance: settings.guidance,
        in_key: settings.in_key,
        steps: settings.steps,
        variations: settings.variations
    };
    if (settings.model) {
        params.model = settings.model;
    }
    var notes;
    // The engine's task; infill on an empty clip has nothing to fit around, so it becomes
    // generate over the range (written back the same way).
    var task = settings.mode;
    if (task === 'infill' && clip.notes.length === 0) {
        task = 'generate';
    }
    if (task === 'infill') {
        notes = clip.notes;
        params.clip_beats = Math.max(span.end, rangeEnd);
        params.bars = [bars.first, bars.last];
    } else {
        // accompany: the melody is what the clip holds in the range, from the range start.
        notes = shiftNotes(notesStartingIn(clip.notes, rangeStart, rangeEnd), -rangeStart);
        params.n_bars = bars.last - bars.first + 1;
        if (task === 'accompany' && notes.length === 0 && !settings.chords) {
            throw new Error('Accompany needs a melody in bars ' + bars.first + '-' +
                bars.last + ' or chords to follow.');
        }
    }
    if (settings.chords) {
        params.chords = settings.chords;
    }
    var chunks = splitChunks(notes, NOTES_PER_CHUNK);
    params.notes_chunks = chunks.length;
    var messages = [];
    var i;
    for (i = 0; i < chunks.length; i++) {
        messages.push(notesMessage(requestId, i, chunks.length, chunks[i]));
    }
    messages.push({
        address: '/diffjam/' + task,
        types: 'ss',
        args: [requestId, JSON.stringify(params)]
    });
    return {
        requestId: requestId,
        mode: settings.mode,
        task: task,
        bars: [bars.first, bars.last],
        rangeStart: rangeStart,
        rangeEnd: rangeEnd,
        // beats to add to the reply's notes to place them in the clip
        offset: task === 'infill' ? 0 : rangeStart,
        variations: settings.variations,
        messages: messages
    };
}

// ---------------------------------------------------------------------------------------
// Replies: result chunks reassembled, the request's state machine.

// Collects /diffjam/result chunks per variation. Chunks may come in any order; a repeated
// chunk is ignored (UDP may duplicate); a missing one is reported by missing().
function ResultAssembler() {
    this.variations = {};
}

// Returns 'added', 'duplicate' or throws Error for a chunk that cannot belong to the result.
ResultAssembler.prototype.add = function (variation, index, count, notes) {
    if (variation < 0 || variation >= MAX_VARIATIONS || count < 1 || index < 0 ||
            index >= count) {
        throw new Error('bad result chunk: variation ' + variation + ', chunk ' + index +
            ' of ' + count);
    }
    var entry = this.variations[variation];
    if (!entry) {
        entry = { count: count, chunks: {} };
        this.variations[variation] = entry;
    } else if (entry.count !== count) {
        throw new Error('result chunk count changed from ' + entry.count + ' to ' + count +
            ' for variation ' + variation);
    }
    if (entry.chunks.hasOwnProperty(index)) {
        return 'duplicate';
    }
    entry.chunks[index] = notes;
    return 'added';
};

// [{variation, chunk}] of every chunk not received, for variations 0..expected-1.
ResultAssembler.prototype.missing = function (expected) {
    var out = [];
    var v;
    var i;
    for (v = 0; v < expected; v++) {
        var entry = this.variations[v];
        if (!entry) {
            out.push({ variation: v, chunk: 0 });
            continue;
        }
        for (i = 0; i < entry.count; i++) {
            if (!entry.chunks.hasOwnProperty(i)) {
                out.push({ variation: v, chunk: i });
            }
        }
    }
    return out;
};

// The notes of one complete variation, in chunk order.
ResultAssembler.prototype.notes = function (variation) {
    var entry = this.variations[variation];
    var out = [];
    var i;
    for (i = 0; i < entry.count; i++) {
        out = out.concat(entry.chunks[i]);
    }
    return out;
};

// Reads k notes (ffii each) from args starting at `offset`.
function parseNotes(args, offset) {
    if ((args.length - offset) % 4 !== 0) {
        throw new Error('note list of ' + (args.length - offset) + ' values is not a ' +
            'multiple of 4');
    }
    var notes = [];
    var i;
    for (i = offset; i < args.length; i += 4) {
        notes.push({
            start: Number(args[i]),
            duration: Number(args[i + 1]),
            pitch: Number(args[i + 2]),
            velocity: Number(args[i + 3])
        });
    }
    return notes;
}

function describeEngineError(code, name, message) {
    var text = 'Engine error ' + name + ' (' + code + '): ' + message;
    if (ERROR_HINTS[name]) {
        text += ' (' + ERROR_HINTS[name] + ')';
    }
    return text;
}

// The life of one request, driven by the engine's replies:
//   sent -> accepted -> (progress)* -> (result chunks)* -> done | failed
// handle() takes one reply and returns an event:
//   {kind: 'ignored'}                         not for this request, or after the end
//   {kind: 'accepted', position}
//   {kind: 'progress', fraction}
//   {kind: 'chunk', duplicate}
//   {kind: 'done', variations: [[notes]], info}
//   {kind: 'failed', message}
function RequestTracker(requestId, expectedVariations) {
    this.requestId = requestId;
    this.expectedVariations = expectedVariations;
    this.state = 'sent';
    this.results = new ResultAssembler();
}

RequestTracker.prototype.finished = function () {
    return this.state === 'done' || this.state === 'failed';
};

RequestTracker.prototype.fail = function (message) {
    this.state = 'failed';
    return { kind: 'failed', message: message };
};

RequestTracker.prototype.handle = function (address, args) {
    if (this.finished() || args.length === 0) {
        return { kind: 'ignored' };
    }
    var id = String(args[0]);
    if (address === '/diffjam/error') {
        // An error with an empty id answers a message that had none, e.g. a malformed one.
        if (id !== this.requestId && id !== '') {
            return { kind: 'ignored' };
        }
        return this.fail(describeEngineError(args[1], args[2], args[3]));
    }
    if (id !== this.requestId) {
        return { kind: 'ignored' };
    }
    if (address === '/diffjam/accepted') {
        this.state = 'accepted';
        return { kind: 'accepted', position: Number(args[1]) };
    }
    if (address === '/diffjam/progress') {
        this.state = 'running';
        return { kind: 'progress', fraction: Math.max(0, Math.min(1, Number(args[1]))) };
    }
    if (address === '/diffjam/result') {
        var outcome;
        try {
            outcome = this.results.add(Number(args[1]), Number(args[2]), Number(args[3]),
                parseNotes(args, 4));
        } catch (err) {
            return this.fail('Bad reply from the engine: ' + err.message);
        }
        this.state = 'running';
        return { kind: 'chunk', duplicate: outcome === 'duplicate' };
    }
    if (address === '/diffjam/done') {
        return this.complete(args[1]);
    }
    return { kind: 'ignored' };
};

RequestTracker.prototype.complete = function (infoJson) {
    var info;
    try {
        info = JSON.parse(String(infoJson));
    } catch (err) {
        return this.fail('Bad reply from the engine: done info is not JSON (' +
            err.message + ')');
    }
    var expected = typeof info.variations === 'number' ? info.variations :
        this.expectedVariations;
    var missing = this.results.missing(expected);
    if (missing.length > 0) {
        var names = [];
        var i;
        for (i = 0; i < missing.length && i < 4; i++) {
            names.push('variation ' + (missing[i].variation + 1) + ' chunk ' +
                (missing[i].chunk + 1));
        }
        return this.fail('The result arrived incomplete (' + missing.length +
            ' chunk(s) lost: ' + names.join(', ') + '); press Generate again.');
    }
    var variations = [];
    var v;
    for (v = 0; v < expected; v++) {
        var notes = this.results.notes(v);
        if (info.notes && typeof info.notes[v] === 'number' && info.notes[v] !== notes.length) {
            return this.fail('The result for variation ' + (v + 1) + ' has ' + notes.length +
                ' notes, the engine sent ' + info.notes[v] + '; press Generate again.');
        }
        variations.push(notes);
    }
    this.state = 'done';
    return { kind: 'done', variations: variations, info: info };
};

// What to do to a clip to write one variation into it:
//   {remove: {from, span} | null, add: [protocol notes]}
// infill: the result holds the whole clip; the range is cleared and refilled from it, notes
//   outside the range stay as they are.
// accompany: the result (shifted into place) is added to what the range holds; a result
//   note equal to one already there (same pitch, start and duration) is not added twice.
function planWrite(request, existing, resultNotes) {
    var placed = notesStartingIn(shiftNotes(resultNotes, request.offset), request.rangeStart,
        request.rangeEnd);
    if (request.mode === 'infill') {
        return {
            remove: { from: request.rangeStart, span: request.rangeEnd - request.rangeStart },
            add: placed
        };
    }
    var add = [];
    var i;
    var j;
    for (i = 0; i < placed.length; i++) {
        var duplicate = false;
        for (j = 0; j < existing.length; j++) {
            if (existing[j].pitch === placed[i].pitch &&
                    Math.abs(existing[j].start - placed[i].start) < EPSILON &&
                    Math.abs(existing[j].duration - placed[i].duration) < EPSILON) {
                duplicate = true;
                break;
            }
        }
        if (!duplicate) {
            add.push(placed[i]);
        }
    }
    return { remove: null, add: add };
}

// ---------------------------------------------------------------------------------------
// Live: reading the selected clip and writing results through the LiveAPI.

function liveId(api) {
    return Number(api.id);
}

function first(value) {
    return value && value.length !== undefined ? value[0] : value;
}

// ['id', 3] -> 3; [] or ['id', 0] -> 0
function idFrom(value) {
    if (!value || value.length < 2) {
        return 0;
    }
    return Number(value[1]);
}

// id list ['id', 1, 'id', 2] -> [1, 2]
function idsFrom(value) {
    var out = [];
    var i;
    for (i = 0; value && i + 1 < value.length; i += 2) {
        if (value[i] === 'id') {
            out.push(Number(value[i + 1]));
        }
    }
    return out;
}

function parseNoteDict(value) {
    var data = value;
    if (data && typeof data === 'object' && data.length !== undefined && !data.notes) {
        data = data.join(' ');
    }
    if (typeof data === 'string') {
        data = JSON.parse(data);
    }
    if (!data || !data.notes) {
        throw new Error('get_notes_extended gave no notes dictionary');
    }
    return data.notes;
}

function Live(LiveAPIClass) {
    this.LiveAPI = LiveAPIClass;
}

Live.prototype.api = function (path) {
    return new this.LiveAPI(path);
};

// The selected clip as {api, name, notes, loop/marker times, meter, tempo}; throws with a
// message for the status line when there is none or it is not a MIDI clip.
Live.prototype.readSelectedClip = function () {
    var clip = this.api('live_set view detail_clip');
    if (!clip || liveId(clip) === 0) {
        throw new Error('No clip selected: click a MIDI clip, then press Generate.');
    }
    if (Number(first(clip.get('is_midi_clip'))) !== 1) {
        throw new Error('The selected clip is an audio clip; diffjam needs a MIDI clip.');
    }
    var info = {
        api: clip,
        id: liveId(clip),
        name: String(first(clip.get('name')) || ''),
        loop_start: Number(first(clip.get('loop_start'))),
        loop_end: Number(first(clip.get('loop_end'))),
        start_marker: Number(first(clip.get('start_marker'))),
        end_marker: Number(first(clip.get('end_marker'))),
        signature_numerator: Number(first(clip.get('signature_numerator'))),
        signature_denominator: Number(first(clip.get('signature_denominator'))),
        tempo: Number(first(this.api('live_set').get('tempo')))
    };
    var span = clipSpan(info);
    info.liveNotes = parseNoteDict(clip.call('get_notes_extended', 0, 128, span.start,
        span.end - span.start));
    info.notes = notesFromLive(info.liveNotes);
    return info;
};

// The clip slot holding the clip, or null for an arrangement clip.
Live.prototype.slotOf = function (clip) {
    var parent = this.api('id ' + idFrom(clip.api.get('canonical_parent')));
    if (parent.type === 'ClipSlot') {
        return parent;
    }
    return null;
};

Live.prototype.trackOf = function (clip) {
    var parent = this.api('id ' + idFrom(clip.api.get('canonical_parent')));
    if (parent.type === 'ClipSlot') {
        return this.api('id ' + idFrom(parent.get('canonical_parent')));
    }
    return parent;
};

// The first empty clip slot of the track below `afterIndex`; adds a scene when all are full.
Live.prototype.emptySlot = function (track, afterIndex) {
    var slotIds = idsFrom(track.get('clip_slots'));
    var i;
    for (i = afterIndex + 1; i < slotIds.length; i++) {
        var slot = this.api('id ' + slotIds[i]);
        if (Number(first(slot.get('has_clip'))) === 0) {
            return { api: slot, index: i };
        }
    }
    this.api('live_set').call('create_scene', -1);
    slotIds = idsFrom(track.get('clip_slots'));
    return { api: this.api('id ' + slotIds[slotIds.length - 1]), index: slotIds.length - 1 };
};

Live.prototype.slotIndex = function (track, slot) {
    if (!slot) {
        return -1;
    }
    return idsFrom(track.get('clip_slots')).indexOf(liveId(slot));
};

// A copy of the clip in the next empty slot of its track, as a clip API. A session clip is
// duplicated (duplicate_clip_to keeps everything); an arrangement clip gets a new session
// clip with the same loop and markers and its notes.
Live.prototype.copyClip = function (clip, afterIndex, name) {
    var track = this.trackOf(clip);
    var source = this.slotOf(clip);
    var target = this.emptySlot(track, afterIndex);
    var copy;
    if (source) {
        source.call('duplicate_clip_to', 'id', liveId(target.api));
        copy = this.api('id ' + idFrom(target.api.get('clip')));
    } else {
        var span = clipSpan(clip);
        target.api.call('create_clip', span.end);
        copy = this.api('id ' + idFrom(target.api.get('clip')));
        copy.set('loop_end', clip.loop_end);
        copy.set('loop_start', clip.loop_start);
        copy.set('end_marker', clip.end_marker);
        copy.set('start_marker', clip.start_marker);
        copy.call('add_new_notes', { notes: copyLiveNotes(clip.liveNotes) });
    }
    copy.set('name', name);
    return { api: copy, index: target.index };
};

Live.prototype.writePlan = function (clipApi, plan) {
    if (plan.remove) {
        clipApi.call('remove_notes_extended', 0, 128, plan.remove.from, plan.remove.span);
    }
    if (plan.add.length > 0) {
        clipApi.call('add_new_notes', { notes: notesToLive(plan.add) });
    }
};

// ---------------------------------------------------------------------------------------
// The device: settings, Generate, replies, timeouts.
//
// env: {
//   LiveAPI:   the LiveAPI constructor (Max's, or a fake)
//   send:      function (message)  one OSC message {address, types, args} to the engine
//   configure: function (what, value)  'engine_host' | 'engine_port' | 'reply_port'
//   status:    function (text)  the status line
//   schedule:  function (fn, ms) -> {cancel: function ()}
//   newId:     function () -> request id string
// }
function Device(env) {
    this.env = env;
    this.live = new Live(env.LiveAPI);
    this.settings = defaultSettings();
    this.tracker = null;
    this.request = null;
    this.clip = null;
    this.timer = null;
    this.engineInfo = null;
}

Device.prototype.set = function (name, value) {
    try {
        this.settings = applySetting(this.settings, name, value);
    } catch (err) {
        this.env.status(err.message);
        return false;
    }
    if (name === 'engine_host' || name === 'engine_port' || name === 'reply_port') {
        this.env.configure(name, this.settings[name]);
        this.hello();
    }
    return true;
};

Device.prototype.hello = function () {
    this.env.send(helloMessage(this.settings.reply_port));
};

Device.prototype.busy = function () {
    return this.tracker !== null && !this.tracker.finished();
};

Device.prototype.armTimer = function (ms, message) {
    var self = this;
    this.cancelTimer();
    this.timer = this.env.schedule(function () {
        self.timer = null;
        if (self.busy()) {
            self.finish(self.tracker.fail(message));
        }
    }, ms);
};

Device.prototype.cancelTimer = function () {
    if (this.timer) {
        this.timer.cancel();
        this.timer = null;
    }
};

// Reads the selected clip and sends the request. Returns true when a request went out.
Device.prototype.generate = function () {
    if (this.busy()) {
        this.env.status('Still waiting for the last request.');
        return false;
    }
    var clip;
    var request;
    try {
        clip = this.live.readSelectedClip();
        request = buildRequest(this.env.newId(), this.settings, clip);
    } catch (err) {
        this.env.status(err.message);
        return false;
    }
    this.clip = clip;
    this.request = request;
    this.tracker = new RequestTracker(request.requestId, request.variations);
    this.hello();
    var i;
    for (i = 0; i < request.messages.length; i++) {
        this.env.send(request.messages[i]);
    }
    this.env.status('Sent ' + request.task + ' for bars ' + request.bars[0] + '-' +
        request.bars[1] + ' (' + clip.notes.length + ' notes), waiting for the engine...');
    this.armTimer(ACCEPT_TIMEOUT_MS, 'The engine did not answer on ' +
        this.settings.engine_host + ':' + this.settings.engine_port +
        '. Is `diffjam serve` running?');
    return true;
};

// One OSC message from the engine.
Device.prototype.receive = function (address, args) {
    if (address === '/diffjam/status') {
        this.onStatus(args[0]);
        return;
    }
    if (!this.busy()) {
        return;
    }
    var event = this.tracker.handle(address, args);
    if (event.kind === 'ignored') {
        return;
    }
    if (event.kind === 'accepted') {
        this.env.status(event.position > 0 ? 'Queued (' + event.position + ' ahead)...' :
            'Generating...');
    } else if (event.kind === 'progress') {
        this.env.status('Generating... ' + Math.round(event.fraction * 100) + '%');
    }
    if (event.kind === 'done' || event.kind === 'failed') {
        this.finish(event);
    } else {
        this.armTimer(REPLY_TIMEOUT_MS, 'The engine stopped answering in the middle of the ' +
            'request; check the terminal running `diffjam serve`.');
    }
};

Device.prototype.onStatus = function (json) {
    var info;
    try {
        info = JSON.parse(String(json));
    } catch (err) {
        this.env.status('Bad status from the engine: ' + err.message);
        return;
    }
    this.engineInfo = info;
    if (info.protocol !== PROTOCOL_VERSION) {
        this.env.status('The engine speaks protocol ' + info.protocol + ', this device ' +
            PROTOCOL_VERSION + '; update one of them.');
    } else if (!this.busy()) {
        this.env.status('Engine ready: ' + info.model + ' on ' + info.device + '.');
    }
};

Device.prototype.finish = function (event) {
    this.cancelTimer();
    if (event.kind === 'failed') {
        this.env.status(event.message);
        return;
    }
    try {
        this.env.status(this.write(event.variations));
    } catch (err) {
        this.env.status('Could not write the notes into Live: ' + err.message);
    }
};

// Writes the variations into Live as one undo step; returns the status line.
Device.prototype.write = function (variations) {
    var clip = this.clip;
    var request = this.request;
    var song = this.live.api('live_set');
    var written = [];
    var total = 0;
    var afterIndex = this.live.slotIndex(this.live.trackOf(clip), this.live.slotOf(clip));
    // Copies first: a copy must start from the user's clip, not from one already rewritten.
    var order = [];
    var k;
    for (k = 0; k < variations.length; k++) {
        order.push(k);
    }
    if (!this.settings.keep_original) {
        order.push(order.shift());
    }
    song.call('begin_undo_step');
    try {
        var i;
        for (i = 0; i < order.length; i++) {
            var v = order[i];
            var target;
            var name;
            if (v === 0 && !this.settings.keep_original) {
                target = { api: clip.api, index: afterIndex };
                name = clip.name;
            } else {
                name = (clip.name ? clip.name + ' ' : '') + 'diffjam ' + (v + 1);
                target = this.live.copyClip(clip, afterIndex, name);
                afterIndex = target.index;
            }
            var plan = planWrite(request, clip.notes, variations[v]);
            this.live.writePlan(target.api, plan);
            total += plan.add.length;
            written.push(name);
        }
    } finally {
        song.call('end_undo_step');
    }
    return 'Done: ' + total + ' notes in bars ' + request.bars[0] + '-' + request.bars[1] +
        ' -> ' + written.join(', ') + '. Undo with Cmd/Ctrl-Z.';
};

// ---------------------------------------------------------------------------------------
// Max: the [js] object's message handlers. Outlets: 0 OSC to the engine (through the
// patcher's typed-float path, see below), 1 status text, 2 reply port for [udpreceive].
//
// Max's [js] outputs a whole-valued number as an int, so a note at beat 1.0 would go out as
// OSC 'i' where the protocol wants 'f'. /diffjam/notes (the only message with floats)
// therefore leaves as
//   note <start> <duration> <pitch> <velocity>   (one per note, into [pack 0. 0. 0 0])
//   send <request id> <index> <count>            (header + collected notes, then
//                                                  [prepend /diffjam/notes] -> [udpsend])
// and every other message goes out as <address> <args...> unchanged.

var device = null;

function maxSend(message) {
    var i;
    if (message.types.indexOf('f') < 0) {
        outlet(0, [message.address].concat(message.args));
        return;
    }
    if (message.address !== '/diffjam/notes') {
        throw new Error('only /diffjam/notes has a typed-float path, not ' + message.address);
    }
    var header = message.types.indexOf('f');
    for (i = header; i < message.args.length; i += 4) {
        outlet(0, ['note'].concat(message.args.slice(i, i + 4)));
    }
    outlet(0, ['send'].concat(message.args.slice(0, header)));
}

function maxEnv() {
    return {
        LiveAPI: LiveAPI,
        send: maxSend,
        configure: function (what, value) {
            if (what === 'reply_port') {
                outlet(2, 'port', value);
            } else if (what === 'engine_port') {
                outlet(0, 'port', value);
            } else {
                outlet(0, 'host', value);
            }
        },
        status: function (text) {
            outlet(1, 'set', text);
            post('diffjam: ' + text + '\n');
        },
        schedule: function (fn, ms) {
            var task = new Task(fn);
            task.schedule(ms);
            return {
                cancel: function () {
                    task.cancel();
                }
            };
        },
        newId: function () {
            return 'm4l-' + Math.floor(Math.random() * 1e9).toString(36) + '-' +
                new Date().getTime().toString(36);
        }
    };
}

// Called by [live.thisdevice] once the device is in Live (LiveAPI works from then on).
// UI objects may send their restored values before that; they create the device early.
function init() {
    if (!device) {
        device = new Device(maxEnv());
    }
    device.env.configure('reply_port', device.settings.reply_port);
    device.hello();
    device.env.status('Select a MIDI clip and press Generate.');
}

function setting(name, value) {
    if (!device) {
        device = new Device(maxEnv());
    }
    device.set(name, value);
}

function mode(value) { setting('mode', value); }
function bar_from(value) { setting('bar_from', value); }
function bar_to(value) { setting('bar_to', value); }
function guidance(value) { setting('guidance', value); }
function in_key(value) { setting('in_key', value); }
function steps(value) { setting('steps', value); }
function variations(value) { setting('variations', value); }
function keep_original(value) { setting('keep_original', value); }
function engine_port(value) { setting('engine_port', value); }
function reply_port(value) { setting('reply_port', value); }

function chords() {
    var words = arrayfromargs(arguments);
    if (words[0] === 'text') {
        words = words.slice(1);
    }
    setting('chords', words.join(' '));
}

// The Model field: a name /diffjam/status lists (diffjam serve --models); empty: the
// engine's default model.
function model() {
    var words = arrayfromargs(arguments);
    if (words[0] === 'text') {
        words = words.slice(1);
    }
    setting('model', words.join(' '));
}

// [live.text] in button mode: 1 on press (0 on release is ignored).
function press(value) {
    if (value === 0) {
        return;
    }
    generate();
}

function generate() {
    if (!device) {
        init();
    }
    device.generate();
}

// Every OSC message from [udpreceive] arrives here, its address as the message name.
function anything() {
    if (!device) {
        init();
    }
    device.receive(messagename, arrayfromargs(arguments));
}

if (typeof module !== 'undefined' && module.exports) {
    module.exports = {
        PROTOCOL_VERSION: PROTOCOL_VERSION,
        NOTES_PER_CHUNK: NOTES_PER_CHUNK,
        ACCEPT_TIMEOUT_MS: ACCEPT_TIMEOUT_MS,
        REPLY_TIMEOUT_MS: REPLY_TIMEOUT_MS,
        beatsToSteps: beatsToSteps,
        stepsToBeats: stepsToBeats,
        beatsPerBar: beatsPerBar,
        barStartBeat: barStartBeat,
        barsCovering: barsCovering,
        clipSpan: clipSpan,
        defaultSettings: defaultSettings,
        applySetting: applySetting,
        resolveBarRange: resolveBarRange,
        notesFromLive: notesFromLive,
        notesToLive: notesToLive,
        splitChunks: splitChunks,
        helloMessage: helloMessage,
        notesMessage: notesMessage,
        buildRequest: buildRequest,
        ResultAssembler: ResultAssembler,
        parseNotes: parseNotes,
        describeEngineError: describeEngineError,
        RequestTracker: RequestTracker,
        planWrite: planWrite,
        Live: Live,
        Device: Device,
        maxSend: maxSend
    };
} else {
    inlets = 1;
    outlets = 3;
    autowatch = 0;
}
