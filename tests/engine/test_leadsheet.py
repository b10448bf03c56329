"""The lead-sheet stage: its encoding, its form features, its training batches and files."""

import numpy as np
import pytest
import torch

from engine.errors import ModelFileError
from engine.harmony import ChordSpan, parse_progression
from engine.leadsheet import (
    BASS,
    CHANNELS,
    CHROMA,
    COND_DIM,
    LABELS,
    LeadSheet,
    LeadSheetConfig,
    LeadSheetNet,
    LeadSheetSampler,
    decode_chords,
    decode_melody,
    encode,
    form_features,
    key_shift,
    label_index,
    load_leadsheet,
    save_leadsheet,
)
from engine.leadsheet_train import LeadSheetBatches, loss_on
from engine.pianoroll import STEPS_PER_BAR, Note

TINY = LeadSheetConfig(channels=(16, 32), attention_layers=1, heads=2, emb_dim=32,
                       window_bars=8)


def test_key_shift_moves_the_tonic_to_c_the_short_way():
    assert [key_shift(t) for t in (0, 2, 6, 7, 11)] == [0, -2, 6, 5, 1]
    for tonic in range(12):
        assert (tonic + key_shift(tonic)) % 12 == 0


def test_melody_and_chords_survive_encoding_and_decoding():
    melody = [Note(0, 60, 4, 90), Note(4, 64, 2, 90), Note(8, 67, 8, 90), Note(20, 72, 3, 90)]
    chords = parse_progression("C Am")  # a bar each
    x = encode(melody, chords, 2 * STEPS_PER_BAR)
    assert x.shape == (CHANNELS, 32) and set(np.unique(x)) == {-1.0, 1.0}
    assert [(n.start, n.pitch, n.duration) for n in decode_melody(x)] == \
        [(n.start, n.pitch, n.duration) for n in melody]
    decoded = decode_chords(x)
    assert [(s.start, s.duration, s.chord) for s in decoded] == \
        [(s.start, s.duration, s.chord) for s in chords]


