"""Where a blended lot comes from, and why it is recalled: the lot graph that transformations make.

A registrar may *transform* lots: consume a stated quantity of each input lot to make a new output
lot (a blend of honeys). An output may be the input of a later blend, at any depth, so each lot is
the root of a graph of the lots it was made from. EU Directive 2024/1438 wants a honey blend's
label to list every country of origin with its share by weight, descending; a recall of any lot
in the graph reaches every lot made from it.

Everything here is exact (:class:`fractions.Fraction`) and pure. The graph comes from chain data,
which a hostile or buggy index could make cyclic, absurdly deep or huge, so every walk is iterative
and bounded (:data:`MAX_DEPTH`, :data:`MAX_LOTS`, :data:`MAX_LINKS`) and refuses such a graph with a
:class:`LineageError` instead of looping or exhausting memory.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from supplytrace.core.errors import SupplytraceError
from supplytrace.core.text import Msg, display

#: The longest chain of transformations followed (a blend of a blend ... 64 levels deep).
MAX_DEPTH = 64
#: The most distinct lots one walk visits.
MAX_LOTS = 10_000
#: The most input links one walk follows (a lot listed as an input of several blends counts each time).
MAX_LINKS = 100_000

#: A lot's origin country (ISO 3166-1 alpha-2, upper case) and its exact share; None = unknown.
Share = tuple[str | None, Fraction]

_ALPHA2 = re.compile(r"[A-Z]{2}")


class LineageError(SupplytraceError, ValueError):
    """The transformations recorded for a lot cannot be followed (a cycle, too deep, too large,
    or a quantity that is not positive), so its origin or recall reach is not computed."""


@dataclass(frozen=True, slots=True)
class LotInput:
    """``quantity`` (in the transformation's unit) of lot ``lot_id`` consumed by a transformation."""

    lot_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Transformation:
    """Lot ``output_lot_id`` (``output_quantity`` of ``unit``: grams, millilitres or each) was made
    by consuming ``inputs``, in that same unit."""

    output_lot_id: int
    inputs: tuple[LotInput, ...]
    output_quantity: int
    unit: str


@dataclass(frozen=True, slots=True)
class RecallCause:
    """Lot ``lot_id`` is recalled for ``reason``; ``path`` runs from the lot asked about to it
    (``(lot_id,)`` when the lot itself is recalled)."""

    lot_id: int
    path: tuple[int, ...]
    reason: str


def _walk(start: int, neighbours: Callable[[int], Sequence[int]]) -> list[int]:
    """Every lot reachable from ``start`` (itself included), each after all of its neighbours
    (post-order), without recursion; raises :class:`LineageError` on a cycle or past a bound."""
    order: list[int] = []
    height: dict[int, int] = {}  # finished lots: the longest chain below each
    path: list[int] = [start]  # the lots being walked, from ``start``
    stack: list[tuple[Sequence[int], int]] = [(neighbours(start), 0)]  # (neighbours, next index)
    links = 0
    while stack:
        following, index = stack[-1]
        if index < len(following):
            stack[-1] = (following, index + 1)
            nxt = following[index]
            links += 1
            if links > MAX_LINKS or (nxt not in height and len(height) + len(path) >= MAX_LOTS):
                raise LineageError(
                    f"lot {start} is linked to more than {MAX_LOTS} lots or {MAX_LINKS} inputs; "
                    "its lineage is not followed that far."
                )
            if nxt in height:
                continue
            if nxt in path:
                cycle = " -> ".join(map(str, [*path[path.index(nxt) :], nxt]))
                raise LineageError(
                    f"lots {cycle} form a cycle of transformations, which the chain cannot record; "
                    "the index is corrupt, so rebuild it."
                )
            if len(path) > MAX_DEPTH:
                raise _too_deep(start)
            path.append(nxt)
            stack.append((neighbours(nxt), 0))
            continue
        stack.pop()
        lot = path.pop()
        height[lot] = 1 + max((height[n] for n in following), default=-1)
        if height[lot] > MAX_DEPTH:
            raise _too_deep(start)
        order.append(lot)
    return order


def _too_deep(start: int) -> LineageError:
    return LineageError(
        f"lot {start} is linked through more than {MAX_DEPTH} levels of transformations; "
        "its lineage is not followed that deep."
    )


def _inputs_of(transformations: Mapping[int, Transformation]) -> Callable[[int], Sequence[int]]:
    def inputs(lot: int) -> Sequence[int]:
        made = transformations.get(lot)
        return () if made is None else [used.lot_id for used in made.inputs]

    return inputs


def ancestors(lot_id: int, transformations: Mapping[int, Transformation]) -> frozenset[int]:
    """Every lot ``lot_id`` was made from, at any depth (not the lot itself)."""
    return frozenset(_walk(lot_id, _inputs_of(transformations))) - {lot_id}


def descendants(lot_id: int, transformations: Mapping[int, Transformation]) -> frozenset[int]:
    """Every lot made from ``lot_id``, at any depth (not the lot itself): a recall's reach."""
    outputs: dict[int, list[int]] = {}
    for output, made in transformations.items():
        for used in made.inputs:
            outputs.setdefault(used.lot_id, []).append(output)
    return frozenset(_walk(lot_id, lambda lot: outputs.get(lot, ()))) - {lot_id}


def _country(code: str | None) -> str | None:
    """The code in upper case, as metadata may write it in any case; an empty code is unknown."""
    code = (code or "").strip().upper()
    return code or None


def origin_shares(
    lot_id: int, origins: Mapping[int, str | None], transformations: Mapping[int, Transformation]
) -> tuple[Share, ...]:
    """Each origin country of ``lot_id`` with its exact share, summing to exactly 1: descending by
    share, ties by code, unknown (None) last.

    A lot no transformation made is wholly of its own origin (``origins``, None or absent =
    unknown); a made lot is its inputs' origins weighted by the quantity consumed of each (not by
    the input lot's size), and its own origin entry is ignored. Computed top-down: the lot's weight
    flows to its inputs in proportion to what was consumed, then the leaves' weights are summed per
    country, so the work is one step per input link."""
    inputs = _inputs_of(transformations)
    weight: dict[int, Fraction] = {lot_id: Fraction(1)}
    for lot in reversed(_walk(lot_id, inputs)):  # every lot before the lots it was made from
        made = transformations.get(lot)
        if made is None:
            continue
        total = 0
        for used in made.inputs:
            if used.quantity <= 0:
                raise LineageError(
                    f"lot {lot} is recorded as consuming {used.quantity} of lot {used.lot_id}, which is "
                    "not a positive quantity; the transformation is corrupt, so the origin is unknown."
                )
            total += used.quantity
        if not total:
            raise LineageError(
                f"lot {lot} is recorded as made from no input lots; the transformation is corrupt, "
                "so the origin is unknown."
            )
        share = weight.pop(lot)
        for used in made.inputs:
            weight[used.lot_id] = weight.get(used.lot_id, Fraction(0)) + share * Fraction(
                used.quantity, total
            )
    by_country: dict[str | None, Fraction] = {}
    for lot, part in weight.items():
        country = _country(origins.get(lot))
        by_country[country] = by_country.get(country, Fraction(0)) + part
    return tuple(sorted(by_country.items(), key=lambda item: (item[0] is None, -item[1], item[0] or "")))


def percentages(shares: Sequence[Share]) -> tuple[int, ...]:
    """Whole percentages of ``shares`` (of their total) summing to exactly 100, by the largest
    remainder method: each gets its share rounded down, then the points left go one each to the
    largest remainders (ties to the earlier share, the larger one in :func:`origin_shares` order)."""
    total = sum((part for _, part in shares), Fraction(0))
    if not shares or total <= 0 or any(part < 0 for _, part in shares):
        raise LineageError("origin shares must be at least one non-negative share with a positive total.")
    exact = [100 * part / total for _, part in shares]
    whole = [int(value) for value in exact]  # floor: every value is non-negative
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - whole[i]), i))
    for index in by_remainder[: 100 - sum(whole)]:
        whole[index] += 1
    return tuple(whole)


