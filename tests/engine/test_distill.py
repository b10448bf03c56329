"""Few-step distillation (engine.distill) and how the pipeline runs a student: the
targets are exact DDIM algebra, a run resumes, the student's file names its teacher, and
the pipeline picks student or teacher per request. Also the model thread."""

import argparse
import dataclasses
import threading
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.bench import default_requests
from engine.cache import build_cache
from engine.checkpoint import read_metadata, stored_digest
from engine.cli import add_commands
from engine.devices import inference_threads
from engine.diffusion import alpha_sigma
from engine.distill import (
    DistillConfig,
    Distiller,
    chord_tone_mask,
    ddim_step,
    student_target,
    teacher_steps,
)
from engine.errors import InputError, ModelFileError
from engine.harmony import parse_key, parse_progression
from engine.model import TASK_ACCOMPANIMENT, TASK_FULL, Conditioning, DenoiserNet
from engine.pianoroll import Note
from engine.pipeline import BarRange, Pipeline, SamplingOptions
from engine.samplers import sample_ddim


@pytest.fixture(scope="module")
def tiny_cache(data_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cache") / "tiny.npz"
    build_cache(data_dir, {"001": "train", "003": "train", "005": "valid"}, out, workers=1)
    return out


def distill_config(cache: Path, teacher: Path, **changes) -> DistillConfig:
    values = dict(cache=str(cache), teacher=str(teacher), batch_size=2, valid_batches=1,
                  log_every=1, valid_every=2, save_every=100, warmup_steps=1)
    return DistillConfig(**{**values, **changes})


def test_the_student_target_lands_one_ddim_step_on_the_teachers_point():
    torch.manual_seed(0)
    x_t, x_s = torch.randn(5, 2, 16, 8), torch.randn(5, 2, 16, 8)
    t = torch.tensor([1.0, 0.75, 0.5, 0.25, 0.9])
    s = torch.tensor([0.75, 0.5, 0.25, 0.0, 0.1])
    v = student_target(x_t, x_s, t, s)
    alpha, sigma = alpha_sigma(t)
    x0 = alpha[:, None, None, None] * x_t - sigma[:, None, None, None] * v
    torch.testing.assert_close(ddim_step(x_t, x0, t, s), x_s, atol=1e-4, rtol=1e-4)


def test_the_per_example_step_is_the_samplers_step():
    torch.manual_seed(1)
    x = torch.randn(3, 2, 16, 8)
    estimates = [torch.randn(3, 2, 16, 8).clamp(-1, 1) for _ in range(3)]
    seen = []

    def denoiser(x_t, t):  # records where the sampler stands at each step
        seen.append(x_t.clone())
        return estimates[len(seen) - 1]

    sample_ddim(denoiser, x, torch.tensor([1.0, 0.6, 0.2, 0.0]))
    step = ddim_step(x, estimates[0], torch.full((3,), 1.0), torch.full((3,), 0.6))
    torch.testing.assert_close(step, seen[1])
    step = ddim_step(step, estimates[1], torch.full((3,), 0.6), torch.full((3,), 0.2))
    torch.testing.assert_close(step, seen[2])


def test_a_run_resumes_and_its_model_file_is_a_student(tiny_cache, tiny_model_file, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    whole = tmp_path / "whole"
    whole.mkdir()
    config = distill_config(tiny_cache, tiny_model_file)
    Distiller(config, whole).run(steps=4)
    first = Distiller(config, run)
    first.run(steps=2)
    second = Distiller(config, run)
    second.load()
    assert second.step == 2
    second.run(steps=4)
    # stopped and continued = never stopped: weights, EMA and optimizer moments
    torch.testing.assert_close(load_file(str(whole / "state.safetensors")),
                               load_file(str(run / "state.safetensors")))
    _, info = read_metadata(run / "model.safetensors")
    table = info["distilled"]
    assert table["teacher"] == tiny_model_file.name
    assert (table["steps"], table["teacher_steps"], table["guidance"]) == (4, 8, 4.0)
    assert table["distill_steps"] == 4
    assert [step for step, _ in second.history["valid"]] == [0, 2, 4]


@pytest.fixture(scope="module")
def student_file(tiny_cache, tiny_model_file, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("student")
    Distiller(distill_config(tiny_cache, tiny_model_file), run).run(steps=1)
    return run / "model.safetensors"


def clip() -> list[Note]:
    return [Note(bar * 16 + beat * 4, p, 4, 90) for bar in range(8) for beat in range(4)
            for p in (48, 52, 55)]


def test_the_pipeline_runs_the_student_at_the_defaults_and_the_teacher_when_asked(
        student_file):
    pipeline = Pipeline.load(student_file, device="cpu")
    assert pipeline.info()["fast"] == {"steps": 4, "guidance": 4.0, "teacher": "tiny-test"}
    chords = parse_progression("C G Am F C G Am F")
    key = parse_key("C")
    fast = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6), chords=chords,
                           options=SamplingOptions(seed=1, key=key))
    assert fast.nfe == 4  # 4 steps, guidance folded in: one pass a step
    high = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6), chords=chords,
                           options=SamplingOptions(seed=1, key=key, quality="high"))
    assert high.nfe == 20  # the teacher: 10 steps, a guided pair each
    other = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6), chords=chords,
                            options=SamplingOptions(seed=1, key=key, guidance=2.0))
    assert other.nfe == 20  # a guidance the student did not learn: the teacher runs it
    outside = sorted(n for n in clip() if not 64 <= n.start < 96)
    assert sorted(n for n in fast.variations[0] if not 64 <= n.start < 96) == outside


