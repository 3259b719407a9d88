"""The page's languages: English, Simplified Chinese and Romanian (docs/languages.md).

Each shipped language is a gettext catalog, ``web/locale/<locale>/LC_MESSAGES/messages.po``,
read with Babel and compiled in memory the first time it is needed (no build step, no ``.mo``
file). English is the messages themselves. A request's language is chosen once, by
:class:`Languages` (an ASGI middleware): a ``?lang=`` query parameter (the page's language links)
wins, then the reader's ``Accept-Language`` (quality values honoured), then English. The views
and templates read it from a context variable (:func:`current`) while the request is answered:
:func:`gettext` (``_``) for sentences, :func:`fmt_time`, :func:`fmt_date` and :func:`fmt_number`
for dates and numbers in the reader's locale.

Sentences of ``core.story`` arrive as :class:`~supplytrace.core.text.Msg` (English text that
keeps its template and parameters): :func:`say` says one in the reader's language.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import io
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supplytrace.core.lineage import territory
from supplytrace.core.text import Msg

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


@dataclass(frozen=True)
class Language:
    """One language of the page: its catalog's locale (``zh_Hans``), its BCP 47 tag for
    ``<html lang>``, ``Content-Language`` and ``?lang=`` (``zh-CN``), and its own name."""

    locale: str
    tag: str
    name: str
    formats: str | None = None  # the locale whose date and number formats it uses, when not its own

    @functools.cached_property
    def babel(self) -> Locale:
        return Locale.parse(self.formats or self.locale)

    @functools.cached_property
    def translations(self) -> gettext_module.NullTranslations:
        """The catalog, compiled in memory from its ``.po`` file (English: the messages)."""
        path = LOCALE_DIR / self.locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.is_file():
            return gettext_module.NullTranslations()
        with path.open("rb") as po:
            catalog = read_po(po, locale=self.locale, domain=DOMAIN)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        return Translations(compiled, domain=DOMAIN)


#: English dates read day first (``1 December 2026``), as the page always wrote them.
ENGLISH = Language("en", "en", "English", formats="en_GB")
#: The shipped languages, in the order the page's links list them.
LANGUAGES = (ENGLISH, Language("zh_Hans", "zh-CN", "中文"), Language("ro", "ro", "Română"))
#: A language tag's primary subtag -> the shipped language that reads it. Every Chinese tag
#: (zh, zh-CN, zh-Hans, zh-SG, and also zh-TW, zh-HK, zh-Hant) gets Simplified Chinese: the only
#: Chinese the page has, and more use to its reader than English.
_BY_PRIMARY = {"en": ENGLISH, "zh": LANGUAGES[1], "ro": LANGUAGES[2], "mo": LANGUAGES[2]}
_TAG = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*")


def language_of(tag: str) -> Language | None:
    """The shipped language for a language tag (``ro-RO``, ``zh_Hans``, ``EN``), or None."""
    if not _TAG.fullmatch(tag.strip()):
        return None
    return _BY_PRIMARY.get(re.split(r"[-_]", tag.strip().lower())[0])


def preferences(accept_language: str | None) -> list[str]:
    """The primary language subtags an ``Accept-Language`` header asks for, best first (RFC 9110:
    the highest quality first, equal ones in the order given; ``q=0`` and ``*`` never), without
    repeats: ``zh-CN, ro;q=0.5`` -> ``["zh", "ro"]``. A malformed header is read as far as it
    makes sense (a part with a malformed tag or quality is left out), never an error; a long
    one is read to its first 1,000 characters."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "")[:1000].split(",")):
        tag, _sep, params = part.partition(";")
        tag = tag.strip()
        quality = 1.0
        match = re.search(r"(?:^|;)\s*q\s*=([^;]*)", params)
        if match:
            value = match.group(1).strip()
            if not re.fullmatch(r"[01](?:\.[0-9]{0,3})?", value):
                continue  # a malformed quality: that part is left out
            quality = float(value)
        if tag != "*" and _TAG.fullmatch(tag) and 0 < quality <= 1:
            wanted.append((-quality, position, re.split(r"[-_]", tag.lower())[0]))
    return list(dict.fromkeys(primary for _q, _p, primary in sorted(wanted)))


def negotiate(accept_language: str | None) -> Language:
    """The shipped language the reader prefers most by ``Accept-Language`` (:func:`preferences`),
    else English."""
    return next((_BY_PRIMARY[p] for p in preferences(accept_language) if p in _BY_PRIMARY), ENGLISH)


