"""`ape run register_batch`: the same click command as `supplytrace register-batch` (one implementation)."""

from supplytrace.cli import register_batch as cli

__all__ = ["cli"]
