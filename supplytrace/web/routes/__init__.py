"""The page's routes, one router per area: :mod:`.items` (the Digital Link resolver, item pages
and their JSON), :mod:`.lots`, :mod:`.explorer` (the devnet's ``/tx`` and ``/address``) and
:mod:`.home` (``/``, ``/check``, ``/healthz``). A new page is a router here, a view in
``web.views`` and a template."""
