import numpy as np
import torch

from engine.diffusion import x0_from_v
from engine.guidance import GuidedDenoiser, InKeyProjection, Inpaint
from engine.model import Conditioning, EncodedConditions
from engine.pianoroll import N_PITCHES, PITCH_LOW
from engine.register import bass_rows, chord_spans


class FakeNet:
    """Returns v = 1 for conditioned examples and v = 0 for unconditioned ones, and
    records the batch sizes it was called with."""

    def __init__(self):
        self.batches = []

    def encode(self, cond, steps):  # what a pass reads: here the chords' presence
        present = cond.chords_present if cond.chords_present is not None else torch.ones(
            cond.task.shape[0])
        return EncodedConditions(present, None, present)

    def __call__(self, x_t, t, cond, encoded):
        self.batches.append(x_t.shape[0])
        return encoded.features[:, None, None, None].expand_as(x_t).clone()


def conds(batch):
    task = torch.zeros(batch, dtype=torch.long)
    chroma = torch.zeros(batch, 16, 12)
    cond = Conditioning(task=task, chroma=chroma, bass=chroma, chords_present=torch.ones(batch))
    uncond = Conditioning(task=task, chroma=chroma, bass=chroma,
                          chords_present=torch.zeros(batch))
    return cond, uncond


def test_scale_one_makes_a_single_conditional_pass():
    net = FakeNet()
    cond, uncond = conds(2)
    x, t = torch.zeros(2, 2, 16, 4), torch.full((2,), 0.5)
    out = GuidedDenoiser(net, cond, uncond, scale=1.0)(x, t)
    assert net.batches == [2]
    torch.testing.assert_close(out, x0_from_v(x, torch.ones_like(x), t).clamp(-1, 1))


def test_guidance_extrapolates_from_unconditional_to_conditional_in_one_batch():
    net = FakeNet()
    cond, uncond = conds(2)
    x, t = torch.zeros(2, 2, 16, 4), torch.full((2,), 0.25)
    out = GuidedDenoiser(net, cond, uncond, scale=0.5)(x, t)
    assert net.batches == [4]  # cond and uncond evaluated together
    # v = 0 + 0.5 * (1 - 0) = 0.5
    torch.testing.assert_close(out, x0_from_v(x, torch.full_like(x, 0.5), t))


def test_guidance_interval_leaves_high_noise_steps_to_the_conditional_pass():
    net = FakeNet()
    cond, uncond = conds(2)
    x = torch.zeros(2, 2, 16, 4)
    high = torch.full((2,), 0.8)
    out = GuidedDenoiser(net, cond, uncond, scale=3.0, below=0.6)(x, high)
    assert net.batches == [2]  # above the interval: one pass, no unconditional branch
    torch.testing.assert_close(out, x0_from_v(x, torch.ones_like(x), high).clamp(-1, 1))
    low = torch.full((2,), 0.4)
    out = GuidedDenoiser(net, cond, uncond, scale=3.0, below=0.6)(x, low)
    assert net.batches[-1] == 4
    # v = 0 + 3 * (1 - 0) = 3 inside the interval
    torch.testing.assert_close(out, x0_from_v(x, torch.full_like(x, 3.0), low).clamp(-1, 1))


def test_guidance_interval_guides_each_example_by_its_own_time():
    net = FakeNet()
    cond, uncond = conds(2)
    x, t = torch.zeros(2, 2, 16, 4), torch.tensor([0.3, 0.9])
    out = GuidedDenoiser(net, cond, uncond, scale=3.0, below=0.6)(x, t)
    v = torch.stack([torch.full((2, 16, 4), 3.0), torch.ones(2, 16, 4)])
    torch.testing.assert_close(out, x0_from_v(x, v, t).clamp(-1, 1))


def test_guidance_interval_with_a_lower_end_guides_only_above_it():
    # (above, below] = (0.7, 1]: the first step of a 4-step grid alone
    net = FakeNet()
    cond, uncond = conds(2)
    x = torch.zeros(2, 2, 16, 4)
    denoiser = GuidedDenoiser(net, cond, uncond, scale=3.0, above=0.7)
    low = torch.full((2,), 0.7)  # at the lower end: outside, one pass
    torch.testing.assert_close(denoiser(x, low),
                               x0_from_v(x, torch.ones_like(x), low).clamp(-1, 1))
    assert net.batches == [2]
    assert not denoiser.guides(low)
    t = torch.tensor([0.5, 1.0])  # each example by its own time
    v = torch.stack([torch.ones(2, 16, 4), torch.full((2, 16, 4), 3.0)])
    torch.testing.assert_close(denoiser(x, t), x0_from_v(x, v, t).clamp(-1, 1))
    assert net.batches[-1] == 4


