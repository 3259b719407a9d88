"""supplytrace.core.lineage: origin shares of blends (EU Directive 2024/1438 labels), ancestors,
descendants and recall causes, exact and bounded against hostile chain data."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supplytrace.core.errors import SupplytraceError
from supplytrace.core.lineage import (
    MAX_DEPTH,
    LineageError,
    LotInput,
    RecallCause,
    Transformation,
    ancestors,
    country_name,
    descendants,
    origin_label,
    origin_shares,
    percentages,
    recall_causes,
)
from supplytrace.core.text import ChainText


def made(output: int, *inputs: tuple[int, int], unit: str = "g") -> Transformation:
    """Lot ``output`` made from ``(lot, quantity)`` inputs, all of the output's quantity."""
    used = tuple(LotInput(lot, quantity) for lot, quantity in inputs)
    return Transformation(output, used, sum(q for _, q in inputs), unit)


def graph(*transformations: Transformation) -> dict[int, Transformation]:
    return {t.output_lot_id: t for t in transformations}


RO, BG, HU = 1, 2, 3
ORIGINS = {RO: "RO", BG: "BG", HU: "HU"}
#: blend A = RO 600 g + BG 400 g; blend B = A 500 g + HU 500 g
BLEND_A, BLEND_B = 10, 11
BLENDS = graph(made(BLEND_A, (RO, 600), (BG, 400)), made(BLEND_B, (BLEND_A, 500), (HU, 500)))


# ---------------------------------------------------------------------------------------------
# origin_shares
# ---------------------------------------------------------------------------------------------


def test_origin_shares__lot_not_transformed__wholly_its_own_country() -> None:
    assert origin_shares(RO, ORIGINS, {}) == (("RO", Fraction(1)),)


def test_origin_shares__two_harvests_blended__62_and_38_percent_exactly() -> None:
    blend = graph(made(7, (BG, 19_000), (RO, 31_000)))

    shares = origin_shares(7, ORIGINS, blend)

    assert shares == (("RO", Fraction(62, 100)), ("BG", Fraction(38, 100)))
    assert origin_label(shares) == "Blend of honey from Romania (62 %), Bulgaria (38 %)"


def test_origin_shares__blend_of_blends__weighted_through_both_levels() -> None:
    shares = origin_shares(BLEND_B, ORIGINS, BLENDS)

    assert shares == (("HU", Fraction(1, 2)), ("RO", Fraction(3, 10)), ("BG", Fraction(1, 5)))
    assert origin_label(shares) == "Blend of honey from Hungary (50 %), Romania (30 %), Bulgaria (20 %)"


def test_origin_shares__inputs_partly_consumed__weighted_by_quantity_consumed_not_lot_size() -> None:
    # the Romanian lot holds 900 kg and the Bulgarian 10 kg; only 1 kg of each goes into the blend
    sizes = {RO: 900_000, BG: 10_000}
    blend = graph(Transformation(7, (LotInput(RO, 1_000), LotInput(BG, 1_000)), 1_950, "g"))

    assert sizes[RO] != sizes[BG]
    assert origin_shares(7, ORIGINS, blend) == (("BG", Fraction(1, 2)), ("RO", Fraction(1, 2)))


def test_origin_shares__same_country_from_two_lots__one_share_summed() -> None:
    origins = {1: "RO", 2: "ro", 3: "BG"}
    blend = graph(made(7, (1, 300), (2, 300), (3, 400)))

    assert origin_shares(7, origins, blend) == (("RO", Fraction(3, 5)), ("BG", Fraction(2, 5)))


def test_origin_shares__input_of_unknown_origin__unknown_listed_last() -> None:
    origins = {RO: "RO", BG: None, 4: ""}  # lot 5 has no origin entry at all
    blend = graph(made(7, (RO, 100), (BG, 300), (4, 300), (5, 300)))

    shares = origin_shares(7, origins, blend)

    assert shares == (("RO", Fraction(1, 10)), (None, Fraction(9, 10)))
    assert origin_label(shares) == "Blend of honey from Romania (10 %), unknown origin (90 %)"


