"""The code inside the lid: the item page's form, the claim it sends, the rate limit that makes
the page no validity oracle, and the checks counted per item per day (``supplytrace.web.claims``),
on ape's anvil with items registered with hidden codes.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

import pytest

from supplytrace.core.codes import printed
from supplytrace.web.claims import CLAIM_INVITATION, ITEM_LIMITS, NO_RELAYER, NOT_A_CODE, WRONG_CODE
from tests.indexer.conftest import pg_server  # noqa: F401  (a real PostgreSQL server)
from tests.indexer.postgres import create_database
from tests.web.conftest import BASE, Coded, World, banner_of, head_block, text_of

#: 10:00 UTC on 1 December 2026: windows of an hour and a day start well before and after it.
T0 = 1_796_083_200 + 10 * 3600
DAY = 86400


def _at(client: Any, when: float) -> None:
    client.app.state.page.clock = lambda: when


def _post(client: Any, item: Any, code: str, **headers: str) -> Any:
    return client.post(f"/item/0x{item.id.hex()}/claim", data={"code": code}, headers=headers)


def _wrong(code: str) -> str:
    """Another valid code: the same but its first symbol."""
    return ("2" if code[0] != "2" else "3") + code[1:]


def _status(world: World, item: Any) -> int:
    return int(world.registry.getItem(item.id).status)


@pytest.fixture
def coded(register_coded: Callable[[int], Coded]) -> Coded:
    return register_coded(3)


def test_open_coded_item__unclaimed__page_asks_for_the_code_inside_the_lid(
    claim_client: Callable[..., Any], coded: Coded
) -> None:
    page = claim_client().get(coded.keys[0].digital_link(BASE)[len(BASE) :])
    assert page.status_code == 200 and banner_of(page.text)[0] == "genuine"
    assert CLAIM_INVITATION in text_of(page.text)
    assert (
        f'<form class="check-code" action="/item/0x{coded.keys[0].id.hex()}/claim" method="post">'
        in page.text
    )
    assert '<label for="code">Code inside the lid</label>' in page.text
    assert 'inputmode="text" autocomplete="off"' in page.text


def test_open_item_without_codes__unclaimed__no_form(claim_client: Callable[..., Any], world: World) -> None:
    page = claim_client().get(world.key("genuine").digital_link(BASE)[len(BASE) :])
    assert CLAIM_INVITATION not in page.text and "<form" not in page.text


def test_post_right_code__unclaimed_item__claimed_and_page_says_so(
    claim_client: Callable[..., Any], coded: Coded, world: World
) -> None:
    client = claim_client()
    item = coded.keys[0]
    answer = _post(client, item, printed(coded.code()).lower().replace("-", " "))  # typed loosely
    assert answer.status_code == 303 and answer.headers["location"] == f"/item/0x{item.id.hex()}"
    assert _status(world, item) == 3  # Claimed
    status, text = banner_of(client.get(answer.headers["location"]).text)
    assert status == "claimed" and "inner code was used on" in text
    again = client.get(item.digital_link(BASE)[len(BASE) :])  # the outer code, copied or not
    assert banner_of(again.text)[0] == "claimed" and "<form" not in again.text


def test_post_wrong_code__unclaimed_item__does_not_match_and_nothing_is_sent(
    claim_client: Callable[..., Any], coded: Coded, world: World
) -> None:
    client = claim_client()
    before = head_block(world)
    answer = _post(client, coded.keys[0], _wrong(coded.code()))
    assert answer.status_code == 400 and WRONG_CODE in text_of(answer.text)
    assert 'aria-invalid="true"' in answer.text
    assert head_block(world) == before and _status(world, coded.keys[0]) == 1


def test_post_malformed_code__unclaimed_item__says_what_a_code_is_and_counts_no_try(
    claim_client: Callable[..., Any], coded: Coded
) -> None:
    client = claim_client()
    _at(client, T0)
    for _ in range(ITEM_LIMITS[0][1] + 3):
        answer = _post(client, coded.keys[0], "not a code")
        assert answer.status_code == 400 and NOT_A_CODE in text_of(answer.text)
    assert _post(client, coded.keys[0], _wrong(coded.code())).status_code == 400  # not locked


def test_post_1000_wrong_codes__one_item__locked_and_no_transaction(
    claim_client: Callable[..., Any], coded: Coded, world: World, relayer: Any
) -> None:
    client = claim_client()
    _at(client, T0)
    before, nonce = head_block(world), relayer.nonces.next_nonce()
    answers = [_post(client, coded.keys[0], _wrong(coded.code())).status_code for _ in range(1000)]
    allowed = ITEM_LIMITS[0][1]
    assert answers[:allowed] == [400] * allowed and set(answers[allowed:]) == {429}
    assert head_block(world) == before and relayer.nonces.next_nonce() == nonce
    assert _post(client, coded.keys[0], coded.code()).status_code == 429  # the right code too
    assert _status(world, coded.keys[0]) == 1


def test_post_right_and_wrong_code__locked_item__identical_answers(
    claim_client: Callable[..., Any], coded: Coded, world: World
) -> None:
    client = claim_client()
    _at(client, T0)
    item = coded.keys[0]
    for _ in range(ITEM_LIMITS[0][1]):
        assert _post(client, item, _wrong(coded.code())).status_code == 400
    right, wrong, malformed = (_post(client, item, c) for c in (coded.code(), _wrong(coded.code()), "x"))
    assert right.status_code == wrong.status_code == malformed.status_code == 429
    assert right.content == wrong.content == malformed.content
    assert dict(right.headers) == dict(wrong.headers)
    assert _status(world, item) == 1
    _at(client, T0 + 3600)  # the next hour: the item takes codes again
    assert _post(client, item, coded.code()).status_code == 303 and _status(world, item) == 3


def test_post_wrong_codes__day_limit__locked_until_the_next_day(
    claim_client: Callable[..., Any], coded: Coded
) -> None:
    client = claim_client()
    hourly, daily = ITEM_LIMITS[0][1], ITEM_LIMITS[1][1]
    item, wrong = coded.keys[0], _wrong(coded.code())
    for hour in range(daily // hourly):
        _at(client, T0 + hour * 3600)
        assert [_post(client, item, wrong).status_code for _ in range(hourly)] == [400] * hourly
    _at(client, T0 + (daily // hourly) * 3600)
    assert _post(client, item, coded.code()).status_code == 429
    _at(client, T0 + DAY)
    assert _post(client, item, wrong).status_code == 400


def test_post_wrong_codes__one_client_many_items__client_locked(
    claim_client: Callable[..., Any], coded: Coded
) -> None:
    client = claim_client()
    _at(client, T0)
    hourly = ITEM_LIMITS[0][1]
    for item, code in zip(coded.keys[:2], (coded.code(0), coded.code(1)), strict=True):
        assert [_post(client, item, _wrong(code)).status_code for _ in range(hourly)] == [400] * hourly
    assert _post(client, coded.keys[2], coded.code(2)).status_code == 429  # 11th try of the hour


def test_post_code__from_another_site__refused(claim_client: Callable[..., Any], coded: Coded) -> None:
    client = claim_client()
    answer = _post(client, coded.keys[0], coded.code(), Origin="https://elsewhere.example")
    assert answer.status_code == 403
    assert _post(client, coded.keys[0], coded.code(), Origin="null").status_code == 403


def test_open_coded_item__no_relayer__says_codes_are_not_taken_here(
    claim_client: Callable[..., Any], claims_of: Callable[..., Any], coded: Coded
) -> None:
    client = claim_client(claims_of(relay=False))
    page = client.get(f"/item/0x{coded.keys[0].id.hex()}")
    assert NO_RELAYER in text_of(page.text) and "<form" not in page.text
    assert _post(client, coded.keys[0], coded.code()).status_code == 404


def test_open_item_page__three_views__checked_three_times_since_today(
    claim_client: Callable[..., Any], coded: Coded
) -> None:
    client = claim_client()
    _at(client, T0)
    url = coded.keys[0].digital_link(BASE)[len(BASE) :]
    client.get(url)
    client.head(url)  # neither a HEAD, the JSON nor the API is a page view
    client.get(url, headers={"Accept": "application/json"})
    client.get(f"/api/items/0x{coded.keys[0].id.hex()}")
    client.get(f"/item/0x{coded.keys[0].id.hex()}")
    assert "Checked 3 times since 1 December 2026." in text_of(client.get(url).text)


def test_open_unclaimed_item__busy_on_seven_days__warns_of_a_copy(
    claim_client: Callable[..., Any], coded: Coded
) -> None:
    client = claim_client()
    url = f"/item/0x{coded.keys[0].id.hex()}"
    for day in range(7):
        _at(client, T0 + day * DAY)
        pages = [client.get(url).text for _ in range(3)]
        assert ("may have been copied" in text_of(pages[-1])) == (day == 6), day
    assert "Checked 21 times since 1 December 2026." in text_of(pages[-1])


def test_open_claimed_item__checked_a_day_after_the_claim__warns_of_a_copy(
    claim_client: Callable[..., Any], coded: Coded
) -> None:
    client = claim_client()
    url = f"/item/0x{coded.keys[0].id.hex()}"
    assert _post(client, coded.keys[0], coded.code()).status_code == 303
    assert "after the day its inner code was used" not in text_of(client.get(url).text)
    _at(client, client.app.state.page.clock() + DAY)
    assert "checked once after the day its inner code was used" in text_of(client.get(url).text)


def test_two_pages__one_postgresql__one_rate_limit_and_one_scan_count(
    claim_client: Callable[..., Any],
    claims_of: Callable[..., Any],
    coded: Coded,
    pg_server: str,  # noqa: F811
    world: World,
) -> None:
    db = create_database(pg_server, f"supplytrace_page_{coded.keys[0].id.hex()[:12]}")
    pages = [claim_client(claims_of(db)), claim_client(claims_of(db))]
    for page in pages:
        _at(page, T0)
    url = f"/item/0x{coded.keys[0].id.hex()}"
    pages[0].get(url), pages[1].get(url)
    assert "Checked 3 times since 1 December 2026." in text_of(pages[0].get(url).text)
    wrong = _wrong(coded.code())
    before = head_block(world)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: _post(pages[n % 2], coded.keys[0], wrong).status_code, range(24)))
    assert sorted(answers) == [400] * ITEM_LIMITS[0][1] + [429] * (24 - ITEM_LIMITS[0][1])
    assert (
        _post(pages[0], coded.keys[0], coded.code()).content == _post(pages[1], coded.keys[0], wrong).content
    )
    assert head_block(world) == before
