"""The ``coalition`` CLI: one command group, a module per family of subcommands."""

from coalition.cli import answer, feedback, index, practices, serve  # noqa: F401  (each module adds its commands)
from coalition.cli.base import main

__all__ = ["main"]