def test_origin_shares__equal_shares__ordered_by_country_code() -> None:
    origins = {1: "SK", 2: "AT", 3: "HU"}
    blend = graph(made(7, (1, 1), (2, 1), (3, 1)))

    assert [code for code, _ in origin_shares(7, origins, blend)] == ["AT", "HU", "SK"]


def test_origin_shares__made_lot_with_its_own_origin__inputs_decide() -> None:
    origins = {**ORIGINS, BLEND_A: "DE"}

    assert origin_shares(BLEND_A, origins, BLENDS) == (("RO", Fraction(3, 5)), ("BG", Fraction(2, 5)))


@pytest.mark.parametrize("quantity", [0, -5])
def test_origin_shares__quantity_not_positive__domain_error(quantity: int) -> None:
    blend = graph(made(7, (RO, 100), (BG, quantity)))

    with pytest.raises(LineageError, match="not a positive quantity"):
        origin_shares(7, ORIGINS, blend)


def test_origin_shares__transformation_without_inputs__domain_error() -> None:
    with pytest.raises(LineageError, match="no input lots"):
        origin_shares(7, ORIGINS, graph(Transformation(7, (), 100, "g")))


# ---------------------------------------------------------------------------------------------
# bounds: cycles, depth, size
# ---------------------------------------------------------------------------------------------


def test_origin_shares__cycle_of_transformations__domain_error_naming_the_cycle() -> None:
    cyclic = graph(made(7, (8, 1), (RO, 1)), made(8, (9, 1)), made(9, (7, 1)))

    with pytest.raises(LineageError, match=r"lots 7 -> 8 -> 9 -> 7 form a cycle") as raised:
        origin_shares(7, ORIGINS, cyclic)
    assert isinstance(raised.value, SupplytraceError)
    assert raised.value.message.count(".") == 1  # one sentence


@pytest.mark.parametrize("walk", [ancestors, descendants], ids=["ancestors", "descendants"])
def test_walk__lot_made_from_itself__domain_error(walk) -> None:
    with pytest.raises(LineageError, match="cycle"):
        walk(7, graph(made(7, (7, 1))))


def chain_of(levels: int) -> dict[int, Transformation]:
    """Lot ``levels`` made from lot ``levels - 1`` ... made from lot 0 (a harvest)."""
    return graph(*(made(lot, (lot - 1, 1)) for lot in range(1, levels + 1)))


def test_origin_shares__chain_at_the_depth_limit__followed() -> None:
    assert origin_shares(MAX_DEPTH, {0: "RO"}, chain_of(MAX_DEPTH)) == (("RO", Fraction(1)),)
    assert ancestors(MAX_DEPTH, chain_of(MAX_DEPTH)) == frozenset(range(MAX_DEPTH))


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 5_000])
def test_origin_shares__chain_deeper_than_the_limit__domain_error(levels: int) -> None:
    with pytest.raises(LineageError, match=f"more than {MAX_DEPTH} levels"):
        origin_shares(levels, {0: "RO"}, chain_of(levels))
    with pytest.raises(LineageError, match=f"more than {MAX_DEPTH} levels"):
        descendants(0, chain_of(levels))


def test_origin_shares__deep_path_found_after_a_short_one__domain_error() -> None:
    # lot 0 is reached first directly (depth 1), then through the long chain: the longest counts
    deep = chain_of(MAX_DEPTH + 1)
    deep[1_000] = made(1_000, (0, 1), (MAX_DEPTH, 1))

    with pytest.raises(LineageError, match="levels"):
        origin_shares(1_000, {0: "RO"}, deep)


def test_origin_shares__blend_of_too_many_lots__domain_error() -> None:
    wide = graph(made(0, *((lot, 1) for lot in range(1, 20_001))))

    with pytest.raises(LineageError, match="more than 10000 lots"):
        origin_shares(0, {}, wide)


def test_origin_shares__one_lot_listed_as_input_too_often__domain_error() -> None:
    repeated = graph(made(0, *((1, 1) for _ in range(100_001))))

    with pytest.raises(LineageError, match="100000 inputs"):
        origin_shares(0, {}, repeated)


