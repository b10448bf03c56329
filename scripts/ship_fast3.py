"""How diffjam-v5-fast3 was shipped (docs/model-card.md, "The first-step round"): its file
from the distillation run's, with the recipe and hardware filled in as the earlier rounds'
were, and the bundled diffjam-v5-fast2 told to hand it infill given chords
(``info["distilled"]["students"]``, engine.checkpoint.task_students), its weights
unchanged (checked).

    python3 scripts/ship_fast3.py runs/refine3/model.safetensors --minutes 18

Superseded by scripts/ship_fast4.py: run again, it would hand infill given chords back to
diffjam-v5-fast3. Its ``ship`` and ``hand_over`` are what the later scripts call.
"""

import argparse
from pathlib import Path

import torch
from safetensors.torch import load_file

from engine.checkpoint import BUNDLED_MODEL, load_model, read_metadata, save_model

FAST2 = BUNDLED_MODEL.parent / "diffjam-v5-fast2.safetensors"
FAST3 = BUNDLED_MODEL.parent / "diffjam-v5-fast3.safetensors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_model", type=Path, help="the round's RUN/model.safetensors")
    parser.add_argument("--minutes", required=True, help="the round's minutes, for the file")
    args = parser.parse_args()

    net, info = load_model(args.run_model)
    table = info["distilled"]
    rnd = table["refined"]
    table["recipe"] += (
        f"; then a first-step round (diffjam-v5-fast3): the student learnt its own 4 steps "
        f"with classifier-free guidance {rnd['guidance']:g} added at its first step alone "
        f"(noise times {rnd['guidance_above']:g} < t <= {rnd['guidance_below']:g}) in infill "
        f"and generation windows, none in accompaniment windows (diffjam-v5-fast2 as its "
        f"teacher, one step each), {rnd['distill_steps']:,} steps x {rnd['batch_size']}, "
        f"AdamW {rnd['lr']:g}, 50 warm-up steps, cosine to {rnd['lr'] / 10:g}, EMA 0.995, "
        f"accompaniment windows 0.5; the engine runs it for infill given chords alone")
    table["hardware"] += (f"; the first-step round: the same CPU, 2 torch threads, "
                          f"{args.minutes} minutes")
    ship(FAST3, args.run_model, net, info, (
        "; infill given chords runs diffjam-v5-fast3 (info['distilled']['students']), "
        "the round after this one, which moved that task into the teacher's intervals "
        "and thinned the rest"))
    return 0


def ship(student: Path, run_model: Path, net: torch.nn.Module, info: dict,
         recipe: str) -> None:
    """Write a round's ``student`` file (the run's network config, ``net``'s weights and
    ``info``) and hand it infill given chords (:func:`hand_over`, ``recipe`` added to
    diffjam-v5-fast2's recipe)."""
    save_model(student, net.state_dict(), read_metadata(run_model)[0], info=info)
    hand_over("infill_chords", student, recipe)


def hand_over(kind: str, student: Path, recipe: str) -> None:
    """Tell the bundled diffjam-v5-fast2 to run ``kind`` requests with ``student`` beside
    it, adding ``recipe`` to its file's recipe (once a kind is handed to that file), and
    check that its weights are unchanged."""
    before = load_file(FAST2)
    net, info = load_model(FAST2)
    table = info["distilled"]
    if table.get("students", {}).get(kind) != student.name:
        table["students"] = {**table.get("students", {}), kind: student.name}
        table["recipe"] += recipe
        save_model(FAST2, net.state_dict(), read_metadata(FAST2)[0], info=info)
    after = load_file(FAST2)
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    print(f"{student.name}: {read_metadata(student)[1]['name']}; {FAST2.name} hands on "
          f"{read_metadata(FAST2)[1]['distilled']['students']}")


if __name__ == "__main__":
    raise SystemExit(main())
