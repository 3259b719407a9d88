"""`ape run export_epcis`: the same click command as `supplytrace export-epcis` (one implementation)."""

from supplytrace.cli import export_epcis as cli

__all__ = ["cli"]
