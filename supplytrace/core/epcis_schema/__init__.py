"""GS1's EPCIS 2.0 JSON Schema, vendored unchanged as package data (``EPCIS-JSON-Schema.json``,
GS1's ``LICENSE`` beside it; ``README.md`` says where and at which commit it was taken).

:mod:`supplytrace.core.epcis_validation` reads it with :mod:`importlib.resources`; the schema
is one self-contained file (its ``$ref``\\ s all point inside it), so validating never reads
the network.
"""

from __future__ import annotations

#: The schema's file name in this package.
SCHEMA_FILE = "EPCIS-JSON-Schema.json"
