"""How diffjam-v5-fast5 was shipped (docs/model-card.md, "The one-step round"): its file
from the distillation run's, with the recipe and hardware filled in as the earlier rounds'
were, and the bundled diffjam-v5-fast2 told to hand it infill given chords in place of
diffjam-v5-fast4 (``info["distilled"]["students"]``), its weights unchanged (checked).

The round ran in two parts, both with diffjam-v5-fast4 as the teacher: 500 steps with
guidance 2 added to the teacher's second step, of a run planned for 1,000 (its step-500
save kept aside: by step 1,000 the student wrote 1.33x the real bars' notes, at step 500
1.20x, the teacher diffjam-v5 1.11x), then 250 steps from that save with guidance 1.5 at
half the learning rate. The second part's run names the first part's file only by its
name (``init_student``), so this script writes the first part's table into the file too
(``refined["init_round"]``).

    python3 scripts/ship_fast5.py runs/onef/model.safetensors \\
        --init-model step500/model.safetensors --minutes "21 + 10" --planned 1000
"""

import argparse
from pathlib import Path

from ship_fast3 import FAST2, ship  # scripts/ is the script's own folder

from engine.checkpoint import load_model, read_metadata

FAST5 = FAST2.parent / "diffjam-v5-fast5.safetensors"
TEACHER = "diffjam-v5-fast4.safetensors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_model", type=Path, help="the second part's RUN/model.safetensors")
    parser.add_argument("--init-model", type=Path, required=True,
                        help="the first part's save the second part started from")
    parser.add_argument("--minutes", required=True, help="the round's minutes, for the file")
    parser.add_argument("--planned", type=int, required=True,
                        help="the steps the first part's learning-rate schedule was planned for")
    args = parser.parse_args()

    net, info = load_model(args.run_model)
    table = info["distilled"]
    rnd = table["refined"]
    first = read_metadata(args.init_model)[1]["distilled"]["refined"]
    for part, started in ((first, False), (rnd, True)):
        if part["steps"] != 1 or part["teacher_substeps"] != 2 or part["from"] != TEACHER \
                or (part["init_student"] is not None) != started:
            raise SystemExit(f"{args.run_model} and {args.init_model} are not the two parts "
                             f"of the one-step round of diffjam-v5-fast4")
    rnd["init_round"] = {key: value for key, value in first.items() if key != "before"}
    table["recipe"] += (
        f"; then a one-step round (diffjam-v5-fast5): the student, started from "
        f"diffjam-v5-fast4, learnt to land in one DDIM step from pure noise where "
        f"diffjam-v5-fast4 lands in its two, on infill windows given their chords alone (no "
        f"accompaniment windows, chords and a known part in every window), so it samples "
        f"in 1 step: {first['distill_steps']:,} steps x {first['batch_size']} with "
        f"classifier-free guidance {first['guidance']:g} added to the teacher's steps at "
        f"noise times t <= {first['guidance_below']:g}, of a run planned for "
        f"{args.planned:,} (AdamW {first['lr']:g}, 50 warm-up steps, cosine to "
        f"{first['lr'] / 10:g} over the {args.planned:,}; at its end the student wrote 1.33x "
        f"the real notes, at step {first['distill_steps']:,} 1.20x), then "
        f"{rnd['distill_steps']:,} steps x {rnd['batch_size']} from that step's save with "
        f"guidance {rnd['guidance']:g} at t <= {rnd['guidance_below']:g} (AdamW "
        f"{rnd['lr']:g}, 50 warm-up steps, cosine to {rnd['lr'] / 10:g}), EMA 0.995 "
        f"throughout; the engine runs it for infill given chords alone")
    table["hardware"] += (f"; the one-step round: the same CPU, 1 torch thread, "
                          f"{args.minutes} minutes (the first part beside a second run)")
    ship(FAST5, args.run_model, net, info, (
        "; since the one-step round, infill given chords runs diffjam-v5-fast5, "
        "diffjam-v5-fast4 distilled into 1 step"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
