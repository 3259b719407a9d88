"""Validation: every bad row is reported by line number, all at once, and nothing is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplytrace.batch import (
    BatchValidationError,
    RowError,
    format_errors,
    parse_rows,
    plan_batch,
    read_rows,
    register_csv,
    validate_csv,
)
from supplytrace.core.ids import encode_code
from tests.batch.conftest import RESOLVER, honey_rows, nonce
from tests.conftest import HONEY_GTIN, LOT_CODE, OTHER_GTIN, OTHER_LOT_CODE, with_check_digit

UNASSIGNED_GTIN = str(with_check_digit("0950600099999")).zfill(14)


def plan_errors(text: str) -> list[RowError]:
    with pytest.raises(BatchValidationError) as caught:
        plan_batch(parse_rows(text))
    return caught.value.errors


def where(errors: list[RowError]) -> set[tuple[int | None, str | None]]:
    return {(e.line, e.column) for e in errors}


# ----------------------------------------------------------------------------------------------
# The file alone
# ----------------------------------------------------------------------------------------------


def test_plan__every_kind_of_bad_row__all_reported_at_once_by_line_and_column():
    text = "\n".join(
        [
            "gtin,serial,lot",
            f"{HONEY_GTIN},JAR-1,{LOT_CODE}",  # 2: fine, but repeated on line 13
            f"09506000134353,JAR-3,{LOT_CODE}",  # 3: wrong check digit
            f"95O6000134352,JAR-4,{LOT_CODE}",  # 4: a letter O
            f"9.50600013435E+12,JAR-5,{LOT_CODE}",  # 5: a spreadsheet's number
            f"12345678905,JAR-6,{LOT_CODE}",  # 6: 11 digits (a lost leading zero)
            f"{HONEY_GTIN},,{LOT_CODE}",  # 7: no serial
            f"{HONEY_GTIN},JAR 8,{LOT_CODE}",  # 8: a space
            f"{HONEY_GTIN},{'S' * 21},{LOT_CODE}",  # 9: 21 characters
            f"{HONEY_GTIN},JAR-10,",  # 10: no lot
            f"{HONEY_GTIN},JAR-11,LOT-é",  # 11: not in GS1's character set
            f"{HONEY_GTIN},JAR-12,{LOT_CODE},surplus",  # 12: more values than columns
            f"{HONEY_GTIN},JAR-1,{LOT_CODE}",  # 13: the same item as line 2
            f"{HONEY_GTIN},JAR-14,{LOT_CODE}",  # 14: fine
        ]
    )
    errors = plan_errors(text)
    assert where(errors) == {
        (2, "serial"),
        (3, "gtin"),
        (4, "gtin"),
        (5, "gtin"),
        (6, "gtin"),
        (7, "serial"),
        (8, "serial"),
        (9, "serial"),
        (10, "lot"),
        (11, "lot"),
        (12, None),
        (13, "serial"),
    }
    text_of = {(e.line, e.column): e.message for e in errors}
    assert "last digit should be 2" in text_of[(3, "gtin")]
    assert "digits only" in text_of[(4, "gtin")]
    assert "format the column as text" in text_of[(5, "gtin")]
    assert "11 digits" in text_of[(6, "gtin")] and "leading zeros" in text_of[(6, "gtin")]
    assert "serial is empty" in text_of[(7, "serial")]
    assert "contains space" in text_of[(8, "serial")]
    assert "21 characters" in text_of[(9, "serial")]
    assert "lot is empty" in text_of[(10, "lot")] and "lot create" in text_of[(10, "lot")]
    assert "'é'" in text_of[(11, "lot")]
    assert "4 values but the header has 3 columns" in text_of[(12, None)]
    # One sentence per problem, each naming the fix after the semicolon.
    assert all(m.count(";") >= 1 and m.endswith(".") for m in text_of.values())


def test_plan__duplicate_rows__both_lines_reported_each_naming_the_other():
    text = "\n".join(
        [
            "gtin,serial,lot",
            f"{HONEY_GTIN},JAR-1,{LOT_CODE}",
            f"{HONEY_GTIN},JAR-2,{LOT_CODE}",
            f"{HONEY_GTIN[1:]},JAR-1,{OTHER_LOT_CODE}",  # GTIN-13 form, another lot: still the same item
            f"{HONEY_GTIN},JAR-1,{LOT_CODE}",
        ]
    )
    errors = plan_errors(text)
    assert where(errors) == {(2, "serial"), (4, "serial"), (5, "serial")}
    message = {e.line: e.message for e in errors}
    assert "also appears on lines 4, 5" in message[2]
    assert "also appears on lines 2, 5" in message[4]
    assert "delete the repeated rows" in message[5]


def test_plan__bad_rows__partial_plan_keeps_the_good_rows_for_the_chain_checks():
    with pytest.raises(BatchValidationError) as caught:
        plan_batch(parse_rows(f"gtin,serial,lot\n{HONEY_GTIN},A,{LOT_CODE}\n{HONEY_GTIN},,{LOT_CODE}\n"))
    assert caught.value.plan is not None
    assert [i.line for i in caught.value.plan.items] == [2]


def test_read__bom_semicolons_any_case_blank_lines_and_quoted_newlines__line_numbers_are_the_files():
    text = (
        "\ufeff\n"  # BOM, then a blank first line
        "Serial;LOT;GTIN;Note\n"
        f'A-1;{LOT_CODE};{HONEY_GTIN};"two\nlines"\n'  # lines 3-4
        "\n"
        f"A-2;{LOT_CODE};{HONEY_GTIN};x\n"  # line 6
        f";;;\n"  # an empty row: skipped like a blank line
        f"A 3;{LOT_CODE};{HONEY_GTIN};y\n"  # line 8: bad serial
    )
    rows = parse_rows(text)
    assert [r.line for r in rows.rows] == [3, 6, 8]
    assert rows.extra_columns == ("Note",)
    assert rows.rows[0].extra == {"Note": "two\nlines"}
    assert where(plan_errors(text)) == {(8, "serial")}


def test_read__missing_column__header_error_names_what_was_found():
    with pytest.raises(BatchValidationError) as caught:
        parse_rows(f"gtin,serial_number,lot\n{HONEY_GTIN},A,{LOT_CODE}\n")
    (error,) = caught.value.errors
    assert error.line == 1
    assert "lacks the column serial" in error.message and "'serial_number'" in error.message


def test_read__column_named_twice__header_error():
    with pytest.raises(BatchValidationError) as caught:
        parse_rows(f"gtin,serial,lot,GTIN\n{HONEY_GTIN},A,{LOT_CODE},1\n")
    assert "twice" in caught.value.errors[0].message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        (b"", "the file is empty"),
        (b"gtin,serial,lot\n", "no rows"),
        (b"gtin,serial,lot\n\xff\xfe,1,2\n", "not UTF-8"),
    ],
)
def test_read__unusable_file__one_clear_error(tmp_path, content, expected):
    path = tmp_path / "items.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BatchValidationError) as caught:
        plan_batch(read_rows(path))
    assert expected in str(caught.value)
    assert "nothing was sent" in str(caught.value)


def test_read__extra_and_unnamed_columns__extras_kept_empty_unnamed_dropped():
    rows = parse_rows(f"gtin,serial,lot,weight,\n{HONEY_GTIN},A,{LOT_CODE},250 g,\n")
    assert rows.extra_columns == ("weight",)
    assert rows.rows[0].extra == {"weight": "250 g"}
    rows = parse_rows(f"gtin,serial,lot,\n{HONEY_GTIN},A,{LOT_CODE},kept\n")
    assert rows.rows[0].extra == {"column_4": "kept"}


def test_format_errors__same_problem_on_many_rows__listed_as_line_ranges():
    errors = [RowError(n, "lot", "lot 'X' does not exist.") for n in [*range(2, 6), 9, 11, 12]]
    errors.append(RowError(7, "serial", "bad."))
    assert format_errors(errors) == [
        "lines 2-5, 9, 11-12 (lot): lot 'X' does not exist.",
        "line 7 (serial): bad.",
    ]
    assert format_errors(errors, limit=1)[-1] == "... and 1 more problems."


# ----------------------------------------------------------------------------------------------
# Against the chain
# ----------------------------------------------------------------------------------------------


def test_register_csv__gtin_owned_by_another_brand__every_row_of_it_reported_and_nothing_sent(
    registry, lot_id, brand, rogue, provider, sender, write_csv, tmp_path
):
    rows = [*honey_rows(2), (OTHER_GTIN, "R-1", LOT_CODE), (OTHER_GTIN, "R-2", LOT_CODE)]
    path = write_csv(rows)
    before = nonce(provider, brand)
    with pytest.raises(BatchValidationError) as caught:
        register_csv(path, sender, tmp_path / "receipt.csv", resolver=RESOLVER)
    gtin_errors = [e for e in caught.value.errors if e.column == "gtin"]
    assert [e.line for e in gtin_errors] == [4, 5]
    assert f"belongs to {rogue.address}" in gtin_errors[0].message
    assert "sign with the owner's account" in gtin_errors[0].message
    assert nonce(provider, brand) == before
    assert not (tmp_path / "receipt.csv").exists()


def test_register_csv__gtin_assigned_to_nobody__reported_with_the_fix(
    registry, lot_id, brand, sender, write_csv
):
    path = write_csv([*honey_rows(1), (UNASSIGNED_GTIN, "U-1", LOT_CODE)])
    with pytest.raises(BatchValidationError) as caught:
        validate_csv(path, sender)
    (gtin_error,) = [e for e in caught.value.errors if e.column == "gtin"]
    assert gtin_error.line == 3
    assert "not assigned to any brand" in gtin_error.message and brand.address in gtin_error.message


def test_register_csv__lot_that_does_not_exist__every_row_of_it_reported_and_nothing_sent(
    registry, lot_id, brand, provider, sender, write_csv
):
    path = write_csv([*honey_rows(2), *honey_rows(3, prefix="NEW-", lot="HONEY-2027")])
    before = nonce(provider, brand)
    with pytest.raises(BatchValidationError) as caught:
        register_csv(path, sender, resolver=RESOLVER)
    assert where(caught.value.errors) == {(4, "lot"), (5, "lot"), (6, "lot")}
    message = caught.value.errors[0].message
    assert "lot 'HONEY-2027' of GTIN 09506000134352 does not exist on chain" in message
    assert "supplytrace lot create" in message
    assert "lines 4-6 (lot)" in str(caught.value)
    assert nonce(provider, brand) == before


def test_register_csv__item_registered_in_another_lot__reported_as_an_error(
    registry, lot_id, other_lot_id, register, sender, write_csv
):
    register("JAR-000001", lot=other_lot_id)
    path = write_csv(honey_rows(3))
    with pytest.raises(BatchValidationError) as caught:
        validate_csv(path, sender)
    (error,) = caught.value.errors
    assert (error.line, error.column) == (3, "serial")
    assert f"already registered in lot {OTHER_LOT_CODE!r} (lot id {other_lot_id})" in error.message


def test_register_csv__lot_closed_or_recalled__reported(
    registry, lot_id, other_lot_id, brand, sender, write_csv
):
    registry.closeLot(lot_id, sender=brand)
    registry.recallLot(other_lot_id, "residues", sender=brand)
    path = write_csv([*honey_rows(1), *honey_rows(1, prefix="B-", lot=OTHER_LOT_CODE)])
    with pytest.raises(BatchValidationError) as caught:
        validate_csv(path, sender)
    message = {e.line: e.message for e in caught.value.errors}
    assert "is closed" in message[2] and "is recalled" in message[3]


def test_register_csv__signer_is_not_the_lots_registrar__every_row_reported(
    registry, lot_id, rogue, sender_of, write_csv
):
    path = write_csv(honey_rows(2))
    with pytest.raises(BatchValidationError) as caught:
        validate_csv(path, sender_of(rogue))
    assert where(caught.value.errors) == {(2, "gtin"), (3, "gtin"), (2, "lot"), (3, "lot")}


def test_register_csv__file_and_chain_problems__reported_together_and_nothing_sent(
    registry, lot_id, brand, provider, sender, write_csv, tmp_path
):
    rows = [
        *honey_rows(2),
        (HONEY_GTIN, "BAD SERIAL", LOT_CODE),  # line 4: the file
        (HONEY_GTIN, "X-1", "NO-SUCH-LOT"),  # line 5: the chain
        (OTHER_GTIN, "X-2", LOT_CODE),  # line 6: the chain (owner and lot)
    ]
    path = write_csv(rows)
    before = nonce(provider, brand)
    with pytest.raises(BatchValidationError) as caught:
        register_csv(path, sender, resolver=RESOLVER)
    assert caught.value.bad_lines == [4, 5, 6]
    assert where(caught.value.errors) == {(4, "serial"), (5, "lot"), (6, "gtin"), (6, "lot")}
    assert nonce(provider, brand) == before


def test_validate_csv__good_file__plan_and_remaining_items_without_sending(
    registry, lot_id, register, brand, provider, sender, write_csv
):
    register("JAR-000000")
    path = write_csv(honey_rows(3))
    before = nonce(provider, brand)
    plan, check = validate_csv(path, sender)
    assert plan.size == 3 and check.remaining_count == 2 and len(check.done) == 1
    assert nonce(provider, brand) == before


def test_plan__item_ids__match_the_contracts_derivation(registry, lot_id):
    text = "gtin,serial,lot\n" + "\n".join(
        f"{HONEY_GTIN},{serial},{LOT_CODE}" for serial in ["A", "x(1)", "%&/?", "Z" * 20]
    )
    for planned in plan_batch(parse_rows(text)).items:
        assert planned.item_id == bytes(registry.itemIdOf(int(HONEY_GTIN), encode_code(planned.key.serial)))


def test_read_rows__path_object_and_str__same_result(write_csv):
    path = write_csv(honey_rows(2))
    assert read_rows(path) == read_rows(str(path))
    assert isinstance(path, Path)
