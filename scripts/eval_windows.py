"""`diffjam eval` with the pipeline's window policy overridden: the long-clip study of
docs/model-card.md ("Long clips"). The policy's constants live in engine.pipeline;
this sets them for one run, from the environment, then runs the command unchanged:

    ACC_WINDOW=8 ACC_OVERLAP=2 python3 scripts/eval_windows.py eval --task accompany \
        --window-bars 32 --data ../shared/data --songs ../shared/data/splits/split.txt \
        --subset valid --cache cache/pop909.npz --systems model --out acc-w8-o2.json
    INFILL_WINDOW=12 python3 scripts/eval_windows.py eval --task infill --window-bars 32 \
        --gap-bars 16 ...

ACC_WINDOW: bars of an accompaniment window (the network's 8 by default);
ACC_OVERLAP / INFILL_OVERLAP: bars a window shares with the one before;
INFILL_WINDOW: bars of every infill window (default: engine.pipeline's choice by gap).
"""

import os
import sys
from typing import Any

import engine.pipeline as pipeline
from diffjam.cli import main


def _override() -> None:
    if "ACC_OVERLAP" in os.environ:
        pipeline.ACCOMPANY_OVERLAP_BARS = int(os.environ["ACC_OVERLAP"])
    if "INFILL_OVERLAP" in os.environ:
        pipeline.OVERLAP_BARS = int(os.environ["INFILL_OVERLAP"])
    if "INFILL_WINDOW" in os.environ:
        infill_bars = int(os.environ["INFILL_WINDOW"])
        pipeline.Pipeline._infill_window = staticmethod(  # type: ignore[method-assign]
            lambda gap_bars: infill_bars)
    if "ACC_WINDOW" in os.environ:
        window_bars = int(os.environ["ACC_WINDOW"])
        load = pipeline.Pipeline.load.__func__  # type: ignore[attr-defined]

        def load_with_window(cls: Any, *args: Any, **kwargs: Any) -> Any:
            loaded = load(cls, *args, **kwargs)
            loaded.window_bars = window_bars
            return loaded

        pipeline.Pipeline.load = classmethod(load_with_window)  # type: ignore[method-assign]


if __name__ == "__main__":
    _override()
    sys.exit(main(sys.argv[1:]))
