"""`ape run verify_deployment`: the same click command as `supplytrace verify-deployment`
(one implementation)."""

from supplytrace.cli import verify_deployment as cli

__all__ = ["cli"]
