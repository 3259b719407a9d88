"""`ape run sign_acceptance`: the same click command as `supplytrace sign-acceptance` (one implementation)."""

from supplytrace.cli import sign_acceptance as cli

__all__ = ["cli"]
