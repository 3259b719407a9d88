"""What the pages show, as data: one module per page (:mod:`.item`, :mod:`.lot`, :mod:`.tx`,
:mod:`.address`), each a model (the JSON API's schema, read by the page's template too) and the
function that builds it from the live records and the history; :mod:`.common` holds what pages
share (parties, banners, timeline rows, formatting).

Everything a consumer reads is decided here, in plain words; the templates only lay it out.
The status always comes from the live record (``getItem`` / ``getLot``); the history source only
adds the timeline, names and reasons, and is checked against the live record.
"""
