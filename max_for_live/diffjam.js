// diffjam.js: the script of both Max for Live devices.
//
// One file, three hosts:
//  - Max's classic [js] object (ES5, the JavaScript object in Max 8 with LiveAPI), in
//      diffjam.amxd       a MIDI effect (Live 11 and 12): [js diffjam.js]
//      diffjam-tool.amxd  a Live 12 MIDI Tool (Generator): [js diffjam.js tool]
//    The functions at the bottom (init, generate, cancel, anything, ...) are its message
//    handlers; the word after the file name picks the Device or the Tool.
//  - node, for the tests: `require('./diffjam.js')` returns the logic, the Device and the
//    Tool, which take everything that touches Max or Live (LiveAPI, outlets, the clock) as
//    arguments.
//
// Units: notes travel in beats (quarter notes) from the clip's time 0; bars are 1-based and
// inclusive at the user's edge (docs/osc-protocol.md); times of day are milliseconds of the
// wall clock (Date), never of Max's scheduler. Only 4/4 is supported by the engine.
//
// Keep this file ES5: var, function, no arrow functions, let/const, classes or template
// strings. The node tests parse it with ecmaVersion 5.

var PROTOCOL_VERSION = 1;
var STEPS_PER_BEAT = 4;
var NOTES_PER_CHUNK = 128;
var EPSILON = 1e-6;

// Defaults and limits: the engine's (wire/limits.py); tests/test_max_for_live.py checks
// these against it. Seeds stop at 2^24 - 1, the largest whole number a float Live parameter
// (the Seed box) holds exactly; the engine takes any seed up to 2^63 - 1.
var DEFAULTS = { guidance: 4.0, steps: 10, variations: 1 };
var LIMITS = {
    guidance: [0, 20],
    steps: [1, 1000],
    variations: [1, 8],
    candidates: [1, 16],
    seed: [0, 16777215],
    bars: [0, 256]
};
var MAX_VARIATIONS = LIMITS.variations[1];
// Samples one request may draw (variations x candidates); an engine's /diffjam/status
// says its own (limits.max_rolls), this is the one a device assumes before it has heard.
var MAX_ROLLS = 64;

// How long the engine may stay silent: before it accepts a request, between two replies
// (its own --timeout is 120 s, it answers TIMEOUT itself), and for the result chunks still
// missing once /diffjam/done came (UDP may deliver done first).
var ACCEPT_TIMEOUT_MS = 5000;
var REPLY_TIMEOUT_MS = 130000;
var CHUNK_GRACE_MS = 3000;
// How often Max's Task looks at the deadlines (it stops while Live's audio engine is off;
// every reply and button press looks too, see Device.tick).
var TICK_MS = 250;

// Reply port 0 = automatic: AUTO_PORT_BASE + (this device's Live id mod AUTO_PORT_SPAN), so
// two devices in one set listen on different ports without the user choosing.
var AUTO_PORT_BASE = 9001;
var AUTO_PORT_SPAN = 999;

var MODES = ['infill', 'accompany'];
var NOTE_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
// Live's scale names the engine's keys can say (major and natural minor).
var MAJOR_SCALES = ['Major', 'Ionian'];
var MINOR_SCALES = ['Minor', 'Aeolian'];
var MAJOR_INTERVALS = '0,2,4,5,7,9,11';
var MINOR_INTERVALS = '0,2,3,5,7,8,10';
// Colours of the result clips, one per variation (0xRRGGBB, Clip.color).
var VARIATION_COLOURS = [0x1AA3E8, 0xF66C03, 0x87D93C, 0xB78AE6, 0xFFE83B, 0xFF5959,
    0x3DC2A5, 0xE55C9C];

// Engine replies the device reads; the others (settings, jam) are answered by nothing here.
var ENGINE_ADDRESSES = ['/diffjam/status', '/diffjam/accepted', '/diffjam/progress',
    '/diffjam/result', '/diffjam/done', '/diffjam/error'];
var IGNORED_ADDRESSES = ['/diffjam/settings', '/diffjam/jam/state', '/diffjam/jam/ports'];