def test_without_chords_the_student_draws_two_candidates_and_the_full_model_four(
        student_file):
    pipeline = Pipeline.load(student_file, device="cpu")
    options = SamplingOptions(seed=1, key=parse_key("C"))
    fast = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6), options=options)
    high = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6),
                           options=dataclasses.replace(options, quality="high"))
    # (fewer passes than 4 and 20: the gap starts from the bars the clip repeats)
    assert fast.nfe < high.nfe
    assert fast.candidates == 2  # the student: the faster choice
    assert high.candidates == 4  # the teacher: it misses the top-line target with 2
    assert (pipeline.default_candidates("infill"),
            pipeline.default_candidates("infill", dataclasses.replace(options, quality="high")),
            pipeline.default_candidates("infill", dataclasses.replace(  # at most 16 rolls
                options, quality="high", variations=8))) == (2, 4, 2)
    # the benches' labels say what their requests draw on this model
    assert "8-bar infill without chords (best of 2)" in default_requests(pipeline)
    chords = parse_progression("C G Am F C G Am F")
    # an accompaniment: the student draws 12, the teacher 8 (each of its costs 4x)
    assert pipeline.accompany(chords, n_bars=4, options=options).candidates == 12
    assert pipeline.accompany(chords, n_bars=4, options=dataclasses.replace(
        options, quality="high")).candidates == 8
    assert pipeline.default_candidates("accompany", dataclasses.replace(
        options, variations=2)) == 8  # at most 16 rolls at once


def test_a_student_without_its_teacher_is_a_clear_error(student_file, tmp_path):
    from engine.checkpoint import load_model, save_model

    net, info = load_model(student_file)
    table = {k: v for k, v in info["distilled"].items() if k != "teacher_path"}
    lonely = tmp_path / "student.safetensors"
    save_model(lonely, net.state_dict(), net.config,
               info={**info, "distilled": {**table, "teacher": "absent.safetensors"}},
               dtype=torch.float32)
    with pytest.raises(ModelFileError, match="student of absent.safetensors"):
        Pipeline.load(lonely, device="cpu")


