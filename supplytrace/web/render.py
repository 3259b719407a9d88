"""How the pages are written out: the Jinja2 templates, the one inline stylesheet, and the headers
every answer carries (a Content-Security-Policy that allows nothing but that stylesheet, and
``no-store`` wherever a status is shown, so no phone or proxy keeps a stale one)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from fastapi.responses import HTMLResponse, JSONResponse

from supplytrace.web import i18n
from supplytrace.web.i18n import fmt_date
from supplytrace.web.views.common import Contract, fmt_iso, short_address

HERE = Path(__file__).resolve().parent
CSS = (HERE / "static" / "style.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
#: No script, no frames, no outside requests: the page needs nothing but its inline stylesheet.
CSP = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: Headers of every answer (``web.app``'s middleware adds them; a page carries them itself, since
#: the answer to an unexpected error is sent from outside the middleware).
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Nothing to other sites; this site's own form posts carry their Origin (``web.routes.claim``
    # checks it: under "no-referrer" a browser sends "Origin: null").
    "Referrer-Policy": "same-origin",
}
#: The status is read live on every request: never let a phone or proxy show a stale one.
NO_STORE = {"Cache-Control": "no-store"}


@jinja2.pass_context
def _keep_lang(_context: jinja2.runtime.Context, url: str) -> str:
    """``i18n.keep_language`` as a filter Jinja2 never evaluates once at compile time (it folds
    constant filters): the language is each request's."""
    return i18n.keep_language(url)


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str, **variables: Any) -> str:
    """Jinja2's new-style ``gettext`` (``jinja2.ext``), which formats every message with ``%``,
    even one without placeholders: one that has neither a placeholder nor an escaped ``%%`` reads
    the same unformatted, and most of a page's messages are such (formatting each cost ~4 % of a
    page's CPU)."""
    text = i18n.template_gettext(message)
    if context.eval_ctx.autoescape:
        text = markupsafe.Markup(text)
    return text % variables if variables or "%" in text else text


def _capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:]


class Templates:
    """The page's templates (``web/templates``), autoescaped, strict about undefined values."""

    def __init__(self, registry: Contract) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            auto_reload=False,  # the templates ship with the package: no stat of each one per page
        )
        # Each request's language (web.i18n): the callables read it when the page is rendered.
        self.env.policies["ext.i18n.trimmed"] = True
        self.env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
            i18n.template_gettext, i18n.template_ngettext, newstyle=True
        )
        self.env.globals["gettext"] = _gettext  # (``_`` in a template resolves to it)
        self.env.globals.update(
            css=CSS,
            registry=registry,
            short=short_address,
            language=i18n.current,
            language_links=i18n.language_links,
            language_picked=i18n.picked,
            say=i18n.say,
            number=i18n.fmt_number,
        )
        self.env.filters.update(
            iso=fmt_iso, date=fmt_date, capitalize_first=_capitalize_first, keep_lang=_keep_lang
        )

    def html(self, template: str, status: int = 200, *, cache: bool = False, **values: Any) -> HTMLResponse:
        """``template`` rendered with ``values``; never cached unless ``cache``."""
        body = self.env.get_template(template).render(**values)
        headers = SECURITY_HEADERS if cache else {**SECURITY_HEADERS, **NO_STORE}
        return HTMLResponse(body, status_code=status, headers=headers)


def json_answer(body: Any, status: int = 200) -> JSONResponse:
    """A JSON answer that no one caches (it carries a live status)."""
    return JSONResponse(body, status_code=status, headers=NO_STORE)
