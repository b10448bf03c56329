'use strict';
// A fake of Live 12's MIDI Tool host around [live.miditool.in] / [live.miditool.out], with
// the documented behaviour, each point with its source:
//  - a bang to live.miditool.in "will start a new apply cycle or continue an existing one";
//    starting one reads the selected clip's notes and context, "the notes are sent out the
//    leftmost outlet as a dictionary, and the contextual information is sent out the middle
//    outlet"; a user interaction outside the tool stops the cycle; a continued cycle returns
//    the notes and context "from when you began the cycle" (Max reference, live.miditool.in:
//    https://docs.cycling74.com/reference/live.miditool.in). Max outlets fire right to
//    left, so the context comes first.
//  - the context dictionary holds clip {time_selection_start, time_selection_end, ...},
//    scale {scale_mode, root_note, scale_intervals[, scale_name]} and grid {interval,
//    enabled}, times in beats; the notes dictionary is shaped like Clip.get_notes_extended's
//    (h1data, "Memorandum of M4L development for MIDI Tools", github.com/h1data/
//    M4L-MIDI-tool-examples/blob/main/memo/README.md, read against the Max help patches).
//  - the tool must answer each cycle at once with a note dictionary to live.miditool.out;
//    otherwise Live reports "Did not receive a Note dictionary in time"; a dictionary
//    outside a cycle gives "Received a Note dictionary asynchronously"; a note without
//    pitch, start_time or duration gives "The Note dictionary received from Max was
//    malformed" (same memo, "Error Messages").
//  - a Generator's notes replace the notes of the time selection (or of the clip loop when
//    there is none) (Ableton Live 12 Reference Manual, "MIDI Tools":
//    https://www.ableton.com/en/live-manual/12/midi-tools/).

class MidiToolHost {
  // world: LiveWorld; clip: its id; selection: [start, end] beats or null (the loop);
  // grid: {interval, enabled}; scale: {scale_mode, root_note, scale_intervals, scale_name}
  constructor(world, clip, { selection = null, grid = { interval: 0.25, enabled: 1 },
    scale = { scale_mode: 0, root_note: 0, scale_intervals: [0, 2, 4, 5, 7, 9, 11] } } = {}) {
    this.world = world;
    this.clip = clip;
    this.selection = selection;
    this.grid = grid;
    this.scale = scale;
    this.cycle = null;
    this.errors = [];
    this.applied = 0;
    this.tool = null;
  }

  connect(tool) {
    this.tool = tool;
  }

  // The user clicks somewhere else (another clip, a new selection): the cycle stops.
  interrupt({ selection } = {}) {
    this.cycle = null;
    if (selection !== undefined) this.selection = selection;
  }

  span() {
    const clip = this.world.get(this.clip);
    return this.selection ? { start: this.selection[0], end: this.selection[1] }
      : { start: clip.loop_start, end: clip.loop_end };
  }

  // [live.miditool.in] receives a bang.
  bang() {
    if (!this.cycle) {
      const span = this.span();
      const notes = this.world.get(this.clip).notes
        .filter((n) => n.start_time >= span.start && n.start_time < span.end)
        .map((n) => ({ ...n }));
      this.cycle = {
        span,
        notes: { notes },
        context: {
          clip: this.selection ? {
            time_selection_start: span.start, time_selection_end: span.end,
            first_note_start: notes.length ? notes[0].start_time : span.start,
          } : {},
          scale: { ...this.scale },
          grid: { ...this.grid },
        },
      };
    }
    const cycle = this.cycle;
    cycle.answered = 0;
    this.inCycle = true;
    try {
      this.tool.onContext(structuredClone(cycle.context));
      this.tool.onNotes(structuredClone(cycle.notes));
    } finally {
      this.inCycle = false;
    }
    if (cycle.answered !== 1) {
      this.errors.push('Did not receive a Note dictionary in time. Make sure that the ' +
        'dictionary is synchronous.');
    }
  }

  // [live.miditool.out] receives a note dictionary.
  output(liveNotes) {
    if (!this.inCycle || !this.cycle) {
      this.errors.push('Received a Note dictionary asynchronously. Make sure that the ' +
        'dictionary is synchronous.');
      return;
    }
    for (const note of liveNotes) {
      for (const key of ['pitch', 'start_time', 'duration']) {
        if (note[key] === undefined) {
          this.errors.push('The Note dictionary received from Max was malformed: The key ' +
            `${key} is missing.`);
          return;
        }
      }
    }
    this.cycle.answered += 1;
    const clip = this.world.get(this.clip);
    const { start, end } = this.cycle.span;
    clip.notes = clip.notes.filter((n) => n.start_time < start || n.start_time >= end);
    for (const note of liveNotes) this.world.insertNote(clip, note);
    this.applied += 1;
  }
}

module.exports = { MidiToolHost };