def test_a_student_can_hand_a_request_kind_to_another_student(student_file, tiny_model_file,
                                                              tmp_path):
    # diffjam-v5-fast2 hands infill given chords to diffjam-v5-fast3: here a second student
    # (the first one's weights moved) hands the accompaniment and generation to the first
    import shutil

    from engine.checkpoint import load_model, save_model

    for source in (tiny_model_file, student_file):
        shutil.copy(source, tmp_path / source.name)
    first = tmp_path / student_file.name
    net, info = load_model(student_file)
    torch.manual_seed(0)
    with torch.no_grad():
        for weight in net.parameters():
            weight.add_(0.05 * torch.randn_like(weight))

    def save(name: str, **table) -> Path:
        save_model(tmp_path / name, net.state_dict(), net.config, dtype=torch.float32,
                   info={**info, "name": "second", "distilled": {**info["distilled"], **table}})
        return tmp_path / name

    both = Pipeline.load(save("both.safetensors", students={"accompany": first.name,
                                                            "generate": first.name}),
                         device="cpu")
    alone = Pipeline.load(save("alone.safetensors"), device="cpu")
    before = Pipeline.load(first, device="cpu")
    assert both.info()["fast"]["students"] == {"accompany": before.info()["model"],
                                               "generate": before.info()["model"]}
    # one file for two kinds is loaded once
    assert both.task_students["accompany"][0] is both.task_students["generate"][0]
    chords = parse_progression("C G Am F")

    def accompany(pipeline: Pipeline) -> tuple:
        return pipeline.accompany(chords, n_bars=4, options=SamplingOptions(seed=2)).variations

    def infill(pipeline: Pipeline) -> tuple:
        return pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6), chords=chords,
                               options=SamplingOptions(seed=2)).variations

    assert accompany(alone) != accompany(before)  # the two students differ
    assert accompany(both) == accompany(before)
    assert infill(both) == infill(alone)
    assert both.accompany(chords, n_bars=4, options=SamplingOptions(
        seed=2, quality="high")).nfe > 4  # --quality high: still the teacher
    save("odd.safetensors", students={"melody": first.name})
    with pytest.raises(ModelFileError, match="'melody'"):
        Pipeline.load(tmp_path / "odd.safetensors", device="cpu")
    first.unlink()
    with pytest.raises(ModelFileError, match="accompany requests with the student"):
        Pipeline.load(tmp_path / "both.safetensors", device="cpu")


def test_sampling_runs_on_the_model_thread_with_its_thread_count(tiny_model_file):
    pipeline = Pipeline.load(tiny_model_file, device="cpu", threads=1)
    seen = []

    def progress(_: float) -> None:
        seen.append((threading.current_thread().name, torch.get_num_threads()))

    def request() -> None:
        pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6),
                        options=SamplingOptions(steps=2, seed=0), progress=progress)

    caller = threading.Thread(target=request)
    caller.start()
    caller.join()
    request()  # and from this thread
    assert seen and set(seen) == {("diffjam-model", 1)}


def test_the_thread_policy_leaves_cores_to_the_daw():
    assert inference_threads(cores=1) == 1
    assert inference_threads(cores=2) == 1
    assert inference_threads(cores=8) == 4
    assert inference_threads(cores=64) == 4
    assert inference_threads(3, cores=2) == 3
    with pytest.raises(InputError):
        inference_threads(0)


def test_the_distill_command_is_registered_without_importing_torch_code():
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    args = parser.parse_args(["distill", "--cache", "c.npz", "--run", "r", "--steps", "10"])
    assert (args.student_steps, args.teacher_substeps, args.teacher) == (4, 2, "bundled")


def test_training_and_distillation_start_from_a_students_teacher(student_file,
                                                                  tiny_model_file):
    from engine.checkpoint import full_model_path

    assert full_model_path(student_file) == tiny_model_file
    assert full_model_path(tiny_model_file) == tiny_model_file


def test_a_student_serves_only_the_tasks_its_file_lists(student_file, tmp_path):
    from engine.checkpoint import load_model, save_model

    net, info = load_model(student_file)
    table = {**info["distilled"], "tasks": {"infill": False, "accompany": True,
                                            "generate": True}}
    partial = tmp_path / "partial.safetensors"
    save_model(partial, net.state_dict(), net.config, info={**info, "distilled": table},
               dtype=torch.float32)
    pipeline = Pipeline.load(partial, device="cpu")
    assert pipeline.info()["fast"]["tasks"] == ["accompany", "generate"]
    chords = parse_progression("C G Am F C G Am F")
    options = SamplingOptions(seed=1, key=parse_key("C"))
    infill = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6), chords=chords,
                             options=options)
    assert infill.nfe == 20  # the teacher
    accompany = pipeline.accompany(chords, n_bars=8, options=options)
    assert accompany.nfe == 4  # the student


