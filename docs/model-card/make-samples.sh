#!/usr/bin/env bash
# Regenerate the sample MIDI files of the model card with the bundled model (CPU is fine).
# Inputs: bars 17-24 of POP909 song 006 (valid split, never trained on).
set -euo pipefail
cd "$(dirname "$0")"
DIFFJAM=${DIFFJAM:-diffjam}
CHORDS_006="Fm Gm | Ab Bb | Cm Abmaj7 | Bb6 Gm | Cm Abmaj7 | Bb6 Gm | Cm Abmaj7 | Bb6 Gm"
$DIFFJAM infill input-006-bars17-24.mid --bars 3-6 --chords "$CHORDS_006" --seed 1 \
    -o sample-infill-006-bars3-6.mid --force
# the usual case: no chords given (the engine carries the context's chords into the gap)
$DIFFJAM infill input-006-bars17-24.mid --bars 3-6 --seed 1 \
    -o sample-infill-006-bars3-6-no-chords.mid --force
$DIFFJAM accompany --chords "$CHORDS_006" --melody input-006-melody.mid --bars 8 --seed 1 \
    -o sample-accompany-006.mid --force
$DIFFJAM accompany --chords "C G Am F" --bars 8 --seed 1 -o sample-accompany-C-G-Am-F.mid --force
$DIFFJAM generate --bars 8 --chords "Am F C G" --seed 1 -o sample-generate-Am-F-C-G.mid --force
$DIFFJAM generate --bars 8 --seed 2 -o sample-generate-free.mid --force
# piano rolls of the input and the results, the regenerated bars shaded
$DIFFJAM roll-image input-006-bars17-24.mid --bars 3-6 --title "input (real bars 3-6)" \
    --out input-006-bars17-24.svg
for name in sample-infill-006-bars3-6 sample-infill-006-bars3-6-no-chords; do
    $DIFFJAM roll-image "$name.mid" --bars 3-6 --title "$name" --out "$name.svg"
done
$DIFFJAM roll-image sample-accompany-006.mid --title "accompaniment under the melody" \
    --out sample-accompany-006.svg
# a whole song from a form (the lead-sheet model, then the accompaniment model)
$DIFFJAM song --form i4A8B8A8o4 --key "A minor" --tempo 96 --seed 7 -o sample-song-i4A8B8A8o4.mid --force
$DIFFJAM roll-image sample-song-i4A8B8A8o4.mid --title "song i4A8B8A8o4 (melody, chords, accompaniment)" \
    --out sample-song-i4A8B8A8o4.svg