@dataclass(frozen=True)
class Choice:
    """The request's language, and whether the reader picked it with ``?lang=`` (then the page's
    own links keep it)."""

    language: Language
    picked: bool = False
    path: str = "/"  # the page's own address and query, for its language links
    query: str = ""
    host: str = ""  # the Host it was asked at: absolute links there are the page's own too


_current: ContextVar[Choice] = ContextVar("supplytrace_language")
_DEFAULT = Choice(ENGLISH)


def current() -> Language:
    return _current.get(_DEFAULT).language


def picked() -> bool:
    return _current.get(_DEFAULT).picked


@contextmanager
def speaking(language: Language, picked: bool = False) -> Iterator[None]:
    """Answer in ``language`` inside the block (the middleware's, and tests')."""
    token = _current.set(Choice(language, picked))
    try:
        yield
    finally:
        _current.reset(token)


# ----------------------------------------------------------------------------------------------
# Sentences
# ----------------------------------------------------------------------------------------------


def gettext(message: str, /, **params: object) -> str:
    """``message`` in the reader's language, its ``%(name)s`` placeholders filled with ``params``
    (numbers formatted in the reader's locale)."""
    text = current().translations.gettext(message)
    return text % {k: _param(v) for k, v in params.items()} if params else text


_ = gettext


def N_(message: str) -> str:
    """``message`` as it is: marks a constant for the catalogs, said later with :func:`gettext`."""
    return message


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the reader's language; ``%(num)s`` is ``n``."""
    text = current().translations.ngettext(singular, plural, n)
    return text % {"num": fmt_number(n), **{k: _param(v) for k, v in params.items()}}


def say(text: str | None) -> str | None:
    """A sentence of ``core`` (a :class:`Msg`) in the reader's language; other text as it is."""
    if text is None or not isinstance(text, Msg):
        return text
    return gettext(text.template, **text.params)