def test_a_student_can_serve_infill_only_when_the_caller_gives_chords(student_file, tmp_path):
    from engine.checkpoint import load_model, save_model

    net, info = load_model(student_file)
    table = {**info["distilled"], "tasks": {"infill": False, "infill_chords": True,
                                            "accompany": True, "generate": True}}
    partial = tmp_path / "partial.safetensors"
    save_model(partial, net.state_dict(), net.config, info={**info, "distilled": table},
               dtype=torch.float32)
    pipeline = Pipeline.load(partial, device="cpu")
    options = SamplingOptions(seed=1, key=parse_key("C"), repeat=0.0)
    given = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6),
                            chords=parse_progression("C G Am F C G Am F"), options=options)
    assert given.nfe == 4  # the student
    free = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6), options=options)
    assert free.nfe >= 10  # the teacher, its chords recognised from the clip or none
    high = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6),
                           chords=parse_progression("C G Am F C G Am F"),
                           options=dataclasses.replace(options, quality="high"))
    assert high.nfe == 20


def test_a_second_round_starts_the_student_from_a_file_and_records_its_conditions(
        tiny_cache, tiny_model_file, student_file, tmp_path):
    from engine.checkpoint import load_model

    config = distill_config(tiny_cache, tiny_model_file, init_student=str(student_file),
                            rhythm_rate=1.0, density_hints=0.5, accompaniment_rate=0.9)
    (tmp_path / "round2").mkdir()
    distiller = Distiller(config, tmp_path / "round2")
    start, _ = load_model(student_file)
    torch.testing.assert_close(distiller.student.state_dict(), start.state_dict())
    teacher, _ = load_model(tiny_model_file)
    assert any(not torch.equal(a, b) for a, b in zip(
        distiller.student.state_dict().values(), teacher.state_dict().values(), strict=True))
    distiller.run(steps=1)
    table = read_metadata(tmp_path / "round2" / "model.safetensors")[1]["distilled"]
    assert table["init_student"] == student_file.name
    assert table["init_student_sha256"] == stored_digest(student_file) is not None
    assert table["conditions"] == {"accompaniment": 0.9, "rhythm": 1.0, "density_hints": 0.5,
                                   "chords": 0.8, "known": 0.6}
    with pytest.raises(InputError, match="density-hints"):
        distill_config(tiny_cache, tiny_model_file, density_hints=1.5)


def test_the_chord_tone_mask_keeps_accompaniment_windows_to_the_sounding_chord():
    from engine.pianoroll import N_PITCHES, PITCH_LOW

    chroma = torch.zeros(3, 4, 12)
    chroma[:, :2, [0, 4, 7]] = 1.0  # C major on steps 0-1, no chord on 2-3
    bass = torch.zeros(3, 4, 12)
    bass[:, :2, 11] = 1.0  # C/B
    cond = Conditioning(task=torch.tensor([TASK_ACCOMPANIMENT, TASK_ACCOMPANIMENT, TASK_FULL]),
                        chroma=chroma, bass=bass, chords_present=torch.tensor([1.0, 0.0, 1.0]))
    mask = chord_tone_mask(cond)
    assert mask is not None and mask.shape == (3, 4, N_PITCHES)
    c_major_b = {(PITCH_LOW + p) % 12 for p in range(N_PITCHES) if mask[0, 0, p]}
    assert c_major_b == {0, 4, 7, 11}
    assert mask[0, 2:].all()  # no chord sounds
    assert mask[1].all() and mask[2].all()  # chords dropped; an infill window
    assert chord_tone_mask(Conditioning(task=cond.task)) is None