@lru_cache(maxsize=16)
def _territories(locale: str) -> Mapping[str, str]:
    try:
        return dict(Locale.parse(locale.replace("-", "_")).territories)
    except (UnknownLocaleError, ValueError, TypeError):
        raise LineageError(
            f"locale {locale!r} is not known; use a code such as 'en', 'ro' or 'zh_CN'."
        ) from None


def country_name(code: str | None, locale: str = "en") -> str:
    """The name of an ISO 3166-1 alpha-2 ``code`` in ``locale`` (CLDR, via babel); a code babel
    does not know is the code itself, and None is "unknown origin" (a :class:`Msg`, which a
    reader says in its language). Nothing is escaped here."""
    if code is None:
        return Msg("unknown origin")
    return territory(code, locale) or code


def territory(code: str, locale: str = "en") -> str | None:
    """The CLDR name in ``locale`` of an ISO 3166-1 alpha-2 ``code`` (upper case), or None."""
    return _territories(locale).get(code) if _ALPHA2.fullmatch(code) else None


def _product(product: str, *, first: bool) -> str:
    """How the label names the product: honey (the directive's word, which a reader says in its
    language) or the brand's own word as given, capitalised when it opens the sentence."""
    if product == "honey":
        return Msg("Honey") if first else Msg("honey")
    return f"{product[:1].upper()}{product[1:]}" if first else product


