"""How diffjam-v5-fast4 was shipped (docs/model-card.md, "The two-step round"): its file
from the distillation run's, with the recipe and hardware filled in as the earlier rounds'
were, and the bundled diffjam-v5-fast2 told to hand it infill given chords in place of
diffjam-v5-fast3 (``info["distilled"]["students"]``), its weights unchanged (checked).

    python3 scripts/ship_fast4.py runs/halfg/model.safetensors --minutes "9 + 43" --init-steps 500

Superseded by scripts/ship_fast5.py: run again, it would hand infill given chords back to
diffjam-v5-fast4, which is in the git history:
``git show 5d31a13:engine/weights/diffjam-v5-fast4.safetensors``.
"""

import argparse
from pathlib import Path

from ship_fast3 import FAST2, ship  # scripts/ is the script's own folder

from engine.checkpoint import load_model

FAST4 = FAST2.parent / "diffjam-v5-fast4.safetensors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_model", type=Path, help="the round's RUN/model.safetensors")
    parser.add_argument("--minutes", required=True, help="the round's minutes, for the file")
    parser.add_argument("--init-steps", type=int, required=True,
                        help="steps of the unguided round the student started from")
    args = parser.parse_args()

    net, info = load_model(args.run_model)
    table = info["distilled"]
    rnd = table["refined"]
    if rnd["steps"] != 2 or rnd["teacher_substeps"] != 2 or rnd["from"] != \
            "diffjam-v5-fast3.safetensors":
        raise SystemExit(f"{args.run_model} is not the two-step round of diffjam-v5-fast3")
    table["recipe"] += (
        f"; then a two-step round (diffjam-v5-fast4): the student learnt to land in one "
        f"DDIM step where diffjam-v5-fast3 lands in two, with classifier-free guidance "
        f"{rnd['guidance']:g} added to the teacher's steps at noise times t <= "
        f"{rnd['guidance_below']:g} (unguided, the same round left the student with 0.85x the "
        f"real notes), on infill windows given their chords alone (no accompaniment "
        f"windows, chords and a known part in every window), so it samples in 2 steps; the "
        f"student started from {args.init_steps} steps of that round unguided (AdamW 2e-4), "
        f"then {rnd['distill_steps']:,} steps x {rnd['batch_size']}, AdamW {rnd['lr']:g}, 50 "
        f"warm-up steps, cosine to {rnd['lr'] / 10:g}, EMA 0.995; the engine runs it for "
        f"infill given chords alone")
    table["hardware"] += (f"; the two-step round: the same CPU, {args.minutes} minutes "
                          f"(the unguided start on 2 torch threads, then 1 torch thread "
                          f"beside a second run)")
    ship(FAST4, args.run_model, net, info, (
        "; since the two-step round, infill given chords runs diffjam-v5-fast4, "
        "diffjam-v5-fast3 distilled into 2 steps"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