def test_origin_shares__wide_diamonds__each_lot_visited_once() -> None:
    # 40 levels of two lots, each made from both lots below: 2**40 paths, 80 lots
    levels = graph(
        *(
            made(2 * level + side, (2 * level - 2, 1), (2 * level - 1, 1))
            for level in range(1, 41)
            for side in (0, 1)
        )
    )
    top = graph(made(1_000, (80, 1), (81, 1)))

    shares = origin_shares(1_000, {0: "RO", 1: "BG"}, {**levels, **top})

    assert shares == (("BG", Fraction(1, 2)), ("RO", Fraction(1, 2)))


# ---------------------------------------------------------------------------------------------
# percentages and the label
# ---------------------------------------------------------------------------------------------


def test_percentages__three_equal_thirds__largest_remainder_gives_the_point_to_the_first() -> None:
    thirds = [("AT", Fraction(1, 3)), ("HU", Fraction(1, 3)), ("SK", Fraction(1, 3))]

    assert percentages(thirds) == (34, 33, 33)


def test_percentages__plain_rounding_would_make_101__sum_stays_100() -> None:
    # 33.5 + 33.5 + 33.0: rounding half up gives 34 + 34 + 33 = 101
    shares = [("RO", Fraction(335, 1000)), ("BG", Fraction(335, 1000)), ("HU", Fraction(330, 1000))]

    assert percentages(shares) == (34, 33, 33)


share_sets = st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=30).map(
    lambda weights: [(None, Fraction(w, sum(weights))) for w in sorted(weights, reverse=True)]
)


@given(share_sets)
def test_percentages__any_shares__sum_100_each_within_one_point_and_ordered(shares) -> None:
    whole = percentages(shares)

    assert sum(whole) == 100
    assert all(abs(p - 100 * part) < 1 for p, (_, part) in zip(whole, shares, strict=True))
    assert list(whole) == sorted(whole, reverse=True)


def test_percentages__no_shares__domain_error() -> None:
    with pytest.raises(LineageError):
        percentages([])


def test_origin_label__single_country__honey_from_it() -> None:
    assert origin_label((("RO", Fraction(1)),)) == "Honey from Romania"
    assert origin_label((("RO", Fraction(1)),), product="acacia honey") == "Acacia honey from Romania"


def test_origin_label__unknown_origin_alone__honey_from_unknown_origin() -> None:
    assert origin_label(((None, Fraction(1)),)) == "Honey from unknown origin"


def test_origin_label__share_rounding_to_zero__listed_as_below_one_percent() -> None:
    shares = (("RO", Fraction(996, 1000)), ("BG", Fraction(4, 1000)))

    assert origin_label(shares) == "Blend of honey from Romania (100 %), Bulgaria (<1 %)"


def test_origin_label__code_babel_does_not_know__printed_as_written() -> None:
    shares = (("QQ", Fraction(1, 2)), ("<b>", Fraction(1, 2)))

    assert origin_label(shares) == "Blend of honey from QQ (50 %), <b> (50 %)"


def test_country_name__other_locales__names_from_cldr() -> None:
    assert country_name("RO", "ro") == "România"
    assert country_name("RO", "zh_CN") == country_name("RO", "zh-CN") == "罗马尼亚"
    assert country_name("001") == "001"  # a CLDR region, not an ISO 3166-1 alpha-2 country


def test_country_name__unknown_locale__domain_error() -> None:
    with pytest.raises(LineageError, match="locale 'xx_NOPE' is not known"):
        country_name("RO", "xx_NOPE")


# ---------------------------------------------------------------------------------------------
# random DAGs
# ---------------------------------------------------------------------------------------------

COUNTRIES = ["RO", "BG", "HU", "ua", None]


@st.composite
def dags(draw: st.DrawFn) -> tuple[dict[int, str | None], dict[int, Transformation]]:
    """Lots 0..n-1; lot i may be made from lots below it (so the graph is acyclic)."""
    n = draw(st.integers(min_value=1, max_value=25))
    origins = {lot: draw(st.sampled_from(COUNTRIES)) for lot in range(n)}
    transformations: dict[int, Transformation] = {}
    for lot in range(1, n):
        if draw(st.booleans()):
            used = draw(
                st.lists(st.tuples(st.integers(0, lot - 1), st.integers(1, 10**6)), min_size=1, max_size=4)
            )
            transformations[lot] = made(lot, *used)
    return origins, transformations


