"""supplytrace: product provenance on an Ethereum-compatible chain.

Brands register each item by its GS1 key (GTIN + serial), custody moves hand to hand with the
receiver's consent, and consumers verify an item from the GS1 Digital Link in its QR code.
"""

__version__ = "0.1.0"