def origin_label(shares: Sequence[Share], product: str = "honey", locale: str = "en") -> Msg:
    """The label sentence: ``Honey from Romania`` for one origin, ``Blend of honey from Romania
    (62 %), Bulgaria (38 %)`` for several, in the order given, country names in ``locale``. A
    country whose share rounds to 0 % still reads ``(<1 %)``, since the directive wants every
    country listed. A :class:`Msg`: the page says it in the reader's language (its catalogs
    translate the sentence; the names are already the reader's), a printed label in English."""
    whole = percentages(shares)
    if len(shares) == 1:
        code, named = shares[0][0], _product(product, first=True)
        if code is None:
            return Msg("%(product)s from unknown origin", product=named)
        return Msg("%(product)s from %(country)s", product=named, country=country_name(code, locale))
    slots: list[str] = []
    names: dict[str, object] = {}
    for n, ((code, _), percent) in enumerate(zip(shares, whole, strict=True)):
        slots.append(f"%(c{n})s (%(p{n})s %%)")
        names[f"c{n}"] = country_name(code, locale)
        names[f"p{n}"] = str(percent) if percent else "<1"
    # The list itself is no sentence to translate: its names and the unknown origin are said.
    listing = ", ".join(slots)
    countries = Msg(listing, **names)
    return Msg(
        "Blend of %(product)s from %(countries)s", product=_product(product, first=False), countries=countries
    )


def _reason(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return display(bytes(value))
    return "" if value is True else str(value)


def recall_causes(
    lot_id: int, recalled: Mapping[int, object], transformations: Mapping[int, Transformation]
) -> tuple[RecallCause, ...]:
    """Each recalled lot among ``lot_id`` and the lots it was made from, nearest first (ties in the
    order the inputs are listed), with the shortest chain of lots leading to it: the page's
    "recalled because ingredient lot X was recalled: <reason>".

    ``recalled`` maps a recalled lot to its reason (a text, :class:`~supplytrace.core.text.ChainText`
    or raw bytes); a lot mapped to None or False is not recalled, while an empty reason still is."""
    inputs = _inputs_of(transformations)
    _walk(lot_id, inputs)  # refuses a cycle or an unbounded graph before the search
    paths: dict[int, tuple[int, ...]] = {lot_id: (lot_id,)}
    queue = deque([lot_id])
    causes: list[RecallCause] = []
    while queue:
        lot = queue.popleft()
        value = recalled.get(lot)
        if value is not None and value is not False:
            causes.append(RecallCause(lot, paths[lot], _reason(value)))
        for nxt in inputs(lot):
            if nxt not in paths:
                paths[nxt] = (*paths[lot], nxt)
                queue.append(nxt)
    return tuple(causes)
