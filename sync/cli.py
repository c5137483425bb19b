"""Command-line subcommands of the sync package (registered into main.py's parser)."""

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to main.py."""
