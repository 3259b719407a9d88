"""The use cases, over the engines (``supplytrace.indexer``, ``supplytrace.web``,
``supplytrace.batch``) and ``supplytrace.chain``: what the command line, the ``ape run``
scripts, the demo and the benchmarks call.

- :mod:`.registry` — :class:`~.registry.Registry`: every use case of a deployed registry (brands,
  GTINs, lots, registration, CSV batches, custody, signed handoffs, observations, sale, recall,
  item reads), with :mod:`.selection` (which items), :mod:`.handoffs` (signed acceptances, in
  parts) and :mod:`.bulk` (many items in gas-sized chunks: cost, progress, interruptions, reruns).
- :mod:`.connect` — :func:`~.connect.open_registry`: a Registry from a network name and an account.
- :mod:`.history` — :func:`~.history.open_history`: the event index or the chain's logs, and why.
- :mod:`.page` — :func:`~.page.build_page`: the verification page of a deployment, checked against the node.
- :mod:`.exports` — the EPCIS export of items' histories.
"""