def test_a_chord_tone_teacher_puts_no_onset_outside_the_chord(tiny_model_file):
    from engine.checkpoint import load_model
    from engine.pianoroll import N_PITCHES

    teacher, _ = load_model(tiny_model_file)
    torch.manual_seed(0)
    steps = 16 * teacher.config.window_bars
    chroma = torch.zeros(2, steps, 12)
    chroma[..., [2, 5, 9]] = 1.0  # D minor throughout
    cond = Conditioning(task=torch.full((2,), TASK_ACCOMPANIMENT), chroma=chroma,
                        bass=torch.zeros(2, steps, 12), chords_present=torch.ones(2))
    x_t = torch.randn(2, 2, steps, N_PITCHES)
    t, s = torch.full((2,), 1.0), torch.zeros(2)

    def outside(chord_tones: bool) -> int:
        x_s = teacher_steps(teacher, x_t, t, s, cond, guidance=4.0, substeps=2,
                            chord_tones=chord_tones)
        mask = chord_tone_mask(cond)
        assert mask is not None
        return int(((x_s > 0) & ~mask[:, None]).sum())

    assert outside(False) > 0  # the tiny teacher plays anywhere
    assert outside(True) == 0


def test_a_student_distilled_with_a_guidance_interval_serves_requests_that_leave_it_unset(
        tiny_cache, tiny_model_file, tmp_path):
    config = distill_config(tiny_cache, tiny_model_file, guidance_below=0.6)
    (tmp_path / "interval").mkdir()
    Distiller(config, tmp_path / "interval").run(steps=1)
    student = tmp_path / "interval" / "model.safetensors"
    assert read_metadata(student)[1]["distilled"]["guidance_below"] == 0.6
    assert read_metadata(student)[1]["distilled"]["chord_tones"] is False
    pipeline = Pipeline.load(student, device="cpu")
    chords = parse_progression("C G Am F C G Am F")
    options = SamplingOptions(seed=1, key=parse_key("C"))
    assert pipeline.accompany(chords, n_bars=8, options=options).nfe == 4  # the student
    same = dataclasses.replace(options, guidance_below=0.6)
    assert pipeline.accompany(chords, n_bars=8, options=same).nfe == 4
    # another interval is the teacher's: 10 steps, the pair only at t = 0.4 .. 0.1
    other = dataclasses.replace(options, guidance_below=0.45)
    assert pipeline.accompany(chords, n_bars=8, options=other).nfe == 10 + 4
    # the teacher asked for directly takes its own interval for accompaniment (t <= 0.6:
    # the pair at t = 0.6 .. 0.1) and guides every step elsewhere, unless asked otherwise
    high = dataclasses.replace(options, quality="high")
    assert pipeline.accompany(chords, n_bars=8, options=high).nfe == 6 * 2 + 4
    every = dataclasses.replace(high, guidance_below=1.0)
    assert pipeline.accompany(chords, n_bars=8, options=every).nfe == 20
    assert pipeline.generate(n_bars=8, chords=chords, options=high).nfe == 20
    with pytest.raises(InputError, match="guidance-below"):
        distill_config(tiny_cache, tiny_model_file, guidance_below=0.0)
    with pytest.raises(InputError, match="guidance_below"):
        SamplingOptions(guidance_below=1.5)


def test_a_model_file_can_carry_its_own_default_accompaniment_density(student_file, tmp_path):
    from engine.checkpoint import load_model, save_model

    net, info = load_model(student_file)
    free = tmp_path / "free.safetensors"
    save_model(free, net.state_dict(), net.config, info={**info, "accompany_density": 0.0},
               dtype=torch.float32)
    pipeline = Pipeline.load(free, device="cpu")
    assert pipeline.accompany_density == 0.0
    chords = parse_progression("C G Am F")

    def accompany(density):  # the key's scale: see test_density_reaches_the_model_...
        options = SamplingOptions(seed=1, density=density, allowed="key")
        return pipeline.accompany(chords, n_bars=4, options=options).variations

    assert accompany(None) == accompany(0.0) != accompany(14.0)
    from engine.sampling import DEFAULT_ACCOMPANY_DENSITY

    assert Pipeline.load(student_file, device="cpu").accompany_density == \
        DEFAULT_ACCOMPANY_DENSITY


