"""The staged trainer: three stages, mask unfreeze, clipping, NaN guards, validation, resume."""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass

import torch
from tqdm import tqdm

from lowlight.errors import LowlightError
from lowlight.models import EnhancerOutput, UnifiedLowLightEnhancer
from lowlight.training.best import Rank, best_row, improves, saved_rank
from lowlight.training.checkpoint import load_checkpoint, save_checkpoint
from lowlight.training.config import TrainConfig
from lowlight.training.distributed import init_distributed
from lowlight.training.ema import WeightAverage
from lowlight.training.learning_rates import decay_learning_rates, group, param_groups
from lowlight.training.loading import find_data, images_per_epoch, make_datasets, make_loader
from lowlight.training.loss_weights import stage_loss_weights
from lowlight.training.objective import TrainingObjective
from lowlight.training.run_folder import BEST, LATEST, RunFolder
from lowlight.training.schedule import check_replanned, stage_of_epoch
from lowlight.training.validation import float_output, mixed_precision
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

    Validation scores pairs (the best epoch has the highest PSNR) or, where the validation
    folder holds photos without targets, the no-reference figures (``NoReferenceValidation``
    says which epoch is best). ``UnpairedTrainer`` fine-tunes on photos through the same
    steps, overriding the hooks: the objective, its weights and its inputs.
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
        found = find_data(config)
        torch.manual_seed(config.seed)
        random.seed(config.seed)
        self.model = self._initial_model(resume).to(self.device)
        self.forward_model: torch.nn.Module = self.model
        self.objective = self._make_objective().to(self.device)
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
        self.best_rank: Rank | None = None
        self.current_stage = 0
        self._mask_unfrozen = False
        self.rows: list[dict] = []
        self._set_mask_trainable(False)
        train_items, val_items = self._split(resume, found.items, found.val_items)
        self.train_data, self.validation = make_datasets(
            config, train_items, val_items, found.val_paired
        )
        self.val_data = self.validation.images
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
        for component in self.config.restart:
            try:
                model.restart_(component)
            except ValueError as exc:
                raise LowlightError(f"config 'restart': {exc}") from exc
        if resume:
            log.info("architecture from %s, weights from the checkpoint", self.config.init_weights)
        else:
            restarted = "".join(f"; {c} restarted" for c in self.config.restart)
            log.info("initialised from %s%s", self.config.init_weights, restarted)
        return model

    @property
    def kept_model(self) -> UnifiedLowLightEnhancer:
        """The weights validation scores and ``best.safetensors`` keeps: the average, if any."""
        return self.average.model if self.average is not None else self.model

    def _group(self, name: str) -> dict:
        return group(self.optimizer, name)

    def _split(self, resume: bool, pairs: list, val_pairs: list | None) -> tuple[list, list]:
        """Training and validation items (pairs or photos); ``split.json`` records them when a
        run starts."""
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
        self.best_rank = saved_rank(state)
        self.current_stage = state["stage"]
        self._mask_unfrozen = state["mask_unfrozen"]
        if self.average is not None:
            if "average" in state:
                self.average.load_state_dict(state["average"])
            else:
                self.average = WeightAverage(self.model, self.config.ema_decay)
        self.rows = list(state["rows"])
        check_replanned(self.rows, self.config.stage_epochs)
        torch.set_rng_state(state["torch_rng"])
        random.setstate(state["python_rng"])
        self._set_mask_trainable(self.current_stage >= 2)

    def _state(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "epoch": self.epoch,
            "global_step": self.global_step,
            "best_rank": self.best_rank,
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
        pairs = mix.describe() if mix is not None else "pairs only"
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
            f"grad clip {cfg.grad_clip_norm}; {self._objective_note()}"
        )

    # ------------------------------------------- hooks (UnpairedTrainer's own)
    def _make_objective(self) -> torch.nn.Module:
        """The training objective: the staged paired recipe."""
        return TrainingObjective(self.config.perceptual_weights)

    def _objective_note(self) -> str:
        """What the log and ``config.yaml`` say about the objective."""
        return f"perceptual loss: {self.objective.perceptual.kind}"

    def _epoch_weights(self, stage: int, epoch_in_stage: int) -> dict[str, float]:
        """The loss weights of an epoch: the stage's, ramped."""
        return stage_loss_weights(stage, epoch_in_stage, self.config.ramp_warmup_epochs)

    def _inputs(self, batch: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """A loader batch as ``(low, target)`` for ``train_step``."""
        return batch[0], batch[1]

    def _loss(
        self,
        output: EnhancerOutput,
        low: torch.Tensor,
        target: torch.Tensor,
        weights: dict[str, float],
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(total, terms)`` of the objective on one batch's output."""
        return self.objective(output, target, weights)

    # ---------------------------------------------------------------- steps
    def train_step(
        self, low: torch.Tensor, high: torch.Tensor, weights: dict[str, float]
    ) -> StepResult:
        """One guarded optimisation step on a batch (B, 3, S, S)."""
        self.optimizer.zero_grad(set_to_none=True)
        low, high = low.to(self.device), high.to(self.device)
        with mixed_precision(self.device):
            output = self.forward_model(low)
        total, terms = self._loss(float_output(output), low, high, weights)
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
        weights = self._epoch_weights(stage, epoch_in_stage)
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
        for batch in self.loader:
            low, high = self._inputs(batch)
            result = self.train_step(low, high, weights)
            bar.update(len(low) * self.dist.world_size)
            if result.skipped:
                skipped += 1
                log.warning("epoch %d: skipped a batch with non-finite values", self.epoch + 1)
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
        """Score the kept weights on the validation images (pairs or photos)."""
        return self.validation.score(self.kept_model, self.dist, self.device)

    def best_row(self) -> dict | None:
        """The row of the epoch ``best.safetensors`` holds (None before the first epoch)."""
        return best_row(self.rows, self.validation.rank)

    # ------------------------------------------------------------------ run
    def fit(self) -> list[dict]:
        """Train the remaining epochs; returns all metric rows (one per epoch)."""
        finished = False
        try:
            if self.dist.is_main:
                self._fit_logged()
            else:
                while self.epoch < self.config.epochs:
                    self._run_epoch()
            finished = True
        finally:
            self.forward_model = self.model  # DDP holds the process group: release it first
            self.dist.shutdown(finished)
        return self.rows

    def _fit_logged(self) -> None:
        with self.folder.logging_to_file(log):
            self.folder.save_config(self.config, self._objective_note())
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
        rank, kept = self.validation.rank(row), [LATEST]
        if improves(rank, self.best_rank):
            self.best_rank = self.best_rank if rank is None else rank
            kept.append(BEST)
        labels = self.validation.labels(row)
        self.folder.keep_weights(self.kept_model, row["epoch"], labels, self.config, kept)
        save_checkpoint(self._state(), self.run_dir)
        self.folder.save_metrics(self.rows)
        log.info(
            "epoch %d/%d stage %d: loss %.4f, %s, skipped train/val %d/%d, %.1f img/s",
            row["epoch"],
            self.config.epochs,
            stage,
            row.get("train_loss", math.nan),
            self.validation.summary(row),
            row["train_skipped"],
            row["val_skipped"],
            row["images_per_second"],
        )