def _param(value: object) -> object:
    if isinstance(value, Msg):
        return say(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return fmt_number(value)
    return value


def template_gettext(message: str) -> str:
    """For Jinja2's i18n extension (new style: it fills the placeholders itself)."""
    return current().translations.gettext(message)


def template_ngettext(singular: str, plural: str, n: int) -> str:
    return current().translations.ngettext(singular, plural, n)


# ----------------------------------------------------------------------------------------------
# Dates and numbers (block times are UTC; the page cannot know the reader's zone)
# ----------------------------------------------------------------------------------------------


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


# Babel's formatting is a visible part of a page's CPU, and a page shows the same few block times
# and numbers again and again (a batch's items share their blocks): each is formatted once.


@functools.lru_cache(maxsize=8192)
def _day(timestamp: int, language: Language) -> str:
    return format_date(_utc(timestamp), "long", locale=language.babel)


@functools.lru_cache(maxsize=8192)
def _clock(timestamp: int, language: Language) -> str:
    return format_datetime(_utc(timestamp), "HH:mm", tzinfo=UTC, locale=language.babel)


@functools.lru_cache(maxsize=4096, typed=True)
def _number(value: int | float, language: Language) -> str:
    return format_decimal(value, locale=language.babel)


def fmt_time(timestamp: int) -> str:
    """``14 July 2026, 09:12 UTC``; ``2026年7月14日 09:12 UTC``; ``14 iulie 2026, 09:12 UTC``."""
    language = current()
    return gettext("%(day)s, %(time)s UTC", day=_day(timestamp, language), time=_clock(timestamp, language))


def fmt_date(timestamp: int) -> str:
    """``14 July 2026``, ``2026年7月14日``, ``14 iulie 2026``."""
    return _day(timestamp, current())


def fmt_number(value: int | float) -> str:
    """``1,500`` in English, ``1.500`` in Romanian."""
    return _number(value, current())


def reader_locale() -> str:
    """The reader's CLDR locale (``en``, ``zh_Hans``, ``ro``), for names core renders itself."""
    return str(current().babel)


def country(code: str) -> str | None:
    """An ISO 3166-1 alpha-2 code (either case) as a country name in the reader's language (CLDR,
    through Babel: :func:`supplytrace.core.lineage.territory`), or None."""
    return territory(code.upper(), reader_locale())


# ----------------------------------------------------------------------------------------------
# Per-language texts of lot metadata, and the page's own links
# ----------------------------------------------------------------------------------------------


def is_language_map(value: object) -> bool:
    """Whether ``value`` is a text in several languages, the one form lot metadata uses
    (docs/languages.md): an object with an ``"en"`` text, whose every key is a language tag and
    every value a text: ``{"en": "Acacia honey", "zh-CN": "洋槐蜂蜜", "ro": "Miere de salcâm"}``."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("en"), str)
        and all(
            isinstance(k, str)
            and re.fullmatch(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*", k)
            and isinstance(v, str)
            for k, v in value.items()
        )
    )


def in_language(texts: Mapping[str, str]) -> str:
    """The text of a language map for the reader: its language's (any tag of it), else English."""
    language = current()
    for tag, text in texts.items():
        if language_of(tag) is language and text.strip():
            return text
    return texts["en"]


def keep_language(url: str) -> str:
    """One of the page's own links (``/lot/3``), carrying the reader's ``?lang=`` choice."""
    choice = _current.get(_DEFAULT)
    own = url.startswith("/") and not url.startswith("//")
    if not own and choice.host:  # the devnet's explorer links point at the page itself
        parts = urlsplit(url)
        own = parts.scheme in ("http", "https") and parts.netloc == choice.host
    if not choice.picked or not own:
        return url
    path, _hash, fragment = url.partition("#")
    joined = f"{path}{'&' if '?' in path else '?'}lang={choice.language.tag}"
    return f"{joined}#{fragment}" if fragment else joined


def switch_links(path: str, query: str) -> list[tuple[Language, str]]:
    """The page's language links: this address in each language (``?lang=``), other query
    parameters kept."""
    others = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"]
    return [(lang, f"{path}?{urlencode([*others, ('lang', lang.tag)])}") for lang in LANGUAGES]


# ----------------------------------------------------------------------------------------------
# The middleware
# ----------------------------------------------------------------------------------------------


def choose(query: str, accept_language: str | None, path: str = "/") -> Choice:
    """``?lang=`` when it names a shipped language, else the ``Accept-Language`` choice."""
    for value in parse_qs(query).get("lang", []):
        language = language_of(value)
        if language is not None:
            return Choice(language, picked=True, path=path, query=query)
    return Choice(negotiate(accept_language), path=path, query=query)


def language_links() -> list[tuple[Language, str]]:
    """This page in each shipped language (the page's language links)."""
    choice = _current.get(_DEFAULT)
    return switch_links(choice.path, choice.query)


def choice_of(scope: Scope) -> Choice:
    """The language of an HTTP request: English for JSON (programs read it), else ``?lang=``,
    then ``Accept-Language`` (:func:`choose`)."""
    headers = dict(scope["headers"])
    wanted = headers.get(b"accept", b"").decode("latin-1")
    if str(scope.get("path", "")).startswith("/api/") or (
        "application/json" in wanted and "text/html" not in wanted  # as web.errors.wants_json
    ):
        return Choice(ENGLISH)
    accept = headers.get(b"accept-language", b"").decode("latin-1") or None
    query = scope.get("query_string", b"").decode("latin-1")
    path = (scope.get("raw_path") or str(scope.get("path", "/")).encode()).decode("latin-1")
    path = path.split("?", 1)[0]
    if scope.get("method") not in ("GET", "HEAD"):  # a form's answer: link to its page
        path = path.removesuffix("/claim") if path.endswith("/claim") else "/"
    return replace(choose(query, accept, path), host=headers.get(b"host", b"").decode("latin-1"))


@contextmanager
def speaking_as_asked(scope: Scope) -> Iterator[None]:
    """Answer inside the block in the language ``scope``'s request asks for: for answers made
    outside :class:`Languages` (the server error page, made by the outermost middleware)."""
    token = _current.set(choice_of(scope))
    try:
        yield
    finally:
        _current.reset(token)


class Languages:
    """Chooses each request's language (:func:`choose`) and answers with ``Content-Language``
    and ``Vary: Accept-Language``. JSON (``/api/``, and a Digital Link asked for JSON) stays
    English: programs read it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        choice = choice_of(scope)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Language"] = choice.language.tag
                vary = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
                if "accept-language" not in {v.lower() for v in vary}:
                    headers["Vary"] = ", ".join([*vary, "Accept-Language"])
            await send(message)

        token = _current.set(choice)
        try:
            await self.app(scope, receive, send_with_language)
        finally:
            _current.reset(token)