def chord_windows(model_file: Path, tasks: list[int]
                  ) -> tuple[DenoiserNet, Conditioning, torch.Tensor]:
    """The teacher of ``model_file``, windows of the ``tasks`` under a C major chord
    throughout, and a noisy roll for each (seeded)."""
    from engine.checkpoint import load_model
    from engine.pianoroll import N_PITCHES

    teacher, _ = load_model(model_file)
    torch.manual_seed(3)
    n, steps = len(tasks), 16 * teacher.config.window_bars
    chroma = torch.zeros(n, steps, 12)
    chroma[..., [0, 4, 7]] = 1.0
    cond = Conditioning(task=torch.tensor(tasks), chroma=chroma, bass=torch.zeros(n, steps, 12),
                        chords_present=torch.ones(n))
    return teacher, cond, torch.randn(n, 2, steps, N_PITCHES)


def test_the_accompaniment_windows_can_learn_another_guidance_than_the_rest(tiny_model_file):
    teacher, cond, x_t = chord_windows(tiny_model_file, [TASK_ACCOMPANIMENT, TASK_FULL] * 2)
    t, s = torch.full((4,), 0.5), torch.full((4,), 0.25)

    def run(guidance: float, accompaniment: float | None = None) -> torch.Tensor:
        return teacher_steps(teacher, x_t, t, s, cond, guidance=guidance, substeps=1,
                             accompaniment_guidance=accompaniment)

    mixed, plain, guided = run(2.0, accompaniment=1.0), run(1.0), run(2.0)
    assert not torch.allclose(plain, guided, atol=1e-4)  # the guidance does something
    accompaniment = torch.tensor([True, False, True, False])
    torch.testing.assert_close(mixed[accompaniment], plain[accompaniment], atol=1e-5, rtol=0)
    torch.testing.assert_close(mixed[~accompaniment], guided[~accompaniment], atol=1e-5, rtol=0)
    with pytest.raises(InputError, match="accompaniment-guidance"):
        distill_config(Path("c.npz"), tiny_model_file, accompaniment_guidance=0.5)


def test_the_teacher_can_guide_only_above_a_time(tiny_model_file):
    # --guidance-above 0.8 on a 4-step grid: the first student step (t = 1) alone is guided
    teacher, cond, x_t = chord_windows(tiny_model_file, [TASK_FULL] * 4)
    t, s = torch.tensor([1.0, 0.75, 1.0, 0.5]), torch.tensor([0.75, 0.5, 0.75, 0.25])

    def run(guidance: float, above: float = 0.0) -> torch.Tensor:
        return teacher_steps(teacher, x_t, t, s, cond, guidance=guidance, substeps=1,
                             guidance_above=above)

    first, plain, guided = run(2.0, above=0.8), run(1.0), run(2.0)
    late = t <= 0.8
    assert not torch.allclose(plain[~late], guided[~late], atol=1e-4)
    torch.testing.assert_close(first[late], plain[late], atol=1e-5, rtol=0)
    torch.testing.assert_close(first[~late], guided[~late], atol=1e-5, rtol=0)
    with pytest.raises(InputError, match="guidance-above"):
        distill_config(Path("c.npz"), tiny_model_file, guidance_above=1.0)