// Hints for the engine's error names (docs/osc-protocol.md, "Error codes").
var ERROR_HINTS = {
    BUSY: 'the engine queue is full, try again in a moment',
    TIMEOUT: 'generation took too long; try fewer steps or bars',
    UNSUPPORTED_METER: 'only 4/4 clips are supported',
    CHUNK: 'notes got lost on the way to the engine; try again',
    BAD_BARS: 'check the bar range against the clip length',
    BAD_CHORD: 'check the Chords and Key fields'
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
// Keys: Live 12's scale (Song.root_note/scale_name, or a MIDI Tool's scale context) as the
// engine's key symbol ("C", "F#m"); null when Live's scale is off or not major/minor.

function keyFromScale(rootNote, scaleName, intervals) {
    var root = Number(rootNote);
    if (isNaN(root) || root < 0 || root > 11 || Math.floor(root) !== root) {
        return null;
    }
    var name = scaleName === undefined || scaleName === null ? '' : String(scaleName);
    var steps = intervals ? String(intervals) : '';
    if (MAJOR_SCALES.indexOf(name) >= 0 || (!name && steps === MAJOR_INTERVALS)) {
        return NOTE_NAMES[root];
    }
    if (MINOR_SCALES.indexOf(name) >= 0 || (!name && steps === MINOR_INTERVALS)) {
        return NOTE_NAMES[root] + 'm';
    }
    return null;
}

// ---------------------------------------------------------------------------------------
// Settings from the device's UI.

function defaultSettings() {
    return {
        mode: 'infill',
        bar_from: 0, // 0: the clip loop
        bar_to: 0,
        guidance: DEFAULTS.guidance,
        in_key: true,
        steps: DEFAULTS.steps,
        variations: DEFAULTS.variations,
        // samples drawn for each variation, the best kept; 0: the engine's default for the
        // task (wire/limits.py, DEFAULT_CANDIDATES; README.md lists them)
        candidates: 0,
        // accompany: each chord's bass at the bottom where the engine's sample places it
        // (OSC bass_anchor; off by default, docs/osc-protocol.md says what it costs)
        bass_anchor: false,
        seed: 0, // 0: a new random seed for every Generate (and shown in the result's name)
        key: '', // '': Live 12's scale when Live Scale is on, else the engine estimates
        live_scale: true,
        keep_original: true, // true: results as new clips; false: into the clip itself
        new_track: false, // accompany: the result into a new clip on a new track
        chords: '',
        model: '', // '': the engine's default model
        engine_host: '127.0.0.1',
        engine_port: 9000,
        reply_port: 0 // 0: automatic, see AUTO_PORT_BASE
    };
}

function toInt(value, name, low, high) {
    var number = Number(value);
    // Live parameters are floats (integer unit style): 4.0 is 4.
    if (isNaN(number) || Math.abs(number - Math.round(number)) > EPSILON || number < low ||
            number > high) {
        throw new Error(name + ' must be a whole number from ' + low + ' to ' + high +
            ', got ' + value);
    }
    return Math.round(number);
}

function words(value) {
    return String(value).replace(/\s+/g, ' ').replace(/^ | $/g, '');
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
            value = MODES[Math.round(value)];
        }
        if (MODES.indexOf(value) < 0) {
            throw new Error('mode must be infill or accompany, got ' + value);
        }
        next.mode = value;
    } else if (name === 'bar_from' || name === 'bar_to') {
        next[name] = toInt(value, name === 'bar_from' ? 'From bar' : 'To bar', LIMITS.bars[0],
            LIMITS.bars[1]);
    } else if (name === 'guidance') {
        var guidance = Number(value);
        if (isNaN(guidance) || guidance < LIMITS.guidance[0] || guidance > LIMITS.guidance[1]) {
            throw new Error('guidance must be from ' + LIMITS.guidance[0] + ' to ' +
                LIMITS.guidance[1] + ', got ' + value);
        }
        next.guidance = guidance;
    } else if (name === 'in_key' || name === 'keep_original' || name === 'new_track' ||
            name === 'live_scale' || name === 'bass_anchor') {
        next[name] = Number(value) !== 0 && value !== false;
    } else if (name === 'steps' || name === 'variations' || name === 'seed') {
        next[name] = toInt(value, name, LIMITS[name][0], LIMITS[name][1]);
    } else if (name === 'candidates') {
        next.candidates = toInt(value, 'candidates (0: the default)', 0, LIMITS.candidates[1]);
    } else if (name === 'chords' || name === 'model' || name === 'key') {
        next[name] = words(value);
    } else if (name === 'engine_port') {
        next.engine_port = toInt(value, 'engine port', 1024, 65535);
    } else if (name === 'reply_port') {
        next.reply_port = toInt(value, 'reply port', 0, 65535);
        if (next.reply_port !== 0 && next.reply_port < 1024) {
            throw new Error('reply port must be 0 (automatic) or from 1024 to 65535, got ' +
                value);
        }
    } else if (name === 'engine_host') {
        next.engine_host = String(value);
    } else {
        throw new Error('unknown setting ' + name);
    }
    return next;
}

