"""How diffjam-v5-fast5 was shipped (docs/model-card.md, "The one-step round"): its file
from the distillation run's, with the recipe and hardware filled in as the earlier rounds'
were, and the bundled diffjam-v5-fast2 told to hand it infill given chords in place of
diffjam-v5-fast4 (``info["distilled"]["students"]``), its weights unchanged (checked).

    python3 scripts/ship_fast5.py step500/model.safetensors --minutes 21 --planned 1000

The shipped file is the round's step-500 save (runs/one/model.safetensors as it was then,
kept aside): by step 1,000 the student wrote 1.33x the real bars' notes (step 500: 1.20x,
the teacher diffjam-v5 1.11x).
"""

import argparse
from pathlib import Path

from ship_fast3 import FAST2, hand_over  # scripts/ is the script's own folder

from engine.checkpoint import load_model, read_metadata, save_model

FAST5 = FAST2.parent / "diffjam-v5-fast5.safetensors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_model", type=Path, help="the round's RUN/model.safetensors")
    parser.add_argument("--minutes", required=True, help="the round's minutes, for the file")
    parser.add_argument("--planned", type=int, required=True,
                        help="the steps the round's learning-rate schedule was planned for")
    args = parser.parse_args()

    net, info = load_model(args.run_model)
    table = info["distilled"]
    rnd = table["refined"]
    if rnd["steps"] != 1 or rnd["teacher_substeps"] != 2 or rnd["from"] != \
            "diffjam-v5-fast4.safetensors" or rnd["init_student"] is not None:
        raise SystemExit(f"{args.run_model} is not the one-step round of diffjam-v5-fast4")
    table["recipe"] += (
        f"; then a one-step round (diffjam-v5-fast5): the student, started from "
        f"diffjam-v5-fast4, learnt to land in one DDIM step from pure noise where "
        f"diffjam-v5-fast4 lands in its two, with classifier-free guidance "
        f"{rnd['guidance']:g} added to the teacher's steps at noise times t <= "
        f"{rnd['guidance_below']:g}, on infill windows given their chords alone (no "
        f"accompaniment windows, chords and a known part in every window), so it samples "
        f"in 1 step; {rnd['distill_steps']:,} steps x {rnd['batch_size']} of a round planned "
        f"for {args.planned:,} (AdamW {rnd['lr']:g}, 50 warm-up steps, cosine to "
        f"{rnd['lr'] / 10:g} over the {args.planned:,}), EMA 0.995: at step {args.planned:,} "
        f"it wrote 1.33x the real notes, at step {rnd['distill_steps']:,} 1.20x; the "
        f"engine runs it for infill given chords alone")
    table["hardware"] += (f"; the one-step round: the same CPU, 1 torch thread, "
                          f"{args.minutes} minutes beside a second run")
    save_model(FAST5, net.state_dict(), read_metadata(args.run_model)[0], info=info)
    hand_over("infill_chords", FAST5, (
        "; since the one-step round, infill given chords runs diffjam-v5-fast5, "
        "diffjam-v5-fast4 distilled into 1 step"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
