"""``diffjam bench-osc --model``: the same 8-bar infill called directly and through the
OSC server of this process; both paths run the real pipeline and are reported."""

from pathlib import Path

from bridge.serve import measure_model_paths
from tests.engine.conftest import make_tiny_model_file


def test_the_model_bench_times_the_direct_and_the_osc_path(tmp_path: Path) -> None:
    model = make_tiny_model_file(tmp_path / "tiny.safetensors")
    figures = measure_model_paths(str(model), 2, threads=1)
    assert set(figures) == {"direct", "osc"}
    for row in figures.values():
        assert row["n"] == 2
        assert 0 < row["p50_ms"] <= row["p99_ms"]
