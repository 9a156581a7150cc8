"""Staged training: loss-weight schedule, config, checkpoints and the trainer."""
