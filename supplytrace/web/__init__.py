"""The verification page (FastAPI + Jinja2): :mod:`.app` builds it from a
:class:`~.deps.PageConfig` and a history port, :mod:`.routes` hold the routers (resolver, item,
lot, transaction, JSON API), :mod:`.views` what each page shows, :mod:`.render` the templates,
:mod:`.server` runs it (foreground or in the background). :mod:`supplytrace.service.page`
puts it together for `supplytrace serve`."""
