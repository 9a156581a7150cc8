"""The staged trainer: three stages, mask unfreeze, clipping, NaN guards, validation, resume."""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass

import torch
from tqdm import tqdm

from lowlight.data import ImagePair, find_pairs
from lowlight.errors import LowlightError
from lowlight.models import UnifiedLowLightEnhancer
from lowlight.training.checkpoint import load_checkpoint, save_checkpoint
from lowlight.training.config import TrainConfig
from lowlight.training.distributed import init_distributed
from lowlight.training.ema import WeightAverage
from lowlight.training.learning_rates import decay_learning_rates, group, param_groups
from lowlight.training.loading import images_per_epoch, make_datasets, make_loader
from lowlight.training.loss_weights import stage_loss_weights
from lowlight.training.objective import TrainingObjective
from lowlight.training.run_folder import BEST, LATEST, RunFolder
from lowlight.training.schedule import stage_of_epoch
from lowlight.training.validation import mixed_precision, validate, validation_summary
from lowlight.weights import load_model

__all__ = ["Trainer", "StepResult"]

log = logging.getLogger("lowlight.train")


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
    The run folder's files other than checkpoints are ``RunFolder``'s.
    """

    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        self.config = config
        self.folder = RunFolder(config.out)
        self.run_dir = self.folder.path
        self.dist = init_distributed(config.device)
        self.device = self.dist.device(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        if not self.dist.is_main:
            log.setLevel(logging.WARNING)
        self.folder.check(resume)
        # Every input (data, weights files, model) is checked before the run folder is
        # created, so that a mistake in one leaves nothing behind.
        pairs, val_pairs = self._find_pairs()
        torch.manual_seed(config.seed)
        random.seed(config.seed)
        self.model = self._initial_model(resume).to(self.device)
        self.forward_model: torch.nn.Module = self.model
        self.objective = TrainingObjective(config.perceptual_weights).to(self.device)
        if self.dist.is_main:
            self.folder.create()
        self.dist.barrier()
        self.optimizer = torch.optim.AdamW(
            param_groups(self.model, config), weight_decay=config.weight_decay
        )
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
        self.train_data, self.val_data = make_datasets(
            config, *self._split(resume, pairs, val_pairs)
        )
        self.loader, self.sampler = make_loader(self.train_data, config, self.dist)
        self.iterations_per_epoch = len(self.loader)
        self.images_per_epoch = images_per_epoch(self.loader, self.dist)
        if resume:
            self._restore(load_checkpoint(self.run_dir))

    # ----------------------------------------------------------------- set-up
    def _initial_model(self, resume: bool) -> UnifiedLowLightEnhancer:
        """A fresh enhancer, or the one in ``init_weights``.

        With ``init_weights`` the file's architecture is used, with the config's ``model``
        keys overriding it where the weights still fit (e.g. ``tone_sigma`` to continue an
        older file under the bounded-detail design). On resume only the architecture is taken
        from ``init_weights``: the checkpoint then replaces the weights.
        """
        if self.config.init_weights is None:
            try:
                return UnifiedLowLightEnhancer(**self.config.model)
            except (TypeError, ValueError) as exc:
                raise LowlightError(
                    f"config 'model' {self.config.model} cannot build the enhancer: {exc}"
                ) from exc
        model = load_model(self.config.init_weights, architecture=self.config.model).train()
        self.config.model = dict(model.config)
        if resume:
            log.info("architecture from %s, weights from the checkpoint", self.config.init_weights)
        else:
            log.info("initialised from %s", self.config.init_weights)
        return model

    @property
    def kept_model(self) -> UnifiedLowLightEnhancer:
        """The weights validation scores and ``best.safetensors`` keeps: the average, if any."""
        return self.average.model if self.average is not None else self.model

    def _group(self, name: str) -> dict:
        return group(self.optimizer, name)

    def _find_pairs(self) -> tuple[list[ImagePair], list[ImagePair] | None]:
        """The pairs of ``data``, and of ``val_data`` (None when validation is split off)."""
        pairs = find_pairs(self.config.data)
        val_pairs = find_pairs(self.config.val_data) if self.config.val_data else None
        return pairs, val_pairs

    def _split(
        self, resume: bool, pairs: list[ImagePair], val_pairs: list[ImagePair] | None
    ) -> tuple[list[ImagePair], list[ImagePair]]:
        """Training and validation pairs; ``split.json`` records them when a run starts."""
        save = not resume and self.dist.is_main
        if val_pairs is None:
            return self.folder.split(pairs, self.config, resume, save)
        if save:
            self.folder.save_split(pairs, val_pairs)
        return pairs, val_pairs

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

    def banner(self) -> str:
        cfg = self.config
        params = sum(p.numel() for p in self.model.parameters())
        mix = cfg.mix()
        pairs = (
            f"pairs {mix.paired:g}, synthetic exposures {mix.synthetic:g} "
            f"(gain {mix.gain[0]:g}-{mix.gain[1]:g}), identity {mix.identity:g}"
            if mix is not None
            else "pairs only"
        )
        return (
            f"lowlight train: {params / 1e6:.2f} M parameters, "
            f"stages {list(cfg.stage_epochs)} epochs, "
            f"{self.iterations_per_epoch} iterations/epoch, batch {cfg.batch_size}, "
            f"crops {cfg.image_size or 'whole images'}"
            f"{f' at 1/{cfg.downscale} size' if cfg.downscale > 1 else ''}, device {self.device}, "
            f"processes {self.dist.world_size}\n"
            f"  training items: {pairs}\n"
            f"  learning rates: decoder {cfg.lr_decoder:.1e}, curve {cfg.lr_curve:.1e} "
            f"(warm-up + cosine), mask {cfg.lr_mask:.1e} (from stage 2), other {cfg.lr_other:.1e}; "
            f"grad clip {cfg.grad_clip_norm}; perceptual term: {self.objective.perceptual.kind}"
        )

    # ---------------------------------------------------------------- steps
    def train_step(
        self, low: torch.Tensor, high: torch.Tensor, weights: dict[str, float]
    ) -> StepResult:
        """One guarded optimisation step on a batch (B, 3, S, S)."""
        self.optimizer.zero_grad(set_to_none=True)
        low, high = low.to(self.device), high.to(self.device)
        with mixed_precision(self.device):
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
        total_steps = self.config.epochs * self.iterations_per_epoch
        decay_learning_rates(self.optimizer, self.config, self.global_step, total_steps)
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
        # Counted in images over all processes, so that it shows images per second and the
        # time left in the epoch; it advances after each batch, skipped or not, and stays on
        # screen at N/N with the epoch's speed and time.
        bar = tqdm(
            total=self.images_per_epoch,
            desc=f"epoch {self.epoch + 1}/{cfg.epochs} (stage {stage})",
            unit="img",
            dynamic_ncols=True,
            mininterval=2.0,
            disable=not self.dist.is_main,
        )
        for low, high in self.loader:
            result = self.train_step(low, high, weights)
            bar.update(len(low) * self.dist.world_size)
            if result.skipped:
                skipped += 1
                log.warning(
                    "epoch %d: skipped a batch with non-finite loss or gradients", self.epoch + 1
                )
                continue
            done += 1
            for key, value in {"loss": result.loss, **result.terms}.items():
                sums[key] = sums.get(key, 0.0) + value
            bar.set_postfix(loss=f"{sums['loss'] / done:.4f}", refresh=False)
        bar.close()
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

    def validate(self) -> dict:
        """Score the kept weights on the validation images (see ``validation.validate``)."""
        return validate(self.kept_model, self.val_data, self.dist, self.device)

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
        with self.folder.logging_to_file(log):
            self.folder.save_config(
                self.config, f"perceptual loss: {self.objective.perceptual.kind}"
            )
            log.info(self.banner())
            if self.epoch:
                log.info("resumed at epoch %d (stage %d)", self.epoch, self.current_stage)
            while self.epoch < self.config.epochs:
                self._run_epoch()

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
            self.folder.keep_weights(self.kept_model, row, self.config, BEST)
        self.folder.keep_weights(self.kept_model, row, self.config, LATEST)
        save_checkpoint(self._state(), self.run_dir)
        self.folder.save_metrics(self.rows)
        log.info(
            "epoch %d/%d stage %d: loss %.4f, %s, skipped train/val %d/%d, %.1f img/s",
            row["epoch"],
            self.config.epochs,
            stage,
            row.get("train_loss", math.nan),
            validation_summary(row),
            row["train_skipped"],
            row["val_skipped"],
            row["images_per_second"],
        )


def _float_output(output):
    """The model output with every tensor in float32 (a no-op outside mixed precision)."""
    for name, value in vars(output).items():
        setattr(output, name, value.float())
    return output
