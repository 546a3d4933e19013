"""The units registry CSV an admin imports: the same columns as the campaign's registry."""

import pytest

from smonth_intake import domain
from smonth_shared.problems import Problem

HEADER = "code,name,kind,province\n"


def test_a_well_formed_csv_gives_its_units() -> None:
    units = domain.parse_registry(HEADER + "44,广东省,province,44\nM40,国家消防救援局,ministry,\n")

    assert [(u.code, u.kind) for u in units] == [("44", "province"), ("M40", "ministry")]


def test_a_byte_order_mark_from_a_spreadsheet_is_ignored() -> None:
    assert domain.parse_registry(
        "\ufeff" + HEADER + "E031,中国中车集团有限公司,central_enterprise,\n"
    )


def test_other_columns_are_refused_naming_the_expected_ones() -> None:
    with pytest.raises(Problem) as refused:
        domain.parse_registry("code,name\n44,广东省\n")

    assert refused.value.errors[0].loc == ["line", 1]
    assert "code,name,kind,province" in refused.value.detail


def test_every_bad_line_is_named_with_its_line_number() -> None:
    text = (
        HEADER + "44,广东省,province,44\n99,无此省,province,99\nM41,,ministry,\nX1,某单位,club,\n"
    )

    with pytest.raises(Problem) as refused:
        domain.parse_registry(text)

    assert {e.loc[1] for e in refused.value.errors} == {3, 4, 5}


def test_a_unit_listed_twice_is_refused() -> None:
    with pytest.raises(Problem) as refused:
        domain.parse_registry(HEADER + "M40,甲,ministry,\nM40,乙,ministry,\n")

    assert refused.value.errors[0].loc == ["line", 3, "code"]