def naive_shares(lot: int, origins, transformations) -> dict[str | None, Fraction]:
    """The definition, recursively: a leaf is its country; a blend its inputs' shares by weight."""
    if lot not in transformations:
        code = (origins.get(lot) or "").upper() or None
        return {code: Fraction(1)}
    inputs = transformations[lot].inputs
    total = sum(used.quantity for used in inputs)
    shares: dict[str | None, Fraction] = {}
    for used in inputs:
        for code, part in naive_shares(used.lot_id, origins, transformations).items():
            shares[code] = shares.get(code, Fraction(0)) + part * Fraction(used.quantity, total)
    return shares


@given(dags(), st.data())
def test_origin_shares__random_dag__sum_exactly_one_and_only_leaf_ancestors_countries(dag, data) -> None:
    origins, transformations = dag
    lot = data.draw(st.integers(0, len(origins) - 1))

    shares = origin_shares(lot, origins, transformations)

    assert sum(part for _, part in shares) == 1
    assert all(part > 0 for _, part in shares)
    leaves = {a for a in ancestors(lot, transformations) | {lot} if a not in transformations}
    leaf_countries = {(origins[leaf] or "").upper() or None for leaf in leaves}
    assert {code for code, _ in shares} <= leaf_countries
    assert dict(shares) == naive_shares(lot, origins, transformations)
    assert sum(percentages(shares)) == 100


@given(dags(), st.data())
def test_descendants__random_dag__exactly_the_lots_having_it_as_ancestor(dag, data) -> None:
    origins, transformations = dag
    lot = data.draw(st.integers(0, len(origins) - 1))

    expected = {other for other in origins if lot in ancestors(other, transformations)}

    assert descendants(lot, transformations) == expected


# ---------------------------------------------------------------------------------------------
# ancestors, descendants, recall causes
# ---------------------------------------------------------------------------------------------


def test_ancestors__blend_of_blends__every_lot_at_any_depth() -> None:
    assert ancestors(BLEND_B, BLENDS) == {BLEND_A, RO, BG, HU}
    assert ancestors(RO, BLENDS) == frozenset()


def test_descendants__harvest_in_a_blend_of_blends__both_blends() -> None:
    assert descendants(RO, BLENDS) == {BLEND_A, BLEND_B}
    assert descendants(HU, BLENDS) == {BLEND_B}
    assert descendants(BLEND_B, BLENDS) == frozenset()


def test_recall_causes__ingredient_recalled_two_levels_down__named_with_its_path() -> None:
    recalled = {BG: "residues of a veterinary drug above the limit"}

    assert recall_causes(BLEND_B, recalled, BLENDS) == (
        RecallCause(BG, (BLEND_B, BLEND_A, BG), "residues of a veterinary drug above the limit"),
    )


def test_recall_causes__several_recalled__nearest_first_and_the_lot_itself_first() -> None:
    recalled = {BG: "pesticide", BLEND_A: "mislabelled", BLEND_B: "glass", HU: ChainText.of("syrup")}

    assert recall_causes(BLEND_B, recalled, BLENDS) == (
        RecallCause(BLEND_B, (BLEND_B,), "glass"),
        RecallCause(BLEND_A, (BLEND_B, BLEND_A), "mislabelled"),
        RecallCause(HU, (BLEND_B, HU), "syrup"),
        RecallCause(BG, (BLEND_B, BLEND_A, BG), "pesticide"),
    )


def test_recall_causes__empty_reason_or_none__empty_recalls_none_does_not() -> None:
    recalled = {RO: "", BG: None, HU: b"bad\x00bytes"}

    causes = recall_causes(BLEND_B, recalled, BLENDS)

    assert [(cause.lot_id, cause.reason) for cause in causes] == [
        (HU, str(ChainText(b"bad\x00bytes"))),
        (RO, ""),
    ]


def test_recall_causes__nothing_recalled__no_causes() -> None:
    assert recall_causes(BLEND_B, {42: "other lot"}, BLENDS) == ()


def test_recall_causes__cycle__domain_error() -> None:
    with pytest.raises(LineageError, match="cycle"):
        recall_causes(7, {7: "x"}, graph(made(7, (8, 1)), made(8, (7, 1))))