// The port the device listens on: the setting, or 0 -> one derived from the device's id.
function replyPortFor(setting, deviceId) {
    if (setting !== 0) {
        return setting;
    }
    return AUTO_PORT_BASE + (Math.abs(Math.round(Number(deviceId) || 0)) % AUTO_PORT_SPAN);
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

function cancelMessage(requestId) {
    return { address: '/diffjam/cancel', types: 's', args: [requestId] };
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

// Throws when the engine's status listed its params (`engineParams`, null before it has
// answered) and `name` is not among them: `what` names the control and how to do without.
function requireParam(engineParams, name, what) {
    if (engineParams && engineParams.indexOf(name) < 0) {
        throw new Error('This engine does not take ' + what + ' or update diffjam.');
    }
}

// A request for the clip: the OSC messages to send, in order (notes chunks, then params),
// and what the reply will be written back to.
//   clip: {notes, loop_start, loop_end, start_marker, end_marker, signature_numerator,
//          signature_denominator, tempo}
//   options: {seed: int, key: engine key symbol or null, maxRolls: the engine's
//             limits.max_rolls, engineParams: the params its status lists} (all optional)
// Throws Error with a message for the status line when the request cannot be sent.
function buildRequest(requestId, settings, clip, options) {
    var extra = options || {};
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
    if (settings.candidates > 0) {
        requireParam(extra.engineParams, 'candidates',
            'Candidates; set Candidates to 0 (the default)');
        var maxRolls = typeof extra.maxRolls === 'number' ? extra.maxRolls : MAX_ROLLS;
        if (settings.variations * settings.candidates > maxRolls) {
            throw new Error(settings.variations + ' variations of ' + settings.candidates +
                ' candidates are ' + settings.variations * settings.candidates +
                ' samples; the engine draws at most ' + maxRolls + ' a request (at most ' +
                Math.floor(maxRolls / settings.variations) + ' candidates for ' +
                settings.variations + (settings.variations === 1 ? ' variation' :
                ' variations') + ').');
        }
        params.candidates = settings.candidates;
    }
    if (settings.bass_anchor && settings.mode === 'accompany') {
        requireParam(extra.engineParams, 'bass_anchor', 'Root in bass; turn it off');
        params.bass_anchor = true;
    }
    if (typeof extra.seed === 'number') {
        params.seed = extra.seed;
    }
    if (extra.key) {
        params.key = extra.key;
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
        seed: typeof extra.seed === 'number' ? extra.seed : null,
        key: extra.key || null,
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

// The life of one request, driven by the engine's replies in whatever order UDP delivers
// them (docs/osc-protocol.md sends accepted, progress, result chunks, done; a datagram may
// still arrive late, twice, or not at all):
//   sent -> accepted -> running -> done | failed
// and, when /diffjam/done overtakes result chunks, 'draining' until the last chunk comes
// (or the device gives up: incomplete()). handle() takes one reply and returns an event:
//   {kind: 'ignored'}                         not for this request, or after the end
//   {kind: 'accepted', position}
//   {kind: 'progress', fraction}
//   {kind: 'chunk', duplicate}
//   {kind: 'draining', missing}               done came; `missing` chunks still to come
//   {kind: 'done', variations: [[notes]], info}
//   {kind: 'failed', message}
function RequestTracker(requestId, expectedVariations) {
    this.requestId = requestId;
    this.expectedVariations = expectedVariations;
    this.state = 'sent';
    this.results = new ResultAssembler();
    this.doneInfo = null;
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
        if (this.state === 'sent') {
            this.state = 'accepted';
        }
        return { kind: 'accepted', position: Number(args[1]) };
    }
    if (address === '/diffjam/progress') {
        if (this.state !== 'draining') {
            this.state = 'running';
        }
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
        if (this.state === 'draining') {
            return this.tryComplete();
        }
        this.state = 'running';
        return { kind: 'chunk', duplicate: outcome === 'duplicate' };
    }
    if (address === '/diffjam/done') {
        if (this.doneInfo) {
            return { kind: 'ignored' }; // a repeated done
        }
        try {
            this.doneInfo = JSON.parse(String(args[1]));
        } catch (err) {
            return this.fail('Bad reply from the engine: done info is not JSON (' +
                err.message + ')');
        }
        this.state = 'draining';
        return this.tryComplete();
    }
    return { kind: 'ignored' };
};

RequestTracker.prototype.expected = function () {
    return typeof this.doneInfo.variations === 'number' ? this.doneInfo.variations :
        this.expectedVariations;
};

// After done: 'done' once every chunk is in, else 'draining' with what is missing.
RequestTracker.prototype.tryComplete = function () {
    var expected = this.expected();
    var missing = this.results.missing(expected);
    if (missing.length > 0) {
        return { kind: 'draining', missing: missing.length };
    }
    var info = this.doneInfo;
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

// The device gave up waiting for the chunks still missing after done.
RequestTracker.prototype.incomplete = function () {
    var missing = this.results.missing(this.expected());
    var names = [];
    var i;
    for (i = 0; i < missing.length && i < 4; i++) {
        names.push('variation ' + (missing[i].variation + 1) + ' chunk ' +
            (missing[i].chunk + 1));
    }
    return this.fail('The result arrived incomplete (' + missing.length +
        ' chunk(s) lost: ' + names.join(', ') + '); press Generate again. Nothing was written.');
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
// Live: reading clips and writing results through the LiveAPI. Every call used here is in
// the Live Object Model reference (README.md, "Live API calls and their sources"); the
// tests' fake (test/support/live_mock.js) answers exactly these, each with its citation.

function liveId(api) {
    return Number(api.id);
}

function first(value) {
    return value && value.length !== undefined && typeof value !== 'string' ? value[0] : value;
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

Live.prototype.byId = function (id) {
    return this.api('id ' + id);
};

Live.prototype.number = function (api, property) {
    return Number(first(api.get(property)));
};

Live.prototype.detailClipId = function () {
    return liveId(this.api('live_set view detail_clip'));
};

// The track a clip belongs to, its slot (null in the Arrangement) and their indices. An
// Arrangement clip's parent is its Track, or in Live 12 a TakeLane whose parent is the Track.
Live.prototype.placeOf = function (clipApi) {
    var parent = this.byId(idFrom(clipApi.get('canonical_parent')));
    var slot = null;
    var hops = 0;
    if (parent.type === 'ClipSlot') {
        slot = parent;
        parent = this.byId(idFrom(slot.get('canonical_parent')));
    }
    while (parent.type !== 'Track' && liveId(parent) !== 0 && hops < 4) {
        parent = this.byId(idFrom(parent.get('canonical_parent')));
        hops += 1;
    }
    if (parent.type !== 'Track') {
        throw new Error('Could not find the track of the clip.');
    }
    var trackIds = idsFrom(this.api('live_set').get('tracks'));
    return {
        slot: slot,
        slotIndex: slot ? idsFrom(parent.get('clip_slots')).indexOf(liveId(slot)) : -1,
        track: parent,
        trackIndex: trackIds.indexOf(liveId(parent)),
        trackName: String(first(parent.get('name')) || '')
    };
};

// The clip with Live id `id` as {api, name, notes, loop/marker times, meter, tempo, place};
// throws with a message for the status line when there is none or it is not a MIDI clip.
Live.prototype.readClip = function (id, withNotes) {
    var clip = this.byId(id);
    if (!id || liveId(clip) === 0) {
        throw new Error('No clip selected: click a MIDI clip, then press Generate.');
    }
    if (this.number(clip, 'is_midi_clip') !== 1) {
        throw new Error('The selected clip is an audio clip; diffjam needs a MIDI clip.');
    }
    var info = {
        api: clip,
        id: liveId(clip),
        name: String(first(clip.get('name')) || ''),
        loop_start: this.number(clip, 'loop_start'),
        loop_end: this.number(clip, 'loop_end'),
        start_marker: this.number(clip, 'start_marker'),
        end_marker: this.number(clip, 'end_marker'),
        signature_numerator: this.number(clip, 'signature_numerator'),
        signature_denominator: this.number(clip, 'signature_denominator'),
        arrangement: this.number(clip, 'is_arrangement_clip') === 1,
        tempo: this.number(this.api('live_set'), 'tempo')
    };
    info.place = this.placeOf(clip);
    if (info.arrangement) {
        info.start_time = this.number(clip, 'start_time');
    }
    if (withNotes !== false) {
        var span = clipSpan(info);
        info.liveNotes = parseNoteDict(clip.call('get_notes_extended', 0, 128, span.start,
            span.end - span.start));
        info.notes = notesFromLive(info.liveNotes);
    }
    return info;
};

// Live 12's scale (Song.scale_mode, root_note, scale_name) as {key, name}; key is null when
// the scale is not one the engine can use. null in Live 11 (no such properties) or when the
// Scale Mode toggle is off.
Live.prototype.scale = function () {
    var song = this.api('live_set');
    var mode;
    var root;
    var name;
    try {
        mode = this.number(song, 'scale_mode');
        root = this.number(song, 'root_note');
        name = String(first(song.get('scale_name')));
    } catch (err) {
        return null;
    }
    if (mode !== 1) {
        return null;
    }
    return { key: keyFromScale(root, name), name: NOTE_NAMES[root] + ' ' + name };
};

// The first empty clip slot of the track below `afterIndex`; adds a scene when all are full.
Live.prototype.emptySlot = function (track, afterIndex) {
    var slotIds = idsFrom(track.get('clip_slots'));
    var i;
    for (i = afterIndex + 1; i < slotIds.length; i++) {
        var slot = this.byId(slotIds[i]);
        if (this.number(slot, 'has_clip') === 0) {
            return { api: slot, index: i };
        }
    }
    this.api('live_set').call('create_scene', -1);
    slotIds = idsFrom(track.get('clip_slots'));
    return { api: this.byId(slotIds[slotIds.length - 1]), index: slotIds.length - 1 };
};

// The slot `index` of the track, adding scenes until there is one.
Live.prototype.slotAt = function (track, index) {
    var slotIds = idsFrom(track.get('clip_slots'));
    while (slotIds.length <= index) {
        this.api('live_set').call('create_scene', -1);
        slotIds = idsFrom(track.get('clip_slots'));
    }
    return this.byId(slotIds[index]);
};

Live.prototype.label = function (clipApi, name, colour) {
    clipApi.set('name', name);
    clipApi.set('color', colour);
};

// A copy of a session clip in the next empty slot of its track below `afterIndex`.
Live.prototype.copyClip = function (clip, afterIndex) {
    var target = this.emptySlot(clip.place.track, afterIndex);
    clip.place.slot.call('duplicate_clip_to', 'id', liveId(target.api));
    return { api: this.byId(idFrom(target.api.get('clip'))), index: target.index };
};

// An empty session clip in `slot` with the loop and markers of `clip`.
Live.prototype.newSessionClip = function (slot, clip) {
    if (this.number(slot, 'has_clip') === 1) {
        throw new Error('the slot for the new clip is not empty');
    }
    var span = clipSpan(clip);
    slot.call('create_clip', span.end);
    var api = this.byId(idFrom(slot.get('clip')));
    api.set('loop_end', clip.loop_end);
    api.set('loop_start', clip.loop_start);
    api.set('end_marker', clip.end_marker);
    api.set('start_marker', clip.start_marker);
    return api;
};

// A new Arrangement clip on `track` from song time `start` for `length` beats (Live 12's
// Track.create_midi_clip); null in Live 11, which has no way to make one.
Live.prototype.newArrangementClip = function (track, start, length) {
    try {
        track.call('create_midi_clip', start, length);
    } catch (err) {
        return null;
    }
    var ids = idsFrom(track.get('arrangement_clips'));
    var i;
    for (i = 0; i < ids.length; i++) {
        var api = this.byId(ids[i]);
        if (Math.abs(this.number(api, 'start_time') - start) < EPSILON) {
            return api;
        }
    }
    return null;
};

// A new MIDI track right after track `index`; returns its API.
Live.prototype.newTrackAfter = function (index) {
    var song = this.api('live_set');
    song.call('create_midi_track', index + 1);
    return this.byId(idsFrom(song.get('tracks'))[index + 1]);
};

// Applies a plan ({remove, add}) to a clip: the removal and the addition are two calls made
// one right after the other in one handler.
Live.prototype.writePlan = function (clipApi, plan) {
    if (plan.remove) {
        clipApi.call('remove_notes_extended', 0, 128, plan.remove.from, plan.remove.span);
    }
    if (plan.add.length > 0) {
        clipApi.call('add_new_notes', { notes: notesToLive(plan.add) });
    }
};

// ---------------------------------------------------------------------------------------
// The OSC client both devices share: settings, hello, one request in flight, replies,
// deadlines and Cancel. The Device and the Tool add what they read and write in Live.
//
// env: {
//   LiveAPI:   the LiveAPI constructor (Max's, or a fake)
//   send:      function (message)  one OSC message {address, types, args} to the engine
//   configure: function (what, value)  'engine_host' | 'engine_port' | 'reply_port'
//   status:    function (text)  the status line
//   now:       function () -> wall-clock milliseconds (Date; not Max's scheduler)
//   newId:     function () -> request id string
//   random:    function () -> [0, 1) for seeds
// }
// Deadlines are wall-clock times looked at by tick(), which Max's Task calls every TICK_MS
// while Live's audio engine runs, and every reply and button press calls as well.

function Client(env) {
    this.env = env;
    this.live = new Live(env.LiveAPI);
    this.settings = defaultSettings();
    this.tracker = null;
    this.request = null;
    this.deadline = null;
    this.deadlineMessage = '';
    this.engineInfo = null;
    this.replyPort = null;
}

Client.prototype.set = function (name, value) {
    this.tick();
    try {
        this.settings = applySetting(this.settings, name, value);
    } catch (err) {
        this.env.status(err.message);
        return false;
    }
    if (name === 'engine_host' || name === 'engine_port') {
        this.env.configure(name, this.settings[name]);
        this.hello();
    } else if (name === 'reply_port' && this.replyPort !== null) {
        this.listen();
    }
    return true;
};

// Picks the reply port (0: automatic), tells [udpreceive], announces it to the engine.
Client.prototype.listen = function () {
    var deviceId = 0;
    try {
        deviceId = liveId(this.live.api('this_device'));
    } catch (err) {
        deviceId = 0;
    }
    this.replyPort = replyPortFor(this.settings.reply_port, deviceId);
    this.env.configure('reply_port', this.replyPort);
    this.hello();
};

Client.prototype.hello = function () {
    if (this.replyPort !== null) {
        this.env.send(helloMessage(this.replyPort));
    }
};

Client.prototype.busy = function () {
    return this.tracker !== null && !this.tracker.finished();
};

Client.prototype.armDeadline = function (ms, message) {
    this.deadline = this.env.now() + ms;
    this.deadlineMessage = message;
};

// Fails the request in flight once its deadline has passed.
Client.prototype.tick = function () {
    if (!this.busy() || this.deadline === null || this.env.now() < this.deadline) {
        return;
    }
    this.deadline = null;
    this.finish(this.tracker.state === 'draining' ? this.tracker.incomplete() :
        this.tracker.fail(this.deadlineMessage));
};

// Sends a built request and starts waiting for it.
Client.prototype.start = function (request, description) {
    this.request = request;
    this.tracker = new RequestTracker(request.requestId, request.variations);
    this.hello();
    var i;
    for (i = 0; i < request.messages.length; i++) {
        this.env.send(request.messages[i]);
    }
    this.env.status(description);
    this.armDeadline(ACCEPT_TIMEOUT_MS, 'The engine did not answer on ' +
        this.settings.engine_host + ':' + this.settings.engine_port +
        '. Is `diffjam serve` running?');
};

Client.prototype.cancel = function () {
    this.tick();
    if (!this.busy()) {
        this.env.status('Nothing to cancel.');
        return false;
    }
    this.env.send(cancelMessage(this.request.requestId));
    this.finish(this.tracker.fail('Cancelled; nothing was written.'));
    return true;
};

Client.prototype.seedFor = function () {
    if (this.settings.seed > 0) {
        return this.settings.seed;
    }
    return 1 + Math.floor(this.env.random() * (LIMITS.seed[1] - 1));
};

// One OSC message from the engine.
Client.prototype.receive = function (address, args) {
    this.tick();
    if (address === '/diffjam/status') {
        this.onStatus(args[0]);
        return;
    }
    if (!this.busy()) {
        return;
    }
    var wasDraining = this.tracker.state === 'draining';
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
    } else if (event.kind === 'draining') {
        if (!wasDraining) {
            this.armDeadline(CHUNK_GRACE_MS, '');
        }
    } else {
        this.armDeadline(REPLY_TIMEOUT_MS, 'The engine stopped answering in the middle of ' +
            'the request; check the terminal running `diffjam serve`.');
    }
};

Client.prototype.onStatus = function (json) {
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

// The most samples a request may draw: what the engine's status said, else MAX_ROLLS.
Client.prototype.maxRolls = function () {
    var limits = this.engineInfo && this.engineInfo.limits;
    return limits && typeof limits.max_rolls === 'number' ? limits.max_rolls : MAX_ROLLS;
};

// The request params the engine's status says it takes; null before it has said.
Client.prototype.engineParams = function () {
    var capabilities = this.engineInfo && this.engineInfo.capabilities;
    return capabilities && capabilities.params instanceof Array ? capabilities.params : null;
};

// ' Each the best of N.' when the engine drew several samples a variation (done's
// candidates), else ''.
function bestOf(info) {
    return typeof info.candidates === 'number' && info.candidates > 1 ?
        ' Each the best of ' + info.candidates + '.' : '';
}

Client.prototype.finish = function (event) {
    this.deadline = null;
    if (event.kind === 'failed') {
        this.env.status(event.message);
        return;
    }
    try {
        this.env.status(this.write(event.variations, event.info || {}));
    } catch (err) {
        this.env.status('Could not write the notes into Live: ' + err.message);
    }
};

function inherit(Child, Parent) {
    var key;
    for (key in Parent.prototype) {
        if (Parent.prototype.hasOwnProperty(key)) {
            Child.prototype[key] = Parent.prototype[key];
        }
    }
}

// ---------------------------------------------------------------------------------------
// The MIDI effect: the clip shown in Live's Detail View, results as new clips or into the
// clip itself.
//
// env (besides Client's): target: function (text)  the "Target:" line under the controls

function Device(env) {
    Client.call(this, env);
    this.clip = null;
    this.targetId = 0;
    this.observer = null;
}

inherit(Device, Client);

// Called once Live is ready (live.thisdevice): reply port, hello, and the target clip line,
// kept up to date by observing the Detail View's clip.
Device.prototype.init = function () {
    var self = this;
    this.listen();
    try {
        this.observer = this.live.observe('live_set view', 'detail_clip', function () {
            self.refreshTarget();
        });
    } catch (err) {
        this.observer = null;
    }
    this.refreshTarget();
};

Device.prototype.set = function (name, value) {
    var ok = Client.prototype.set.call(this, name, value);
    if (ok && this.replyPort !== null) {
        this.refreshTarget();
    }
    return ok;
};

// The key the request asks for: the Key field, else Live 12's scale when Live Scale is on.
Device.prototype.key = function () {
    if (this.settings.key) {
        return { key: this.settings.key, text: 'key ' + this.settings.key };
    }
    if (!this.settings.live_scale) {
        return { key: null, text: 'key estimated' };
    }
    var scale = this.live.scale();
    if (!scale) {
        return { key: null, text: 'key estimated' };
    }
    if (!scale.key) {
        return { key: null, text: 'key estimated (Live\'s ' + scale.name +
            ' is not major or minor)' };
    }
    return { key: scale.key, text: 'key ' + scale.key + ' (Live\'s scale)' };
};

// Where a Generate would write, for the "Target:" line; throws like generate() would.
Device.prototype.describe = function (clip) {
    var bars = resolveBarRange(this.settings, clip);
    var where = clip.arrangement ? 'Arrangement' : 'Session slot ' + (clip.place.slotIndex + 1);
    var into;
    if (this.settings.mode === 'accompany' && this.settings.new_track) {
        into = 'accompaniment to a new track';
    } else if (clip.arrangement || !this.settings.keep_original) {
        into = 'into this clip';
    } else {
        into = 'as new clips below';
    }
    return 'Target: "' + (clip.name || 'untitled') + '" on ' + (clip.place.trackName ||
        'track ' + (clip.place.trackIndex + 1)) + ', ' + where + ', bars ' + bars.first + '-' +
        bars.last + ', ' + this.key().text + ', ' + into + '.';
};

Device.prototype.refreshTarget = function () {
    var text;
    try {
        this.targetId = this.live.detailClipId();
        text = this.describe(this.live.readClip(this.targetId, false));
    } catch (err) {
        text = 'Target: none. ' + err.message;
    }
    if (this.env.target) {
        this.env.target(text);
    }
    return text;
};

// Reads the target clip (the one the Target line shows) and sends the request. Returns true
// when a request went out.
Device.prototype.generate = function () {
    this.tick();
    if (this.busy()) {
        this.env.status('Still waiting for the last request (Cancel stops it).');
        return false;
    }
    var clip;
    var request;
    var seed = this.seedFor();
    this.refreshTarget(); // the line shows what this Generate uses (loop or name may have moved)
    try {
        clip = this.live.readClip(this.targetId);
        if (clip.arrangement && this.settings.variations > 1) {
            throw new Error('An Arrangement clip takes one variation, written in place; set ' +
                'Variations to 1 or use a Session clip.');
        }
        request = buildRequest(this.env.newId(), this.settings, clip, {
            seed: seed, key: this.key().key, maxRolls: this.maxRolls(),
            engineParams: this.engineParams()
        });
    } catch (err) {
        this.env.status(err.message);
        return false;
    }
    this.clip = clip;
    this.start(request, 'Sent ' + request.task + ' for bars ' + request.bars[0] + '-' +
        request.bars[1] + ' of "' + (clip.name || 'untitled') + '" (' + clip.notes.length +
        ' notes, seed ' + seed + '), waiting for the engine...');
    return true;
};

Device.prototype.resultName = function (v) {
    return (this.clip.name || 'clip') + ' diffjam ' + (v + 1) + ' seed ' + this.request.seed;
};

// Writes the variations into Live; returns the status line. Every write is a Live API edit
// made in this one handler (Song.begin_undo_step is not in the Max for Live API).
Device.prototype.write = function (variations, info) {
    var clip = this.clip;
    var request = this.request;
    var written = [];
    var total = 0;
    var v;
    var plan;
    var live = this.live;
    if (request.mode === 'accompany' && this.settings.new_track) {
        var track = live.newTrackAfter(clip.place.trackIndex);
        track.set('name', (clip.place.trackName || 'diffjam') + ' accompaniment');
        for (v = 0; v < variations.length; v++) {
            var api;
            // the melody's own notes stay on its track (a result that repeats one is not
            // copied to the accompaniment)
            plan = planWrite(request, clip.notes, variations[v]);
            if (clip.arrangement) {
                api = live.newArrangementClip(track, clip.start_time + request.rangeStart -
                    clip.start_marker, request.rangeEnd - request.rangeStart);
                if (!api) {
                    throw new Error('this Live cannot make Arrangement clips from a device ' +
                        '(Live 12 can); turn New track off or use a Session clip');
                }
                plan = { remove: null, add: shiftNotes(plan.add, -request.rangeStart) };
            } else {
                api = live.newSessionClip(live.slotAt(track, clip.place.slotIndex + v), clip);
            }
            live.writePlan(api, plan);
            live.label(api, this.resultName(v), VARIATION_COLOURS[v]);
            total += plan.add.length;
            written.push(this.resultName(v));
        }
        return this.done(total, written, info);
    }
    var inPlace = clip.arrangement || !this.settings.keep_original;
    var afterIndex = clip.place.slotIndex;
    // Copies first: a copy must start from the user's clip, not from one already rewritten.
    for (v = inPlace ? 1 : 0; v < variations.length; v++) {
        var copy = live.copyClip(clip, afterIndex);
        afterIndex = copy.index;
        plan = planWrite(request, clip.notes, variations[v]);
        live.writePlan(copy.api, plan);
        live.label(copy.api, this.resultName(v), VARIATION_COLOURS[v]);
        total += plan.add.length;
        written.push(this.resultName(v));
    }
    if (inPlace) {
        plan = planWrite(request, clip.notes, variations[0]);
        live.writePlan(clip.api, plan);
        total += plan.add.length;
        written.unshift((clip.name || 'the clip') + ' (in place)');
    }
    return this.done(total, written, info);
};

Device.prototype.done = function (total, written, info) {
    var request = this.request;
    return 'Done: ' + total + ' notes in bars ' + request.bars[0] + '-' + request.bars[1] +
        ' -> ' + written.join(', ') + '. Seed ' + request.seed + '.' + bestOf(info || {});
};

// ---------------------------------------------------------------------------------------
// The Live 12 MIDI Tool (a Generator in the clip's Generate tab). Live hands the tool the
// clip's notes and context (time selection, grid, scale) through [live.miditool.in] and
// takes notes back through [live.miditool.out] in the same apply cycle; the engine answers
// later, over UDP. So one Generate is two apply cycles (Max's live.miditool.in reference:
// a bang "will start a new apply cycle or continue an existing one"):
//   1. Generate bangs [live.miditool.in]; the tool answers the selection's notes unchanged
//      and sends the request;
//   2. when the result is in, the tool bangs [live.miditool.in] again and answers with the
//      generated notes, which Live puts in place of the time selection's notes.
// A cycle Live starts by itself (Auto Apply after a parameter change) is answered with the
// notes unchanged: only Generate and Re-roll ask the engine.
//
// env (besides Client's):
//   output:       function (liveNotes)  the note dictionaries to [live.miditool.out]
//   requestApply: function ()  bang [live.miditool.in]
//   showSeed:     function (seed)  the Seed box shows the seed a Re-roll picked

// The time selection of a MIDI Tool context, in beats: {start, end}; the clip loop when no
// time is selected (Live's manual: generators fill the time selection or the clip loop).
function selectionOf(context, clip) {
    var c = (context && context.clip) || {};
    var start = Number(c.time_selection_start);
    var end = Number(c.time_selection_end);
    if (isNaN(start) || isNaN(end) || end - start < EPSILON) {
        return { start: clip.loop_start, end: clip.loop_end };
    }
    return { start: start, end: end };
}

// A time in beats as Live shows positions in 4/4: bar.beat.sixteenth, from 1.1.1.
function position(beats) {
    var sixteenths = Math.round(beats * STEPS_PER_BEAT);
    return (Math.floor(sixteenths / 16) + 1) + '.' + (Math.floor(sixteenths / 4) % 4 + 1) +
        '.' + (sixteenths % 4 + 1);
}

// The grid interval in beats, or 0 when the context has none.
function gridOf(context) {
    var grid = context && context.grid;
    var interval = grid ? Number(grid.interval) : 0;
    return isNaN(interval) || interval <= EPSILON ? 0 : interval;
}

// Engine notes (on 16ths) moved onto the clip's grid: onsets to the nearest line, lengths
// to whole grid steps (at least one).
function snapToGrid(notes, interval) {
    if (!interval) {
        return notes;
    }
    var out = [];
    var i;
    for (i = 0; i < notes.length; i++) {
        out.push({
            start: Math.round(notes[i].start / interval) * interval,
            duration: Math.max(1, Math.round(notes[i].duration / interval)) * interval,
            pitch: notes[i].pitch,
            velocity: notes[i].velocity
        });
    }
    return out;
}

// The notes that replace the selection: infill's result there, or accompany's result added
// to the selection's notes. Grid-snapped; a note is cut at the selection's end.
function planSelection(request, selection, existing, resultNotes, interval) {
    var placed = notesStartingIn(snapToGrid(shiftNotes(resultNotes, request.offset), interval),
        selection.start, selection.end);
    var keep = request.mode === 'accompany' ? notesStartingIn(existing, selection.start,
        selection.end) : [];
    var plan = planWrite({ mode: 'accompany', offset: 0, rangeStart: selection.start,
        rangeEnd: selection.end }, keep, placed);
    var out = keep.concat(plan.add);
    var i;
    for (i = 0; i < out.length; i++) {
        out[i] = {
            start: out[i].start,
            duration: Math.min(out[i].duration, selection.end - out[i].start),
            pitch: out[i].pitch,
            velocity: out[i].velocity
        };
    }
    out.sort(compareNotes);
    return out;
}

function Tool(env) {
    Client.call(this, env);
    this.context = null;
    this.trigger = false;
    this.pending = null;
    this.ready = null;
    this.lastSeed = 0;
}

inherit(Tool, Client);

Tool.prototype.init = function () {
    this.listen();
};

// Generate: start an apply cycle that sends the request.
Tool.prototype.generate = function () {
    this.tick();
    if (this.busy()) {
        this.env.status('Still waiting for the last request (Cancel stops it).');
        return false;
    }
    this.trigger = true;
    this.env.requestApply();
    return this.busy();
};

// Re-roll: the next seed, and Generate.
Tool.prototype.reroll = function () {
    var seed = (this.settings.seed > 0 ? this.settings.seed : this.lastSeed) + 1;
    if (seed > LIMITS.seed[1]) {
        seed = 1;
    }
    this.set('seed', seed);
    this.env.showSeed(seed);
    return this.generate();
};

// The context dictionary of [live.miditool.in] (it comes before the notes: Max outlets fire
// right to left).
Tool.prototype.onContext = function (context) {
    this.context = context;
};

// The notes dictionary of [live.miditool.in]: the apply cycle, answered at once.
Tool.prototype.onNotes = function () {
    this.tick();
    var clip;
    var selection;
    var unchanged;
    try {
        clip = this.live.readClip(this.live.detailClipId());
        selection = selectionOf(this.context, clip);
        unchanged = notesStartingIn(clip.notes, selection.start, selection.end);
    } catch (err) {
        this.env.status(err.message);
        this.env.output(notesToLive([]));
        return;
    }
    if (this.ready) {
        var ready = this.ready;
        this.ready = null;
        if (ready.clipId === clip.id && Math.abs(ready.selection.start - selection.start) <
                EPSILON && Math.abs(ready.selection.end - selection.end) < EPSILON) {
            this.env.output(notesToLive(ready.notes));
            this.env.status(ready.message);
            return;
        }
        this.env.status('The selection changed while the engine worked; nothing was ' +
            'written. Press Generate again.');
    } else if (this.trigger) {
        this.trigger = false;
        this.send(clip, selection);
    }
    this.env.output(notesToLive(unchanged));
};

Tool.prototype.send = function (clip, selection) {
    var barBeats = beatsPerBar(clip.signature_numerator, clip.signature_denominator);
    var bars = barsCovering(selection.start, selection.end, barBeats);
    var scale = this.context && this.context.scale;
    var key = this.settings.key || null;
    if (!key && scale && Number(scale.scale_mode) === 1) {
        key = keyFromScale(scale.root_note, scale.scale_name, scale.scale_intervals);
    }
    var settings = applySetting(applySetting(applySetting(this.settings, 'bar_from', bars[0]),
        'bar_to', bars[1]), 'variations', 1);
    var seed = this.seedFor();
    var request;
    try {
        request = buildRequest(this.env.newId(), settings, clip, {
            seed: seed, key: key, maxRolls: this.maxRolls(), engineParams: this.engineParams()
        });
    } catch (err) {
        this.env.status(err.message);
        return;
    }
    this.lastSeed = seed;
    this.pending = { clip: clip, selection: selection, interval: gridOf(this.context) };
    this.start(request, 'Sent ' + request.task + ' for ' + position(selection.start) + '-' +
        position(selection.end) + ' (seed ' + seed + (key ? ', key ' + key : '') +
        '), waiting for the engine...');
};

// The result is in: keep it for the next apply cycle, which finish() asks Live for.
Tool.prototype.write = function (variations, info) {
    var pending = this.pending;
    var notes = planSelection(this.request, pending.selection, pending.clip.notes,
        variations[0], pending.interval);
    var message = 'Done: ' + notes.length + ' notes in the selection, seed ' +
        this.request.seed + '.' + bestOf(info || {}) + ' Re-roll for another.';
    this.ready = { clipId: pending.clip.id, selection: pending.selection, notes: notes,
        message: message };
    return message;
};

Tool.prototype.finish = function (event) {
    Client.prototype.finish.call(this, event);
    if (this.ready) {
        this.env.requestApply();
    }
};

Live.prototype.observe = function (path, property, callback) {
    var api = new this.LiveAPI(function () {
        callback();
    }, path);
    api.property = property;
    return api;
};

// ---------------------------------------------------------------------------------------
// Max: the [js] object's message handlers. Outlets:
//   0 OSC to the engine (through the patcher's typed-float path, see below)
//   1 status text ([comment], `set <text>`)
//   2 reply port for [udpreceive] (`port <n>`)
//   3 Device: the Target line (`set <text>`); Tool: the Seed box (`set <n>`)
//   4 Tool: the note dictionary for [live.miditool.out] (`dictionary <name>`)
//   5 Tool: bang for [live.miditool.in]
//
// Max's [js] outputs a whole-valued number as an int, so a note at beat 1.0 would go out as
// OSC 'i' where the protocol wants 'f'. /diffjam/notes (the only message with floats)
// therefore leaves as
//   note <start> <duration> <pitch> <velocity>   (one per note, into [pack 0. 0. 0 0])
//   send <request id> <index> <count>            (header + collected notes, then
//                                                  [prepend /diffjam/notes] -> [udpsend])
// and every other message goes out as <address> <args...> unchanged.

var app = null;
var ticker = null;

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

function isTool() {
    return typeof jsarguments !== 'undefined' && jsarguments[1] === 'tool';
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
        target: function (text) {
            outlet(3, 'set', text);
        },
        showSeed: function (seed) {
            outlet(3, 'set', seed);
        },
        output: function (liveNotes) {
            var dict = new Dict();
            dict.parse(JSON.stringify({ notes: liveNotes }));
            outlet(4, 'dictionary', dict.name);
        },
        requestApply: function () {
            outlet(5, 'bang');
        },
        now: function () {
            return new Date().getTime();
        },
        random: Math.random,
        newId: function () {
            return 'm4l-' + Math.floor(Math.random() * 1e9).toString(36) + '-' +
                new Date().getTime().toString(36);
        }
    };
}

function ensureApp() {
    if (!app) {
        app = isTool() ? new Tool(maxEnv()) : new Device(maxEnv());
    }
    return app;
}

// Called by [live.thisdevice] once the device is in Live (LiveAPI works from then on).
// UI objects may send their restored values before that; they create the app early.
function init() {
    ensureApp().init();
    if (!ticker) {
        // Task runs on Max's scheduler, which Live drives with its audio engine: while the
        // audio engine is off it stands still, and tick() runs on every reply and button
        // press instead (deadlines are wall-clock times, so none is missed, only late).
        ticker = new Task(function () {
            app.tick();
        });
        ticker.interval = TICK_MS;
        ticker.repeat();
    }
    app.env.status(isTool() ? 'Select a time range in a MIDI clip and press Generate.' :
        'Select a MIDI clip and press Generate.');
}

function setting(name, value) {
    ensureApp().set(name, value);
}

// [textedit] sends its text, a leading `text` word when it comes from a bang.
function textOf(args) {
    var list = arrayfromargs(args);
    if (list[0] === 'text') {
        list = list.slice(1);
    }
    return list.join(' ');
}

function mode(value) { setting('mode', value); }
function bar_from(value) { setting('bar_from', value); }
function bar_to(value) { setting('bar_to', value); }
function guidance(value) { setting('guidance', value); }
function in_key(value) { setting('in_key', value); }
function steps(value) { setting('steps', value); }
function variations(value) { setting('variations', value); }
function candidates(value) { setting('candidates', value); }
function bass_anchor(value) { setting('bass_anchor', value); }
function seed(value) { setting('seed', value); }
function keep_original(value) { setting('keep_original', value); }
function new_track(value) { setting('new_track', value); }
function live_scale(value) { setting('live_scale', value); }
function engine_port(value) { setting('engine_port', value); }
function reply_port(value) { setting('reply_port', value); }
function chords() { setting('chords', textOf(arguments)); }
function key() { setting('key', textOf(arguments)); }
// The Model field: a name /diffjam/status lists (diffjam serve --models); empty: the
// engine's default model.
function model() { setting('model', textOf(arguments)); }

// [live.text] in button mode: 1 on press (0 on release is ignored).
function press(value) {
    if (value === 0) {
        return;
    }
    generate();
}

function generate() {
    if (!app || app.replyPort === null) {
        init();
    }
    app.generate();
}

function cancel(value) {
    if (value === 0) {
        return;
    }
    ensureApp().cancel();
}

function reroll(value) {
    if (value === 0) {
        return;
    }
    if (!app || app.replyPort === null) {
        init();
    }
    app.reroll();
}

// [live.miditool.in]'s dictionaries, through [prepend context] / [prepend notes].
function dictionaryJson(args) {
    var list = arrayfromargs(args);
    var name = list[list.length - 1];
    return JSON.parse(new Dict(name).stringify());
}

function context() {
    ensureApp().onContext(dictionaryJson(arguments));
}

function notes() {
    ensureApp().onNotes(dictionaryJson(arguments));
}

// Every OSC message from [udpreceive] arrives here, its address as the message name.
function anything() {
    if (!app || app.replyPort === null) {
        init();
    }
    app.receive(messagename, arrayfromargs(arguments));
}

if (typeof module !== 'undefined' && module.exports) {
    module.exports = {
        PROTOCOL_VERSION: PROTOCOL_VERSION,
        NOTES_PER_CHUNK: NOTES_PER_CHUNK,
        DEFAULTS: DEFAULTS,
        LIMITS: LIMITS,
        MAX_ROLLS: MAX_ROLLS,
        ACCEPT_TIMEOUT_MS: ACCEPT_TIMEOUT_MS,
        REPLY_TIMEOUT_MS: REPLY_TIMEOUT_MS,
        CHUNK_GRACE_MS: CHUNK_GRACE_MS,
        TICK_MS: TICK_MS,
        AUTO_PORT_BASE: AUTO_PORT_BASE,
        AUTO_PORT_SPAN: AUTO_PORT_SPAN,
        ENGINE_ADDRESSES: ENGINE_ADDRESSES,
        IGNORED_ADDRESSES: IGNORED_ADDRESSES,
        ERROR_HINTS: ERROR_HINTS,
        NOTE_NAMES: NOTE_NAMES,
        beatsToSteps: beatsToSteps,
        stepsToBeats: stepsToBeats,
        beatsPerBar: beatsPerBar,
        barStartBeat: barStartBeat,
        barsCovering: barsCovering,
        clipSpan: clipSpan,
        keyFromScale: keyFromScale,
        defaultSettings: defaultSettings,
        applySetting: applySetting,
        replyPortFor: replyPortFor,
        resolveBarRange: resolveBarRange,
        notesFromLive: notesFromLive,
        notesToLive: notesToLive,
        splitChunks: splitChunks,
        helloMessage: helloMessage,
        cancelMessage: cancelMessage,
        notesMessage: notesMessage,
        buildRequest: buildRequest,
        ResultAssembler: ResultAssembler,
        parseNotes: parseNotes,
        describeEngineError: describeEngineError,
        RequestTracker: RequestTracker,
        planWrite: planWrite,
        selectionOf: selectionOf,
        gridOf: gridOf,
        snapToGrid: snapToGrid,
        planSelection: planSelection,
        position: position,
        Live: Live,
        Client: Client,
        Device: Device,
        Tool: Tool,
        maxSend: maxSend
    };
} else {
    inlets = 1;
    outlets = 6;
    autowatch = 0;
}
