"""``lowlight train``: staged training on a folder of low/ + high/ pairs, or fine-tuning on a
folder of photos without targets (``--unpaired``)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lowlight.errors import LowlightError
from lowlight.training.config import load_config

__all__ = ["register"]


def _stage_epochs(text: str) -> tuple[int, int, int]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected three integers like 12,6,4, got {text!r}"
        ) from None
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"expected three integers like 12,6,4, got {text!r}")
    return values  # type: ignore[return-value]


def _split_epochs(total: int, stage_epochs: tuple[int, int, int]) -> tuple[int, int, int]:
    """Spread ``total`` epochs over the stages in the proportions of ``stage_epochs``."""
    if total <= 0:
        raise LowlightError(f"--epochs must be positive, got {total}")
    weights = sum(stage_epochs)
    first = round(total * stage_epochs[0] / weights)
    second = round(total * (stage_epochs[0] + stage_epochs[1]) / weights) - first
    return first, second, total - first - second


def _extend_last_stage(total: int, stage_epochs: tuple[int, int, int]) -> tuple[int, int, int]:
    """A resumed run given ``total`` epochs: the stages already planned stay, the last grows."""
    extra = total - sum(stage_epochs)
    if extra < 0:
        raise LowlightError(
            f"--epochs {total} is fewer than the run's {sum(stage_epochs)} planned epochs"
        )
    return stage_epochs[0], stage_epochs[1], stage_epochs[2] + extra


def _stopped(run_dir: Path, reason: str) -> str:
    """The one-line report of a run stopped by ``reason``, and how to go on."""
    from lowlight.training.checkpoint import LAST

    message = f"training stopped: {reason}"
    if (run_dir / LAST).is_file():
        message += f"; {run_dir / LAST} holds the last complete epoch: fix this, then --resume"
    return message


_DESCRIPTION = (
    "Three-stage training on DIR/low and DIR/high image pairs, or with --unpaired DIR "
    "fine-tuning of a trained model (the shipped one by default) on the photos in DIR, with "
    "zero-reference losses and distillation toward the starting model. Every option can also "
    "be set in a YAML --config file; the command line wins."
)

# Options that set the training config's field of the same name: (flag, type, help).
_CONFIG_OPTIONS = (
    ("--out", str, "run folder for config, metrics.csv, last.pt, best.safetensors"),
    (
        "--val-data",
        str,
        "separate validation folder: low/ and high/ pairs, or photos scored without "
        "references (default: a split of the training data)",
    ),
    (
        "--stage-epochs",
        _stage_epochs,
        "epochs of stages 1,2,3, e.g. 12,6,4 (on --resume: re-plans untrained epochs)",
    ),
    ("--image-size", int, "training crop size (default 512; 256 with --unpaired)"),
    (
        "--downscale",
        int,
        "train on every N-th pixel of each pair (default 1; validation is full size)",
    ),
    ("--batch-size", int, "crops per step (default 8; 4 with --unpaired)"),
    ("--seed", int, "seed for initialisation, split and crops"),
    ("--device", str, "cpu, cuda or cuda:N (mixed precision on CUDA)"),
    ("--threads", int, "CPU threads (default: all cores)"),
    (
        "--init-weights",
        str,
        "start from these safetensors weights, e.g. to fine-tune a model (with --unpaired: "
        "the shipped model by default)",
    ),
    (
        "--ema-decay",
        float,
        "validate and keep a moving average of the weights, e.g. 0.999 (default: off)",
    ),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``lowlight train`` (training) to the CLI's subparsers, handled by ``run``."""
    summary = "train an enhancer on paired images, or fine-tune it on photos without targets"
    parser = subparsers.add_parser("train", help=summary, description=_DESCRIPTION)
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--data", help="folder with low/ and high/ images sharing file names")
    unpaired = "fine-tune on the photos in DIR (searched recursively), which have no targets"
    data.add_argument("--unpaired", metavar="DIR", help=unpaired)
    for flag, kind, text in _CONFIG_OPTIONS:
        parser.add_argument(flag, type=kind, help=text)
    parser.add_argument("--config", help="YAML file of training options")
    parser.add_argument(
        "--epochs", type=int, help="total epochs, spread over the stages in proportion"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from last.pt"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lowlight.training.trainer import Trainer
    from lowlight.training.unpaired_trainer import UnpairedTrainer

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    overrides = {
        flag[2:].replace("-", "_"): getattr(args, flag[2:].replace("-", "_"))
        for flag, _, _ in _CONFIG_OPTIONS
    }
    overrides["data"] = args.data or args.unpaired
    overrides["unpaired"] = True if args.unpaired else None
    saved = Path(args.out) / "config.yaml" if args.resume and args.out else None
    base = saved if saved is not None and saved.exists() else None
    config = load_config(args.config, base=base, **overrides)
    if args.epochs is not None:
        if args.stage_epochs is not None and sum(args.stage_epochs) != args.epochs:
            raise LowlightError("--epochs and --stage-epochs disagree; give one of them")
        if args.resume:
            config.stage_epochs = _extend_last_stage(args.epochs, config.stage_epochs)
        else:
            config.stage_epochs = _split_epochs(args.epochs, config.stage_epochs)
    run_dir = Path(config.out)
    trainer = None
    try:
        trainer = (UnpairedTrainer if config.unpaired else Trainer)(config, resume=args.resume)
        rows = trainer.fit()
    except OSError as exc:  # a full disk, a run folder gone or read-only: say so, no traceback
        reason = f"{exc.filename or run_dir}: {exc.strerror or exc}"
        raise LowlightError(_stopped(run_dir, reason)) from exc
    except LowlightError as exc:
        if trainer is None:  # the run could not start (data, run folder, weights): as it is
            raise
        raise LowlightError(_stopped(run_dir, str(exc))) from exc  # e.g. a full disk
    best = trainer.best_row()
    kept = f"epoch {best['epoch']}: {trainer.validation.summary(best)}" if best else "none"
    print(f"done: {len(rows)} epochs in {config.out}; best.safetensors from {kept}")
    return 0
