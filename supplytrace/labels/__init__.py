"""What is printed on the goods: :mod:`.qr` (the QR code of an item's GS1 Digital Link) and
:mod:`.sheet` (printable label sheets: a QR code over the GS1 HRI text, SVG and PDF)."""
