"""The benchmarks' ``--weights LABEL=FILE ...`` option: which models to measure, by label."""

from __future__ import annotations

from pathlib import Path


def parse_weights(specs: list[str] | None) -> dict[str, str | None]:
    """``LABEL=FILE`` or ``FILE`` (labelled by its stem) -> {label: path}; none: the default.

    Example:
        >>> parse_weights(["new=runs/a/best.safetensors", "old.safetensors"])
        {'new': 'runs/a/best.safetensors', 'old': 'old.safetensors'}
        >>> parse_weights([])
        {'default': None}
    """
    if not specs:
        return {"default": None}
    models: dict[str, str | None] = {}
    for spec in specs:
        label, _, path = spec.rpartition("=")
        models[label or Path(path).stem] = path
    return models
