"""What the item page says about hidden codes (the form that takes the code inside the lid) and
about the item's checks ("Checked 37 times since 1 December 2026", and the clone warnings).
Thresholds and sentences are in :mod:`supplytrace.web.claims`."""

from __future__ import annotations

from pydantic import BaseModel

from supplytrace.core.story import Status
from supplytrace.web.claims import BUSY_DAY, CLAIM_INVITATION, CLONE_DAYS, NO_RELAYER
from supplytrace.web.i18n import fmt_date, ngettext
from supplytrace.web.i18n import gettext as _

#: Statuses whose item may still be claimed (the contract takes any unclaimed item; a recalled
#: one is not to be used, so the page does not ask for its code).
CLAIMABLE: frozenset[Status] = frozenset({"genuine", "sold"})


class ClaimForm(BaseModel):
    """The form that takes the code inside the lid (no JavaScript: a plain POST)."""

    action: str
    invitation: str = CLAIM_INVITATION
    available: bool = True
    unavailable: str = NO_RELAYER
    error: str | None = None
    typed: str = ""


class Checks(BaseModel):
    """How often the item's page was opened (counts per day; nothing about who opened it)."""

    count: int
    since: int  # unix time of the first day
    sentence: str


def claim_form(item_id: str, status: Status, *, has_codes: bool, relayer: bool) -> ClaimForm | None:
    """The claim form of an unclaimed item whose lot has hidden codes the page holds, else None."""
    if not has_codes or status not in CLAIMABLE:
        return None
    return ClaimForm(
        action=f"/item/{item_id}/claim",
        available=relayer,
        invitation=_(CLAIM_INVITATION),
        unavailable=_(NO_RELAYER),
    )


def checks_and_warning(
    tally: tuple[int, int | None, int, int] | None, status: Status
) -> tuple[Checks | None, str | None]:
    """The checks line and, when the pattern looks like a copied code, the warning, from the book's
    (checks, first day, busy days, checks after the claim day)."""
    if tally is None:
        return None, None
    count, first, busy_days, after_claim = tally
    if not count or first is None:
        return None, None
    since = first * 86400
    checks = Checks(count=count, since=since, sentence=_checked(count, since))
    warning = None
    if status == "claimed" and after_claim:
        warning = ngettext(
            "This code was checked once after the day its inner code was used: copies of its outer code "
            "may be on other packs.",
            "This code was checked %(num)s times after the day its inner code was used: copies of its "
            "outer code may be on other packs.",
            after_claim,
        )
    elif status != "claimed" and status != "unknown" and busy_days >= CLONE_DAYS:
        warning = _(
            "This code was checked %(busy)s times or more on each of %(days)s different days: it may have "
            "been copied onto other packs. If your pack has a code inside its lid, entering it makes this "
            "item yours.",
            busy=BUSY_DAY,
            days=busy_days,
        )
    return checks, warning


def _checked(count: int, since: int) -> str:
    """``Checked 37 times since 1 December 2026.`` in the reader's language."""
    return ngettext(
        "Checked once since %(day)s.", "Checked %(num)s times since %(day)s.", count, day=fmt_date(since)
    )
