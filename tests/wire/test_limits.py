"""One table of defaults and limits: the protocol, SamplingOptions, the jam and the status
reply all read wire.limits, and agree at every edge."""

from __future__ import annotations

import json

import pytest

from bridge.jam import JAM_CANDIDATES, JamConfig
from engine.errors import InputError
from engine.sampling import SamplingOptions
from wire.limits import LIMITS, Limits, limits_json
from wire.protocol import EngineSettings, ProtocolError, RequestParams, parse_params

EDGES = [
    ("guidance", LIMITS.guidance.low, LIMITS.guidance.high, 0.01),
    ("steps", LIMITS.steps.low, LIMITS.steps.high, 1),
    ("variations", LIMITS.variations.low, LIMITS.variations.high, 1),
    ("seed", LIMITS.seed.low, LIMITS.seed.high, 1),
    ("density", LIMITS.density.low, LIMITS.density.high, 0.01),
]


@pytest.mark.parametrize(("key", "low", "high", "step"), EDGES, ids=[e[0] for e in EDGES])
def test_protocol_and_sampling_options_agree_at_the_edges(key: str, low: float, high: float,
                                                          step: float) -> None:
    for value in (low, high):
        params = parse_params("generate", json.dumps({key: value}), request_id="r")
        SamplingOptions(**{key: getattr(params, key)})
    for value in (low - step, high + step):
        with pytest.raises(ProtocolError, match=f"'{key}' must be in"):
            parse_params("generate", json.dumps({key: value}), request_id="r")
        with pytest.raises(InputError, match=f"{key} must be in"):
            SamplingOptions(**{key: value})


def test_infill_repeat_agrees_with_sampling_options_at_the_edges() -> None:
    infill = {"bars": [1, 1], "clip_beats": 4}
    for value in (LIMITS.repeat.low, LIMITS.repeat.high):
        params = parse_params("infill", json.dumps({**infill, "repeat": value}), request_id="r")
        SamplingOptions(repeat=params.repeat)
    for value in (LIMITS.repeat.low - 0.01, LIMITS.repeat.high + 0.01):
        with pytest.raises(ProtocolError, match="'repeat' must be in"):
            parse_params("infill", json.dumps({**infill, "repeat": value}), request_id="r")
        with pytest.raises(InputError, match="repeat must be in"):
            SamplingOptions(repeat=value)


def test_every_default_is_the_table_s() -> None:
    options, settings, jam = SamplingOptions(), EngineSettings(), JamConfig()
    assert options.guidance == settings.guidance == jam.guidance == LIMITS.default_guidance
    assert options.steps == settings.steps == LIMITS.default_steps
    assert jam.steps == jam.options.steps == LIMITS.jam_steps
    assert jam.context_bars == LIMITS.default_context_bars
    assert RequestParams().tempo == JamConfig().tempo


def test_the_jam_config_holds_its_sampling_options() -> None:
    jam = JamConfig(guidance=2.5, key="Am", steps=6, seed=3)
    assert jam.options == SamplingOptions(guidance=2.5, key=jam.options.key, steps=6, seed=3,
                                          candidates=JAM_CANDIDATES)
    assert jam.options.key is not None and jam.options.key.name() == "A minor"


def test_limits_travel_as_json() -> None:
    assert Limits.from_json(json.loads(json.dumps(limits_json()))) == LIMITS
    assert limits_json()["max_rolls"] == 64
    assert Limits.from_json({}) == LIMITS  # an older engine that sends none


def test_sampling_options_refuse_more_samples_than_max_rolls_at_the_edge() -> None:
    variations = int(LIMITS.variations.high)
    most = LIMITS.max_rolls // variations  # what the panel's Candidates box offers then
    assert SamplingOptions(variations=variations, candidates=most).candidates == most
    with pytest.raises(InputError, match=f"at most {LIMITS.max_rolls} samples"):
        SamplingOptions(variations=variations, candidates=most + 1)