def test_encoding_transposes_and_folds_into_the_melody_range():
    x = encode([Note(0, 100, 2, 90)], [ChordSpan(0, 16, parse_progression("D")[0].chord)],
               16, shift=-2)
    (pitch,) = [n.pitch for n in decode_melody(x)]
    assert pitch == 98 - 12 * ((98 - 95 + 11) // 12) and 48 <= pitch < 96
    assert x[CHROMA + 0, 0] == 1.0 and x[CHROMA + 4, 0] == 1.0  # D major -> C major
    assert x[BASS + 0, 0] == 1.0


def test_overlapping_melody_notes_become_one_line():
    x = encode([Note(0, 60, 8, 90), Note(4, 67, 8, 90)], [], 16)
    assert [(n.start, n.pitch, n.duration) for n in decode_melody(x)] == \
        [(0, 60, 4), (4, 67, 8)]


def test_form_features_label_every_step_and_drop_the_form_on_request():
    phrases = [(0, 2, "i"), (2, 4, "A"), (6, 2, "Q")]
    f = form_features(phrases, 8, minor=True)
    assert f.shape == (COND_DIM, 8 * STEPS_PER_BAR)
    labels = f[:len(LABELS)].argmax(axis=0)
    assert labels[0] == LABELS.index("i") and labels[2 * 16] == LABELS.index("A")
    assert labels[7 * 16] == label_index("Q") == LABELS.index("X")
    n = len(LABELS)
    assert f[n, 2 * 16] == 0.0 and f[n, 6 * 16 - 1] == pytest.approx(63 / 64)
    assert f[n + 5].min() == 1.0  # minor
    plain = form_features(phrases, 8, minor=True, use_form=False)
    assert (plain[0] == 1.0).all() and not plain[1:n + 4].any()
    assert np.array_equal(plain[n + 4:], f[n + 4:])  # song place, mode, metre stay


def _sheet(n_bars, seed):
    rng = np.random.default_rng(seed)
    melody = [Note(int(s), int(rng.integers(60, 80)), 2, 90)
              for s in range(0, n_bars * 16, 4)]
    chords = parse_progression("C G Am F")
    spans = [ChordSpan(s.start + 64 * k, s.duration, s.chord)
             for k in range(n_bars // 4) for s in chords]
    x = encode(melody, spans, n_bars * 16)
    return LeadSheet(x=x, phrases=((0, 4, "A"), (4, 4, "B"), (8, n_bars - 8, "A")),
                     minor=False)


def test_batches_cut_windows_with_their_conditions():
    batches = LeadSheetBatches([_sheet(16, 0), _sheet(12, 1)], window_bars=8, seed=0)
    batch = batches.batch(32)
    assert batch["x0"].shape == (32, CHANNELS, 128)
    assert batch["form"].shape == (32, COND_DIM, 128)
    assert batch["masks"].shape == (32, 2, 128)
    masks = batch["masks"].numpy()
    assert masks.max() == 1.0 and masks.min() == 0.0
    assert (masks[:, 1] == 1.0).all(axis=1).any()  # some examples are given their chords
    net = LeadSheetNet(TINY)
    loss = loss_on(net, batch, torch.Generator().manual_seed(0))
    assert torch.isfinite(loss) and loss.item() > 0


def test_a_model_file_round_trips_and_a_wrong_file_is_refused(tmp_path):
    net = LeadSheetNet(TINY)
    path = save_leadsheet(tmp_path / "ls.safetensors", net, {"steps": 3})
    loaded, info = load_leadsheet(path)
    assert info == {"steps": 3} and loaded.config == TINY
    for a, b in zip(net.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.allclose(a.half().float(), b)
    (tmp_path / "bad.safetensors").write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        load_leadsheet(tmp_path / "bad.safetensors")


def test_the_sampler_keeps_known_parts_and_starts_from_a_draft():
    net = LeadSheetNet(TINY).eval()
    sampler = LeadSheetSampler(net, torch.device("cpu"))
    sheet = _sheet(8, 2)
    masks = np.zeros((2, 128), dtype=np.float32)
    masks[1] = 1.0  # chords given
    masks[0, :32] = 1.0  # the first two bars of melody given
    form = form_features(sheet.phrases, 8, minor=False)
    x0 = sampler.sample(known=sheet.x, masks=masks, form=form, steps=3,
                        generator=torch.Generator().manual_seed(0))
    assert np.array_equal(x0[96:], sheet.x[96:])
    assert np.array_equal(x0[:96, :32], sheet.x[:96, :32])
    draft = sampler.sample(known=sheet.x, masks=np.zeros_like(masks), form=form, steps=3,
                           generator=torch.Generator().manual_seed(0), start=sheet.x,
                           strength=1.0)
    assert np.array_equal(np.sign(draft), sheet.x)  # strength 1: the draft itself


def test_chords_are_decided_per_half_bar_by_default():
    chords = [ChordSpan(0, 4, parse_progression("C")[0].chord),
              ChordSpan(4, 12, parse_progression("F")[0].chord)]
    x = encode([], chords, 16)
    assert [s.start for s in decode_chords(x)] == [0, 8]
    assert [s.start for s in decode_chords(x, unit=4)] == [0, 4]


def test_the_pitch_stem_shares_its_weights_across_pitches_and_round_trips(tmp_path):
    config = LeadSheetConfig(channels=(16, 32), attention_layers=1, heads=2, emb_dim=32,
                             window_bars=8, stem_channels=4)
    net = LeadSheetNet(config)
    with torch.no_grad():  # wake the zero-initialised head so the stem shows in the output
        torch.nn.init.normal_(net.stem_head.weight)
    x = torch.randn(2, CHANNELS, 32)
    masks = torch.zeros(2, 2, 32)
    form = torch.zeros(2, COND_DIM, 32)
    t = torch.full((2,), 0.5)
    out = net(x, t, torch.zeros_like(x), masks, form)
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert sum(p.numel() for p in net.stem_head.parameters()) == 2 * 4 * 9 + 2
    path = save_leadsheet(tmp_path / "stem.safetensors", net)
    loaded, _ = load_leadsheet(path)
    assert loaded.config.stem_channels == 4
    assert torch.allclose(loaded(x, t, torch.zeros_like(x), masks, form),
                          net.half().float()(x, t, torch.zeros_like(x), masks, form), atol=1e-4)
