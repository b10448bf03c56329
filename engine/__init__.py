"""diffjam engine: piano-roll diffusion models, data and sampling (no bridge or GUI code)."""

__version__ = "0.1.0"
