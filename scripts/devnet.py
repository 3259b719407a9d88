"""`ape run devnet`: the same click command as `supplytrace devnet` (one implementation)."""

from supplytrace.cli import devnet as cli

__all__ = ["cli"]
