"""The command-line fixtures (an in-process runner, a file store of fixed runs) shared here."""

from tests.cli.conftest import cli, store_dir

__all__ = ["cli", "store_dir"]
