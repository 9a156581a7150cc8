"""Subcommands of the ``lowlight`` CLI, one module each."""
