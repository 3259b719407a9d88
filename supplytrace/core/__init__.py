"""The domain, pure: what the registry's events mean, the records it keeps, GS1 identity, the
story told to people, the EPCIS mapping and the errors users read.

No module here imports ape, web3, rich or click (``make lint`` checks it), and none reads the
network: the layers above (``supplytrace.chain``, then the indexer, the page, batches, the
``Registry`` service and the command line) bring bytes in and take sentences out.

- :mod:`.abi` — the compiled registry (ABI and bytecode), shipped as package data.
- :mod:`.events` — one frozen type per contract event, the ``RegistryEvent`` union, and the one
  decoder of raw logs, derived from the ABI.
- :mod:`.text` — chain strings (``ChainText``): raw bytes kept, shown safely.
- :mod:`.records` — ``ItemStatus``, ``ItemRecord``, ``LotRecord``, roles.
- :mod:`.reducer` — how events change items, lots, participants and assignments.
- :mod:`.story` — an event as a plain-language step; an item's status in words.
- :mod:`.epcis` — the GS1 EPCIS 2.0 mapping; :mod:`.epcis_builders` builds its events,
  :mod:`.epcis_validation` checks a document against GS1's schema (:mod:`.epcis_schema`).
- :mod:`.ids` — GS1 keys, item ids, Digital Link URIs, the row validators of batch files.
- :mod:`.errors` — ``SupplytraceError`` and the sentences of the contract's custom errors.
"""
