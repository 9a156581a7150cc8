"""The staged trainer: three stages, mask unfreeze, clipping, NaN guards, validation, resume."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from lowlight.data import (
    ImagePair,
    PairedCropDataset,
    PairedImageDataset,
    find_pairs,
    split_by_scene,
)
from lowlight.errors import LowlightError
from lowlight.imageio.atomic import atomic_write_text
from lowlight.metrics import score_image
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.training.checkpoint import LAST, PREVIOUS, load_checkpoint, save_checkpoint
from lowlight.training.config import TrainConfig
from lowlight.training.distributed import init_distributed
from lowlight.training.ema import WeightAverage
from lowlight.training.loss_weights import COLOR_THRESHOLDS, stage_loss_weights
from lowlight.training.objective import TrainingObjective
from lowlight.training.schedule import cosine_with_warmup, stage_of_epoch
from lowlight.weights import load_model, save_weights

__all__ = ["Trainer", "StepResult"]

log = logging.getLogger("lowlight.train")

DECAYED_GROUPS = ("decoder", "curve")


@dataclass
class StepResult:
    """One optimisation step: the loss, its terms, the pre-clip gradient norm, whether skipped."""

    loss: float
    terms: dict[str, float]
    grad_norm: float
    skipped: bool


class Trainer:
    """Runs (or resumes) a staged training run in ``config.out``.

    Stage 1 trains everything but the mask predictor, which stays frozen. At the first epoch
    of stage 2, and again at each later stage, the mask predictor is unfrozen once and its
    learning rate set to the absolute ``lr_mask``. The decoder and curve groups follow a
    warm-up + cosine curve over the whole run; the mask and colour ("other") groups keep
    their absolute rates. Every step clips the global gradient norm to ``grad_clip_norm``;
    a batch whose loss or gradients are not finite is skipped and counted. With ``ema_decay``
    the run also keeps a ``WeightAverage`` of the weights, updated after every step; it is what
    validation scores and what ``best.safetensors`` holds.

    Under ``torchrun`` each process trains on its shard of every epoch through
    DistributedDataParallel (``batch_size`` crops per process, so the global batch is
    ``batch_size x world size``); a batch skipped on one rank is skipped on all, validation
    metrics are reduced across ranks, and only rank 0 writes logs, checkpoints and progress.
    """

    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        self.config = config
        self.run_dir = Path(config.out)
        self.dist = init_distributed(config.device)
        self.device = self.dist.device(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        if not self.dist.is_main:
            log.setLevel(logging.WARNING)
        self._check_run_dir(resume)
        # Every input (data, weights files, model) is checked before the run folder is
        # created, so that a mistake in one leaves nothing behind.
        pairs, val_pairs = self._find_pairs()
        torch.manual_seed(config.seed)
        random.seed(config.seed)
        self.model = self._initial_model(resume).to(self.device)
        self.forward_model: torch.nn.Module = self.model
        self.objective = TrainingObjective(config.perceptual_weights).to(self.device)
        if self.dist.is_main:
            self._create_run_dir()
        self.dist.barrier()
        self.optimizer = torch.optim.AdamW(self._param_groups(), weight_decay=config.weight_decay)
        self.optimizer.register_step_post_hook(lambda *_: self.model.clamp_parameters_())
        self.average = (
            WeightAverage(self.model, config.ema_decay) if config.ema_decay is not None else None
        )
        self.epoch = 0
        self.global_step = 0
        self.best_psnr = -math.inf
        self.current_stage = 0
        self._mask_unfrozen = False
        self.rows: list[dict] = []
        self._set_mask_trainable(False)
        self.train_data, self.val_data = self._load_data(resume, pairs, val_pairs)
        self.sampler = (
            DistributedSampler(self.train_data, self.dist.world_size, self.dist.rank, shuffle=False)
            if self.dist.enabled
            else None
        )
        self.loader = DataLoader(
            self.train_data,
            batch_size=config.batch_size,
            shuffle=False,
            sampler=self.sampler,
            drop_last=len(self.train_data) >= config.batch_size * self.dist.world_size,
            num_workers=config.num_workers,
        )
        self.iterations_per_epoch = len(self.loader)
        if config.image_size == 0 and config.batch_size > 1 and len(self.train_data.sizes) > 1:
            raise LowlightError(
                "whole-image training (image_size 0) with batch_size > 1 needs images of one "
                f"size, found {len(self.train_data.sizes)} sizes; use batch_size 1 or crops"
            )
        if resume:
            self._restore(load_checkpoint(self.run_dir))

    # ----------------------------------------------------------------- set-up
    def _check_run_dir(self, resume: bool) -> None:
        """Refuse to resume nothing, or to start a new run over an old one."""
        if resume and not (self.run_dir / LAST).exists() and not (self.run_dir / PREVIOUS).exists():
            raise LowlightError(f"nothing to resume in {self.run_dir} (no {LAST})")
        if not resume and (self.run_dir / LAST).exists():
            raise LowlightError(
                f"{self.run_dir} already holds a run; pass --resume to continue it "
                "or choose another --out"
            )

    def _create_run_dir(self) -> None:
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            probe = self.run_dir / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise LowlightError(
                f"cannot write to run folder {self.run_dir}: {exc.strerror}"
            ) from exc

    def _initial_model(self, resume: bool) -> UnifiedLowLightEnhancer:
        """A fresh enhancer, or the one in ``init_weights`` (its architecture wins).

        On resume only the architecture is taken from ``init_weights``: the checkpoint then
        replaces the weights.
        """
        if self.config.init_weights is None:
            try:
                return UnifiedLowLightEnhancer(**self.config.model)
            except (TypeError, ValueError) as exc:
                raise LowlightError(
                    f"config 'model' {self.config.model} cannot build the enhancer: {exc}"
                ) from exc
        model = load_model(self.config.init_weights).train()
        self.config.model = dict(model.config)
        if resume:
            log.info("architecture from %s, weights from the checkpoint", self.config.init_weights)
        else:
            log.info("initialised from %s", self.config.init_weights)
        return model

    def _param_groups(self) -> list[dict]:
        model, cfg = self.model, self.config
        other = [*model.colour_affine.parameters(), *model.colour_correction.parameters()]
        return [
            {"name": "decoder", "params": list(model.decoder.parameters()), "lr": cfg.lr_decoder},
            {
                "name": "curve",
                "params": list(model.curve_estimator.parameters()),
                "lr": cfg.lr_curve,
            },
            {"name": "mask", "params": list(model.mask_predictor.parameters()), "lr": cfg.lr_mask},
            {"name": "other", "params": other, "lr": cfg.lr_other},
        ]

    @property
    def kept_model(self) -> UnifiedLowLightEnhancer:
        """The weights validation scores and ``best.safetensors`` keeps: the average, if any."""
        return self.average.model if self.average is not None else self.model

    def _group(self, name: str) -> dict:
        return next(g for g in self.optimizer.param_groups if g["name"] == name)

    def _find_pairs(self) -> tuple[list[ImagePair], list[ImagePair] | None]:
        """The pairs of ``data``, and of ``val_data`` (None when validation is split off)."""
        pairs = find_pairs(self.config.data)
        val_pairs = find_pairs(self.config.val_data) if self.config.val_data else None
        return pairs, val_pairs

    def _load_data(
        self, resume: bool, pairs: list[ImagePair], val_pairs: list[ImagePair] | None
    ) -> tuple[PairedCropDataset, PairedImageDataset]:
        cfg = self.config
        split_file = self.run_dir / "split.json"
        if val_pairs is not None:
            train_pairs = pairs
        elif resume and split_file.exists():
            names = json.loads(split_file.read_text())
            val_names = set(names["val"])
            train_pairs = [p for p in pairs if p.name not in val_names]
            val_pairs = [p for p in pairs if p.name in val_names]
        else:
            train_pairs, val_pairs = split_by_scene(pairs, cfg.val_fraction, cfg.seed)
        if not resume and self.dist.is_main:
            split = {"train": [p.name for p in train_pairs], "val": [p.name for p in val_pairs]}
            atomic_write_text(split_file, json.dumps(split, indent=1))
        if cfg.max_val_images is not None:
            val_pairs = val_pairs[: cfg.max_val_images]
        log.info("data: %d training pairs, %d validation pairs", len(train_pairs), len(val_pairs))
        return (
            PairedCropDataset(train_pairs, cfg.image_size, cfg.samples_per_epoch, cfg.downscale),
            PairedImageDataset(val_pairs),
        )

    def _restore(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = state["epoch"]
        self.global_step = state["global_step"]
        self.best_psnr = state["best_psnr"]
        self.current_stage = state["stage"]
        self._mask_unfrozen = state["mask_unfrozen"]
        if self.average is not None:
            if "average" in state:
                self.average.load_state_dict(state["average"])
            else:
                self.average = WeightAverage(self.model, self.config.ema_decay)
        self.rows = list(state["rows"])
        for row in self.rows:
            planned, _ = stage_of_epoch(row["epoch"] - 1, self.config.stage_epochs)
            if planned != row["stage"]:
                raise LowlightError(
                    f"stage_epochs {list(self.config.stage_epochs)} would put the finished "
                    f"epoch {row['epoch']} (stage {row['stage']}) in stage {planned}; "
                    "a resumed run may only re-plan epochs it has not trained yet"
                )
        torch.set_rng_state(state["torch_rng"])
        random.setstate(state["python_rng"])
        self._set_mask_trainable(self.current_stage >= 2)

    def _state(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "epoch": self.epoch,
            "global_step": self.global_step,
            "best_psnr": self.best_psnr,
            "stage": self.current_stage,
            "mask_unfrozen": self._mask_unfrozen,
            **({"average": self.average.state_dict()} if self.average is not None else {}),
            "rows": self.rows,
            "config": self.config.to_dict(),
            "torch_rng": torch.get_rng_state(),
            "python_rng": random.getstate(),
        }

    # ------------------------------------------------------------ mask, lrs
    def _set_mask_trainable(self, trainable: bool) -> None:
        self.model.mask_predictor.requires_grad_(trainable)

    def _enter_epoch(self, stage: int) -> None:
        """Stage bookkeeping, once per epoch: reset on a stage change, unfreeze the mask."""
        if stage != self.current_stage:
            self.current_stage = stage
            self._mask_unfrozen = False
        if stage == 1:
            self._set_mask_trainable(False)
        elif not self._mask_unfrozen:
            self._set_mask_trainable(True)
            self._group("mask")["lr"] = self.config.lr_mask
            self._mask_unfrozen = True
            log.info("stage %d: mask predictor unfrozen, lr %.1e", stage, self.config.lr_mask)
        # DDP registers the parameters that require gradients when it is built.
        self.forward_model = self.dist.wrap(self.model, self.device)

    def _update_decayed_lrs(self) -> None:
        total = self.config.epochs * self.iterations_per_epoch
        factor = cosine_with_warmup(self.global_step, total, self.config.warmup_iterations)
        for name in DECAYED_GROUPS:
            group = self._group(name)
            group["lr"] = getattr(self.config, f"lr_{name}") * factor

    def banner(self) -> str:
        cfg = self.config
        params = sum(p.numel() for p in self.model.parameters())
        return (
            f"lowlight train: {params / 1e6:.2f} M parameters, "
            f"stages {list(cfg.stage_epochs)} epochs, "
            f"{self.iterations_per_epoch} iterations/epoch, batch {cfg.batch_size}, "
            f"crops {cfg.image_size or 'whole images'}"
            f"{f' at 1/{cfg.downscale} size' if cfg.downscale > 1 else ''}, device {self.device}, "
            f"processes {self.dist.world_size}\n"
            f"  learning rates: decoder {cfg.lr_decoder:.1e}, curve {cfg.lr_curve:.1e} "
            f"(warm-up + cosine), mask {cfg.lr_mask:.1e} (from stage 2), other {cfg.lr_other:.1e}; "
            f"grad clip {cfg.grad_clip_norm}; perceptual term: {self.objective.perceptual.kind}"
        )

    # ---------------------------------------------------------------- steps
    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")

    def train_step(
        self, low: torch.Tensor, high: torch.Tensor, weights: dict[str, float]
    ) -> StepResult:
        """One guarded optimisation step on a batch (B, 3, S, S)."""
        self.optimizer.zero_grad(set_to_none=True)
        low, high = low.to(self.device), high.to(self.device)
        with self._autocast():
            output = self.forward_model(low)
        total, terms = self.objective(_float_output(output), high, weights)
        values = {k: v.item() for k, v in terms.items()}
        loss = total.detach().item()
        if not self.dist.all_finite(math.isfinite(loss), self.device):
            return StepResult(loss, values, math.nan, True)
        total.backward()
        params = [p for g in self.optimizer.param_groups for p in g["params"] if p.grad is not None]
        grad_norm = torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip_norm)
        if not torch.isfinite(grad_norm):
            self.optimizer.zero_grad(set_to_none=True)
            return StepResult(loss, values, grad_norm.item(), True)
        self._update_decayed_lrs()
        self.optimizer.step()
        if self.average is not None:
            self.average.update(self.model)
        self.global_step += 1
        return StepResult(loss, values, grad_norm.item(), False)

    def train_epoch(self, stage: int, epoch_in_stage: int) -> dict:
        cfg = self.config
        weights = stage_loss_weights(stage, epoch_in_stage, cfg.ramp_warmup_epochs)
        self.train_data.set_epoch(cfg.seed, self.epoch)
        if self.sampler is not None:
            self.sampler.set_epoch(self.epoch)
        self.model.train()
        sums: dict[str, float] = {}
        done = skipped = 0
        start = time.perf_counter()
        bar = tqdm(
            self.loader,
            desc=f"epoch {self.epoch + 1}/{cfg.epochs} (stage {stage})",
            leave=False,
            dynamic_ncols=True,
            mininterval=2.0,
            disable=not self.dist.is_main,
        )
        for low, high in bar:
            result = self.train_step(low, high, weights)
            if result.skipped:
                skipped += 1
                log.warning(
                    "epoch %d: skipped a batch with non-finite loss or gradients", self.epoch + 1
                )
                continue
            done += 1
            for key, value in {"loss": result.loss, **result.terms}.items():
                sums[key] = sums.get(key, 0.0) + value
            bar.set_postfix(loss=f"{sums['loss'] / done:.4f}")
        seconds = time.perf_counter() - start
        keys = sorted(sums)
        *totals, done, skipped = self.dist.sum(
            [sums[k] for k in keys] + [done, skipped], self.device
        )
        means = {f"train_{k}": v / max(done, 1) for k, v in zip(keys, totals, strict=True)}
        return {
            **means,
            "train_skipped": int(skipped),
            "train_seconds": round(seconds, 2),
            "images_per_second": round(done * cfg.batch_size / max(seconds, 1e-9), 3),
        }

    @torch.no_grad()
    def validate(self) -> dict:
        """PSNR, SSIM, GT-mean PSNR, saturation and colour flags over the validation images.

        GT-mean PSNR (each output scaled to its target's mean grey level) separates structure
        from overall brightness, which on small datasets drifts between epochs.

        Each rank scores its share of the images; sums and counts are reduced over ranks.
        """
        model = self.kept_model.eval()
        scores = {"psnr": [], "ssim": [], "psnr_gt_mean": [], "saturation": []}
        flags = {"LOW_COLOR": 0, "CRITICAL_COLOR": 0}
        skipped = 0
        for index in range(self.dist.rank, len(self.val_data), self.dist.world_size):
            _, low, high = self.val_data[index]
            with self._autocast():
                image = model(low[None].to(self.device)).image.float()
            if not torch.isfinite(image).all():
                skipped += 1
                continue
            target = high[None].to(self.device)
            scored = score_image(image, target, COLOR_THRESHOLDS, gt_mean_ssim=False)
            for name, values in scores.items():
                values.append(getattr(scored, name))
            if scored.color_flag in flags:
                flags[scored.color_flag] += 1
        names = sorted(scores)
        local = [sum(scores[k]) for k in names]
        local += [len(scores["psnr"]), flags["LOW_COLOR"], flags["CRITICAL_COLOR"], skipped]
        *totals, count, low_color, critical_color, skipped = self.dist.sum(local, self.device)
        means = {
            f"val_{k}": (total / count if count else math.nan)
            for k, total in zip(names, totals, strict=True)
        }
        return {
            **means,
            "val_low_color": int(low_color),
            "val_critical_color": int(critical_color),
            "val_skipped": int(skipped),
        }

    # ------------------------------------------------------------------ run
    def fit(self) -> list[dict]:
        """Train the remaining epochs; returns all metric rows (one per epoch)."""
        try:
            if self.dist.is_main:
                self._fit_logged()
            else:
                while self.epoch < self.config.epochs:
                    self._run_epoch()
        finally:
            self.dist.shutdown()
        return self.rows

    def _fit_logged(self) -> None:
        cfg = self.config
        handler = logging.FileHandler(self.run_dir / "train.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler.setLevel(logging.INFO)
        log.addHandler(handler)
        # train.log records INFO even where logging is not configured (Python API, notebooks).
        previous_level = log.level
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)
        try:
            cfg.save(
                self.run_dir / "config.yaml", f"perceptual loss: {self.objective.perceptual.kind}"
            )
            log.info(self.banner())
            if self.epoch:
                log.info("resumed at epoch %d (stage %d)", self.epoch, self.current_stage)
            while self.epoch < cfg.epochs:
                self._run_epoch()
        finally:
            log.removeHandler(handler)
            log.setLevel(previous_level)
            handler.close()

    def _run_epoch(self) -> None:
        stage, epoch_in_stage = stage_of_epoch(self.epoch, self.config.stage_epochs)
        self._enter_epoch(stage)
        row = {"epoch": self.epoch + 1, "stage": stage, "epoch_in_stage": epoch_in_stage + 1}
        row.update(self.train_epoch(stage, epoch_in_stage))
        row.update(self.validate())
        row.update({f"lr_{g['name']}": g["lr"] for g in self.optimizer.param_groups})
        self.epoch += 1
        self.rows.append(row)
        if not self.dist.is_main:
            return
        # Without validation scores (no validation images) the latest weights count as best.
        if math.isnan(row["val_psnr"]) or row["val_psnr"] > self.best_psnr:
            if not math.isnan(row["val_psnr"]):
                self.best_psnr = row["val_psnr"]
            metadata = {
                "epoch": str(row["epoch"]),
                "val_psnr": f"{row['val_psnr']:.4f}",
                "val_ssim": f"{row['val_ssim']:.4f}",
                "train_config": json.dumps(self.config.to_dict()),
            }
            save_weights(self.kept_model, self.run_dir / "best.safetensors", metadata)
        save_checkpoint(self._state(), self.run_dir)
        self._write_metrics()
        log.info(
            "epoch %d/%d stage %d: loss %.4f, %s, skipped train/val %d/%d, %.1f img/s",
            row["epoch"],
            self.config.epochs,
            stage,
            row.get("train_loss", math.nan),
            _validation_summary(row),
            row["train_skipped"],
            row["val_skipped"],
            row["images_per_second"],
        )

    def _write_metrics(self) -> None:
        fields: list[str] = []
        for row in self.rows:
            fields.extend(k for k in row if k not in fields)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.run_dir / "metrics.csv", buffer.getvalue())


def _validation_summary(row: dict) -> str:
    """The validation part of an epoch's log line; says so when nothing was scored."""
    if math.isnan(row["val_psnr"]):
        return "no validation scores"
    return (
        f"val PSNR {row['val_psnr']:.2f} dB (GT-mean {row['val_psnr_gt_mean']:.2f}), "
        f"SSIM {row['val_ssim']:.4f}, saturation {row['val_saturation']:.3f}, "
        f"low/critical colour {row['val_low_color']}/{row['val_critical_color']}"
    )


def _float_output(output):
    """The model output with every tensor in float32 (a no-op outside mixed precision)."""
    for name, value in vars(output).items():
        setattr(output, name, value.float())
    return output