def test_in_key_projection_silences_every_disallowed_pitch():
    inner = lambda x, t: torch.ones_like(x)  # noqa: E731 - everything sounds
    allowed = torch.zeros(16, 4, dtype=torch.bool)
    allowed[:, 1] = True
    out = InKeyProjection(inner, allowed)(torch.zeros(3, 2, 16, 4), torch.ones(3))
    assert torch.all(out[:, :, :, 1] == 1.0)
    assert torch.all(out[:, :, :, [0, 2, 3]] == -1.0)


def test_inpaint_keeps_known_steps_exactly():
    inner = lambda x, t: torch.zeros_like(x)  # noqa: E731
    known = torch.full((1, 2, 16, 4), -1.0)
    known[0, 0, 2, 3] = 1.0
    mask = torch.zeros(1, 16)
    mask[0, :8] = 1.0
    out = Inpaint(inner, known, mask)(torch.zeros(1, 2, 16, 4), torch.ones(1))
    torch.testing.assert_close(out[:, :, :8], known[:, :, :8])
    assert torch.all(out[:, :, 8:] == 0.0)


def test_binarize_projects_onto_the_two_roll_values():
    from engine.guidance import Binarize

    inner = lambda x, t: torch.tensor([-0.7, -0.01, 0.0, 0.02, 0.9])  # noqa: E731
    out = Binarize(inner)(torch.zeros(5), torch.ones(1))
    assert out.tolist() == [-1.0, -1.0, -1.0, 1.0, 1.0]


def _roll_of(cells: list[tuple[int, int]], steps: int = 32) -> torch.Tensor:
    """x0 (1, 2, steps, P): -1 everywhere, +1 in the sustain channel at (step, pitch)."""
    x0 = torch.full((1, 2, steps, N_PITCHES), -1.0)
    for step, pitch in cells:
        x0[0, 1, step, pitch - PITCH_LOW] = 1.0
    return x0


def _anchor(spans: list[tuple[int, int, tuple[int, ...], int]], steps: int = 32):
    """BassProjection's (rows, span) of ``(start, stop, pitch classes, bass pc)`` chords,
    made as the pipeline makes them (engine.register)."""
    chroma, bass = np.zeros((steps, 12), np.float32), np.zeros((steps, 12), np.float32)
    for start, stop, pcs, low in spans:
        chroma[start:stop, list(pcs)] = 1.0
        bass[start:stop, low] = 1.0
    return torch.from_numpy(bass_rows(bass)), torch.from_numpy(chord_spans(chroma, bass))


def test_bass_projection_silences_what_sounds_below_the_bass_the_sample_places():
    from engine.guidance import BassProjection

    # C major over steps 0-15 (bass C), G major over 16-23 (bass G), no chord from 24
    rows, span = _anchor([(0, 16, (0, 4, 7), 0), (16, 24, (7, 11, 2), 7)])
    cells = [(2, 40), (2, 48), (2, 55),    # E2 under the C3 of the C chord: silenced
             (10, 43), (10, 60),           # G2, still under the span's C3: silenced
             (18, 47), (18, 50),           # B2 and D3 under G: no G sounds, left alone
             (26, 38), (26, 50)]           # no chord: left alone
    x0 = _roll_of(cells)
    mask = torch.zeros(1, 32)
    out = BassProjection(lambda x, t: x0, rows, span, mask)(x0, torch.ones(1))
    sounding = {(s, p + PITCH_LOW) for s, p in (out[0, 1] > 0).nonzero().tolist()}
    assert sounding == set(cells) - {(2, 40), (10, 43)}
    # known steps keep what they hold, whatever sounds above them
    mask[0, :8] = 1.0
    out = BassProjection(lambda x, t: x0, rows, span, mask)(x0, torch.ones(1))
    sounding = {(s, p + PITCH_LOW) for s, p in (out[0, 1] > 0).nonzero().tolist()}
    assert sounding == set(cells) - {(10, 43)}


def test_bass_projection_reads_each_row_of_the_batch_on_its_own():
    from engine.guidance import BassProjection

    rows, span = _anchor([(0, 32, (9, 0, 4), 9)])  # A minor, bass A
    x0 = torch.cat([_roll_of([(0, 48), (4, 57)]),    # C3 under A3: silenced
                    _roll_of([(0, 45), (4, 48)])])   # A2 at the bottom: nothing to do
    out = BassProjection(lambda x, t: x0, rows, span, torch.zeros(2, 32))(x0, torch.ones(2))
    assert (out[0, 1] > 0).nonzero().tolist() == [[4, 57 - PITCH_LOW]]
    torch.testing.assert_close(out[1], x0[1])