def test_a_round_whose_teacher_is_a_student_still_names_the_full_model(
        tiny_cache, tiny_model_file, student_file, tmp_path):
    config = distill_config(tiny_cache, student_file, teacher_substeps=1, guidance=2.0,
                            guidance_below=0.55, accompaniment_guidance=1.0)
    (tmp_path / "refined").mkdir()
    distiller = Distiller(config, tmp_path / "refined")
    distiller.run(steps=1)
    refined = tmp_path / "refined" / "model.safetensors"
    first = read_metadata(student_file)[1]["distilled"]
    table = read_metadata(refined)[1]["distilled"]
    # the engine still loads the full model beside it, at the first round's settings
    assert (table["teacher"], table["steps"], table["guidance"]) == (
        tiny_model_file.name, first["steps"], first["guidance"])
    assert table["refined"]["from"] == student_file.name
    assert (table["refined"]["guidance"], table["refined"]["guidance_below"],
            table["refined"]["guidance_above"],
            table["refined"]["accompaniment_guidance"]) == (2.0, 0.55, 0.0, 1.0)
    assert table["refined"]["distill_steps"] == 1
    # a round started from another file says which
    (tmp_path / "from_file").mkdir()
    Distiller(dataclasses.replace(config, init_student=str(student_file)),
              tmp_path / "from_file").run(steps=1)
    from_file = read_metadata(tmp_path / "from_file" / "model.safetensors")[1]["distilled"][
        "refined"]
    assert from_file["init_student"] == student_file.name
    assert from_file["init_student_sha256"] == stored_digest(student_file) is not None
    assert table["refined"]["init_student_sha256"] is None
    assert read_metadata(refined)[1]["name"] == read_metadata(student_file)[1]["name"] + "2"
    # a round on top of that one: the next name, the earlier round kept under "before",
    # and the kinds its teacher handed to another student served by the new round itself
    from engine.checkpoint import load_model, save_model

    net, info = load_model(refined)
    info["distilled"]["students"] = {"accompany": student_file.name}
    save_model(refined, net.state_dict(), net.config, info=info, dtype=torch.float32)
    (tmp_path / "again").mkdir()
    Distiller(dataclasses.replace(config, teacher=str(refined)), tmp_path / "again").run(steps=1)
    _, again = read_metadata(tmp_path / "again" / "model.safetensors")
    assert again["name"] == read_metadata(student_file)[1]["name"] + "3"
    assert again["distilled"]["teacher"] == tiny_model_file.name
    assert again["distilled"]["refined"]["from"] == refined.name
    assert again["distilled"]["refined"]["before"]["from"] == student_file.name
    assert "students" not in again["distilled"]
    # and serves as a student: the teacher is found beside it
    import shutil
    shutil.copy(tiny_model_file, tmp_path / "refined" / tiny_model_file.name)
    pipeline = Pipeline.load(refined, device="cpu")
    assert pipeline.info()["fast"]["teacher"] == "tiny-test"


def test_a_round_can_draw_only_infill_windows_given_chords(tiny_cache, tiny_model_file,
                                                           tmp_path):
    # the windows of the request kind a task student runs (infill_chords): no
    # accompaniment, every window with its chords and a known part around what it makes
    config = distill_config(tiny_cache, tiny_model_file, accompaniment_rate=0.0,
                            chords_rate=1.0, known_rate=1.0, batch_size=16)
    cond = Distiller(config, tmp_path).sampler.batch(64).cond
    assert bool((cond.task != TASK_ACCOMPANIMENT).all())
    assert bool((cond.chords_present == 1).all()) and bool((cond.known_present == 1).all())
    assert all(0 < float(row.sum()) < len(row) for row in cond.mask)  # a gap, a context
    mixed = Distiller(distill_config(tiny_cache, tiny_model_file, batch_size=16),
                      tmp_path / "mixed").sampler.batch(64).cond
    assert bool((mixed.chords_present == 0).any()) and bool((mixed.known_present == 0).any())
    for name in ("chords_rate", "known_rate"):
        with pytest.raises(InputError, match=name.replace("_", "-")):
            distill_config(tiny_cache, tiny_model_file, **{name: -0.1})


def test_a_round_that_halves_the_steps_is_sampled_at_its_own_steps(
        tiny_cache, tiny_model_file, student_file, tmp_path):
    # a round whose teacher is a 4-step student and whose student takes one step where it
    # took two: the file says 2 steps, and the pipeline samples it in 2 passes
    import shutil

    config = distill_config(tiny_cache, student_file, student_steps=2, teacher_substeps=2,
                            guidance=1.0, accompaniment_rate=0.0, chords_rate=1.0,
                            known_rate=1.0)
    Distiller(config, tmp_path).run(steps=1)
    half = tmp_path / "model.safetensors"
    table = read_metadata(half)[1]["distilled"]
    assert table["steps"] == 2
    assert (table["refined"]["steps"], table["refined"]["teacher_substeps"]) == (2, 2)
    assert table["refined"]["conditions"]["chords"] == 1.0
    assert table["refined"]["init_student"] is None  # from its teacher, the 4-step student
    assert table["teacher"] == tiny_model_file.name  # quality high: still the full model
    shutil.copy(tiny_model_file, tmp_path / tiny_model_file.name)
    pipeline = Pipeline.load(half, device="cpu")
    chords = parse_progression("C G Am F C G Am F")
    fast = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6), chords=chords,
                           options=SamplingOptions(seed=1))
    assert fast.nfe == 2
    outside = sorted(n for n in clip() if not 64 <= n.start < 96)
    assert sorted(n for n in fast.variations[0] if not 64 <= n.start < 96) == outside
    high = pipeline.infill(clip(), n_bars=8, bars=BarRange(4, 6), chords=chords,
                           options=SamplingOptions(seed=1, quality="high"))
    assert high.nfe == 20


