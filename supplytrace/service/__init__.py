"""The use cases, over the engines (``supplytrace.indexer``, ``supplytrace.web``,
``supplytrace.batch``) and ``supplytrace.chain``: what the command line, the ``ape run``
scripts, the demo and the benchmarks call.

- :mod:`.history` — :func:`~.history.open_history`: the event index or the chain's logs, and why.
- :mod:`.page` — :func:`~.page.build_page`: the verification page of a deployment, checked against the node.
"""
