"""Checking an EPCIS 2.0 document (or a single event) against GS1's EPCIS 2.0 JSON Schema,
offline.

An export is only useful if other EPCIS systems take it, so the tests check every mapping of
:mod:`supplytrace.core.epcis` and every builder of :mod:`supplytrace.core.epcis_builders` with
the schema GS1 publishes (vendored in :mod:`supplytrace.core.epcis_schema`). The schema is
draft-07 and self-contained; its ``$ref``\\ s are resolved from a local ``referencing`` registry
that cannot fetch anything. Its ``format``s are asserted (``uri``, ``date-time``), as GS1's own
validation script does, so an identifier that is not a URI is caught, not just a missing field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from supplytrace.core.epcis_schema import SCHEMA_FILE
from supplytrace.core.errors import SupplytraceError

#: The formats the schema uses that must be asserted (each needs its validator package).
ASSERTED_FORMATS = frozenset({"uri", "date-time"})
_SHOWN = 160  # characters of one alternative's message shown
_KIND = {False: "object", True: "list"}


class EpcisSchemaError(SupplytraceError, ValueError):
    """An EPCIS document breaks GS1's EPCIS 2.0 JSON Schema. ``where`` is the JSON path of the
    first problem (``$.epcisBody.eventList[3].bizStep``), ``problem`` what is wrong there."""

    def __init__(self, problem: str, where: str, event: str | None = None) -> None:
        self.problem = problem
        self.where = where
        self.event = event
        about = f" ({event})" if event else ""
        super().__init__(
            f"the EPCIS document breaks GS1's EPCIS 2.0 schema at {where}{about}: {problem} "
            "(an export of supplytrace that does this is a bug: please report it)."
        )


def schema() -> dict[str, Any]:
    """GS1's EPCIS 2.0 JSON Schema, as vendored."""
    contents: dict[str, Any] = json.loads(_schema_text())
    return contents


@cache
def _schema_text() -> str:
    return resources.files("supplytrace.core.epcis_schema").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


@cache
def _validator() -> Any:
    from jsonschema import Draft7Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    contents = schema()
    # Only the schema itself: a $ref to anything else is unresolvable, never fetched.
    registry: Registry[Any] = Registry().with_resource(contents["$id"], DRAFT7.create_resource(contents))
    checker = Draft7Validator.FORMAT_CHECKER
    missing = ASSERTED_FORMATS - set(checker.checkers)
    if missing:  # jsonschema skips a format whose validator package is absent: say so, loudly
        raise RuntimeError(
            f"jsonschema cannot check the formats {sorted(missing)}: install rfc3986-validator and "
            "rfc3339-validator (dependencies of supplytrace)"
        )
    return Draft7Validator(contents, registry=registry, format_checker=checker)


def validate_epcis(document: Mapping[str, Any]) -> None:
    """Raise :class:`EpcisSchemaError` naming the first problem of ``document`` (in document
    order) and where it is, if it breaks GS1's EPCIS 2.0 JSON Schema; return None if it keeps it.

    ``document`` is an ``EPCISDocument`` or a single event (which then needs its own
    ``@context``), as the schema's root accepts.
    """
    from jsonschema.exceptions import best_match

    errors = list(_validator().iter_errors(document))
    if not errors:
        return
    first = min(_position(document, e.absolute_path) for e in errors)
    error = best_match(e for e in errors if _position(document, e.absolute_path) == first)
    raise EpcisSchemaError(_problem(error), str(error.json_path), _event_of(document, error.absolute_path))


def _position(document: Any, path: Iterable[Any]) -> tuple[int, ...]:
    """Where ``path`` is in ``document``, in the order its fields were written (a field's index in
    its object, an element's in its list): the key that sorts problems by where they appear."""
    out: list[int] = []
    node = document
    for step in path:
        if isinstance(node, Mapping):
            keys = list(node)
            out.append(keys.index(step) if step in node else len(keys))
        else:
            out.append(int(step))
        node = node[step]
    return tuple(out)


def _problem(error: Any) -> str:
    """The error's message; for "valid under none of the alternatives", the alternatives' own
    complaints too (shortened), and for a field name, that it is a field name."""
    message = str(error.message)
    if isinstance(error.instance, Mapping | list):  # not the whole event again: it is named
        message = message.replace(repr(error.instance), "the " + _KIND[isinstance(error.instance, list)])
    if "propertyNames" in error.absolute_schema_path:
        return (
            f"field {error.instance!r} is neither one this event type has nor an extension named by "
            "a URI or a prefix:name of the document's @context"
        )
    reasons = [str(c.message) for c in error.context or ()]
    if reasons:
        shown = [r if len(r) <= _SHOWN else r[: _SHOWN - 3] + "..." for r in dict.fromkeys(reasons)]
        message += " (" + "; or ".join(shown) + ")"
    return message


def _event_of(document: Any, path: Iterable[Any]) -> str | None:
    """The event the problem is in, as its position, type and id, when it is in one."""
    steps = list(path)
    if steps[:2] != ["epcisBody", "eventList"] or len(steps) < 3:
        return None
    try:
        event = document["epcisBody"]["eventList"][steps[2]]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(event, Mapping):
        return f"event {steps[2]}"
    return " ".join(str(p) for p in (f"event {steps[2]}:", event.get("type"), event.get("eventID")) if p)