def test_batches_made_by_worker_processes_are_the_ones_made_between_steps(
        tiny_cache, tiny_model_file, tmp_path):
    config = distill_config(tiny_cache, tiny_model_file)
    for name in ("here", "ahead"):
        (tmp_path / name).mkdir()
    here = Distiller(config, tmp_path / "here")
    here.run(steps=3)
    ahead = Distiller(config, tmp_path / "ahead", workers=2)
    ahead.run(steps=3)
    torch.testing.assert_close(load_file(str(tmp_path / "here" / "state.safetensors")),
                               load_file(str(tmp_path / "ahead" / "state.safetensors")))
    _, info = read_metadata(tmp_path / "ahead" / "model.safetensors")
    assert info["distilled"]["device"] == "cpu"


def test_a_run_fitted_to_its_minutes_plans_its_schedule_from_its_first_steps(
        tiny_cache, tiny_model_file, tmp_path, monkeypatch, caplog):
    from engine import distill

    clock = iter(range(0, 10_000))  # one second a reading: 1 step/s at most
    monkeypatch.setattr(distill.time, "monotonic", lambda: float(next(clock)))
    monkeypatch.setattr(distill, "FIT_FROM", 1)
    monkeypatch.setattr(distill, "FIT_OVER", 2)
    (tmp_path / "fit").mkdir()
    distiller = Distiller(distill_config(tiny_cache, tiny_model_file, log_every=1000,
                                         valid_every=1000, name="tiny-fast-fitted"),
                          tmp_path / "fit")
    with caplog.at_level("INFO", logger="engine.distill"):
        distiller.run(steps=10_000, minutes=1.0, fit=True)
    planned = [r.getMessage() for r in caplog.records if "the schedule ends" in r.getMessage()]
    assert len(planned) == 1
    assert 3 < distiller.step < 60  # ended by its plan within the minute, not at 10,000
    assert planned[0].endswith(f"at step {distiller.step}")
    _, info = read_metadata(tmp_path / "fit" / "model.safetensors")
    assert info["name"] == "tiny-fast-fitted"


def test_distill_on_a_device_this_machine_lacks_is_a_clear_error(tiny_cache, tiny_model_file,
                                                                 tmp_path, monkeypatch):
    from engine import distill

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    args = parser.parse_args(["distill", "--cache", str(tiny_cache), "--run",
                              str(tmp_path / "r"), "--teacher", str(tiny_model_file),
                              "--steps", "1", "--device", "cuda"])
    with pytest.raises(InputError, match="no CUDA device"):
        distill.run_command(args)


def test_the_bundled_student_hands_infill_given_chords_to_its_later_round():
    # what ships: diffjam-v5-fast2 runs every kind but infill given chords, which its file
    # hands to diffjam-v5-fast5 beside it (docs/model-card.md, "The one-step round")
    pipeline = Pipeline.load(device="cpu", threads=1)
    try:
        assert pipeline.info()["fast"]["students"] == {"infill_chords": "diffjam-v5-fast5"}
        options = SamplingOptions()
        nets = {kind: pipeline._network_for(options, kind)
                for kind in ("infill", "infill_chords", "accompany", "generate")}
        assert nets["infill_chords"][0] is pipeline.task_students["infill_chords"][0]
        assert nets["infill_chords"][1:] == (1, 1.0, 1.0)  # 1 step, guidance folded in
        assert pipeline._network_for(options, "infill")[1] == 4
        assert pipeline.student is not None
        assert all(nets[kind][0] is pipeline.student[0]
                   for kind in ("infill", "accompany", "generate"))
    finally:
        pipeline.close()
