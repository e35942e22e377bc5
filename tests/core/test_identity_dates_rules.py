import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from dangjian.core import rules
from dangjian.core.dates import add_months, add_years, parse_date
from dangjian.core.excel import safe_cell
from dangjian.core.identity import id_check_char, mask_id_number, mask_phone, validate_id_number, validate_phone


def test_known_valid_id_number_passes_gb11643():
    # The standard's worked example: 11010519491231002X.
    validate_id_number("11010519491231002X")
    validate_id_number("11010519491231002x")  # lower-case x is normalised


@pytest.mark.parametrize(("number", "code"), [
    ("110105194912310021", "id_checksum"),
    ("11010519491331002X", "id_birth"),
    ("1101051949123100", "id_format"),
    ("11010519491231002Y", "id_format"),
])
def test_bad_id_numbers_are_refused_with_a_reason(number, code):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(number)
    assert exc.value.code == code
    assert "身份证号" in exc.value.messages[0]


def test_check_char_matches_the_standard_table():
    assert id_check_char("11010519491231002") == "X"


def test_masks_hide_district_birth_date_and_sequence():
    # Shown beside the birth date in the roster, the mask must not let the two rebuild the number.
    assert mask_id_number("11010519491231002X") == "1101************2X"
    assert mask_phone("13812345678") == "138****5678"


def test_phone_validation():
    validate_phone("13812345678")
    validate_phone("0571-87654321")
    with pytest.raises(ValidationError):
        validate_phone("1381234")


@pytest.mark.parametrize("text", ["2022-3-1", "2022年3月1日", "2022.03.01", "2022/03/01", "20220301", " 2022-03-01 "])
def test_dates_in_the_forms_people_type(text):
    assert parse_date(text) == dt.date(2022, 3, 1)


@pytest.mark.parametrize("text", ["2022-2-30", "三月一日", "", "2022-13-01"])
def test_unreadable_dates_say_what_to_write(text):
    with pytest.raises(ValueError, match="2022|日期"):
        parse_date(text)


def test_add_years_and_months_handle_month_ends():
    assert add_years(dt.date(2020, 2, 29), 3) == dt.date(2023, 2, 28)
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)


def test_formula_cells_are_escaped():
    assert safe_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert safe_cell("+1") == "'+1"
    assert safe_cell("张三") == "张三"
    assert safe_cell(3) == 3


def test_rules_carry_source_and_effective_date():
    rule = rules.rule("branch.min_full_members", on=dt.date(2024, 1, 1))
    assert rule.value == 3
    assert "支部工作条例" in rule.source
    assert rule.effective_from == dt.date(2018, 10, 28)
    with pytest.raises(KeyError):
        rules.rule("branch.min_full_members", on=dt.date(2017, 1, 1))


def test_deployment_override_tightens_a_rule_from_its_date(tmp_path, settings):
    override = tmp_path / "local.toml"
    override.write_text(
        '[[rule]]\ncode = "term.reminder_months"\nlabel = "换届提前提醒（月）"\nvalue = 8\n'
        'source = "某市实施细则"\neffective_from = 2025-01-01\n', encoding="utf-8")
    settings.RULES_OVERRIDE_FILE = str(override)
    rules.reload()
    try:
        assert rules.value("term.reminder_months", on=dt.date(2024, 12, 31)) == 6
        assert rules.value("term.reminder_months", on=dt.date(2025, 1, 1)) == 8
    finally:
        settings.RULES_OVERRIDE_FILE = None
        rules.reload()


def test_a_broken_override_file_stops_start_up(tmp_path, settings):
    from django.core.exceptions import ImproperlyConfigured

    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\ncode = "x"\n', encoding="utf-8")
    settings.RULES_OVERRIDE_FILE = str(bad)
    rules.reload()
    try:
        with pytest.raises(ImproperlyConfigured, match="lacks"):
            rules.all_rules()
    finally:
        settings.RULES_OVERRIDE_FILE = None
        rules.reload()


def test_control_characters_are_dropped_from_spreadsheet_text():
    assert safe_cell("会议\x07记录") == "会议记录"
    assert safe_cell("=A1\x01") == "'=A1"
