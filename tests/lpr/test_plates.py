from __future__ import annotations

import pytest

from lpr.plates import (
    COUNTRIES,
    FORMATS,
    PlateError,
    PlateFormat,
    join_rows,
    match,
    normalise,
    parse,
    positions_of,
    with_region,
)


@pytest.mark.parametrize(
    ("text", "plate", "country"),
    [
        ("AT 6883 CM", "AT6883CM", "UA"),
        ("10922 BX", "10922BX", "UA"),
        ("A123BC77", "A123BC77", "RU"),
        ("T786YT777", "T786YT777", "RU"),
        ("51F-123.45", "51F12345", "VN"),
        ("30A-1234", "30A1234", "VN"),
        ("29-B1 234.56", "29B123456", "VN"),
        ("AYO-9034", "AYO9034", "BR"),
        ("BRA2E19", "BRA2E19", "BR"),
        ("RK-755AJ", "RK755AJ", "EU"),
        ("M5 XSX", "M5XSX", "EU"),
        ("W 053011", "W053011", "EU"),
    ],
)
def test_each_country_format_is_recognised(text: str, plate: str, country: str) -> None:
    found = parse(text)
    assert (found.plate, found.country) == (plate, country)
    assert found.corrections == 0


def test_cyrillic_letters_become_latin_by_shape() -> None:
    # В Н Р С У Х look like B H P C Y X; by sound they would be V N R S U KH.
    assert normalise("А 123 ВН 77") == "A123BH77"
    assert parse("Р777РР59").plate == "P777PP59"
    assert parse("ВХ0578СЕ").plate == "BX0578CE"
    assert parse("у420ах78").plate == "Y420AX78"
    assert parse("AT688ЗCM").plate == "AT6883CM"  # Ze is drawn like a three


def test_letter_without_a_latin_twin_is_no_plate() -> None:
    with pytest.raises(PlateError, match="matches no plate format"):
        parse("ЖЦ1234ЖЦ", countries=["UA"])


@pytest.mark.parametrize(
    "text",
    [
        "12:45:33",
        "2024-05-01 12:45:33",
        "TAXI",
        "STOP",
        "BMW",
        "AUTOHAUS SCHMIDT 0221-123456",
        "",
        "-.-",
    ],
)
def test_text_that_is_not_a_plate_is_rejected(text: str) -> None:
    assert match(positions_of(text)) is None


def test_two_rows_join_top_first() -> None:
    top, bottom = positions_of("29-B1"), positions_of("234.56")
    found = match(join_rows([top, bottom]), countries=["VN"])
    assert found is not None
    assert found.plate == "29B123456"


@pytest.mark.parametrize(
    ("text", "country", "plate"),
    [
        ("0KL0817", "BR", "OKL0817"),  # O/0 where Brazil has letters
        ("A1Z3BC77", "RU", "A123BC77"),  # Z/2 in the digits
        ("8X0578CE", "UA", "BX0578CE"),  # B/8 in the series
        ("AA7S64MX", "UA", "AA7564MX"),  # S/5 in the number
        ("AI1382H8", "UA", "AI1382HB"),
    ],
)
def test_confusions_are_fixed_where_the_format_fixes_the_kind(
    text: str, country: str, plate: str
) -> None:
    found = parse(text, countries=[country])
    assert found.plate == plate
    assert found.corrections >= 1


def test_reader_alternatives_decide_a_confusion() -> None:
    # The reader saw 0 but found O nearly as likely: the Brazilian format takes the O.
    read = [{"0": 0.6, "O": 0.35}, *positions_of("KL0817")]
    found = match(read)
    assert found is not None
    assert (found.plate, found.country, found.corrections) == ("OKL0817", "BR", 0)


def test_a_sure_generic_plate_is_not_bent_into_a_national_format() -> None:
    # Read with certainty, 4812C34 fits the generic European format as it is; bending 4 into A,
    # 8 into B and 1 into I for Brazil's LLLDLDD would invent a plate.
    assert parse("4812C34").plate == "4812C34"


def test_same_glyph_swaps_are_cheap_where_the_format_wants_the_other() -> None:
    # Many plate fonts draw O and 0 (and I and 1) alike, so one swap beats the generic format.
    assert parse("RK896A0").plate == "RK896AO"
    assert parse("0KL0817").plate == "OKL0817"
    assert parse("PJ15396").plate == "PJI5396"


def test_a_polish_diplomatic_plate_is_not_bent_into_two_letters() -> None:
    # W053011 fits LL DDDDD with one same-glyph swap (WO53011); as read it is a plate itself.
    assert parse("W053011").plate == "W053011"
    assert parse("X053011").plate == "XO53011"  # only Warsaw issues diplomatic plates


def test_a_plate_valid_as_read_is_not_corrected_within_its_country() -> None:
    # ANE2734 is a valid generic European plate as it is; the shared LL DDDDD format must not
    # bend E into 3 to fit, unless the reader itself found a 3 plausible.
    assert parse("ANE2734", countries=["EU"]).plate == "ANE2734"
    doubtful = [*positions_of("AN"), {"E": 0.6, "3": 0.35}, *positions_of("2734")]
    found = match(doubtful, countries=["EU"])
    assert found is not None
    assert found.plate == "AN32734"


def test_same_glyph_swaps_still_fit_a_plate_valid_as_read() -> None:
    # O and 0 are one shape on Slovak plates: the read never chose, the format decides.
    assert parse("RK896A0", countries=["EU"]).plate == "RK896AO"


def test_a_stray_character_is_left_out_at_the_ends_before_inside() -> None:
    # The blue strip's "UA" read as an E in front of AI 1382 HB, and the I as doubtful as the E.
    strip = [{"E": 0.39, "C": 0.25}, {"A": 0.99}, {"I": 0.37, "1": 0.35}]
    found = match([*strip, *positions_of("1382HB")], countries=["UA"])
    assert found is not None
    assert found.plate == "AI1382HB"


def test_stray_characters_around_a_plate_are_left_out() -> None:
    strip = [{"U": 0.4, "V": 0.3}, {"A": 0.5}, *positions_of("AT6883CM")]
    found = match(strip, countries=["UA"])
    assert found is not None
    assert found.plate == "AT6883CM"
    sticker = [*positions_of("1Z7"), {"8": 0.3, "B": 0.2}, *positions_of("5233")]
    found = match(sticker, countries=["EU"])
    assert found is not None
    assert found.plate == "1Z75233"


def test_a_sure_character_inside_a_group_is_not_left_out() -> None:
    # The Slovak blue strip read as H: dropping the sure A between the digits would make the
    # old Brazilian HRK7081, but a plate prints nothing inside a group of characters.
    read = _read_text("HRK-708A1", at0={"H": 0.7}, at3={"-": 0.5}, at8={"1": 0.94})
    assert _plate(read) == ("RK708AI", "EU")


def test_a_seal_between_groups_is_what_is_left_out() -> None:
    # A Czech inspection seal between 4B4 and 0262, read as a sure 8: leaving out the 4 before
    # it would fit the format as well, but that 4 sits inside the first group.
    assert _plate(positions_of("4B480262")) == ("4B40262", "EU")


def test_gaps_follow_the_pattern() -> None:
    czech = next(f for f in FORMATS if isinstance(f, PlateFormat) and f.pattern == "DLD DDDD")
    assert czech.kinds == "DLDDDDD"
    assert czech.gaps == {3}
    mercosur = next(f for f in FORMATS if isinstance(f, PlateFormat) and f.gapless)
    assert mercosur.gaps == frozenset()


def test_a_confident_read_in_a_format_scores_higher_than_a_doubtful_one() -> None:
    sure = match(positions_of("AT6883CM"))
    doubtful = match([{"A": 0.5, "4": 0.4}, *positions_of("T6883CM")])
    assert sure is not None
    assert doubtful is not None
    assert sure.score > doubtful.score


def test_a_region_restricts_the_formats() -> None:
    assert parse("AB1234CE", countries=["ua"]).country == "UA"
    assert match(positions_of("AYO9034"), countries=["RU"]) is None


def test_unknown_country_is_a_clear_error() -> None:
    with pytest.raises(PlateError, match="no plate format for \\['XX'\\]"):
        match(positions_of("AB1234CD"), countries=["XX"])


def test_every_country_has_a_format() -> None:
    assert set(COUNTRIES) == {"UA", "RU", "VN", "BR", "EU", "US"}


def _read(*chars: dict[str, float]) -> list[dict[str, float]]:
    return list(chars)


def test_a_surer_region_read_replaces_the_plates_region() -> None:
    # The whole-plate read saw the small region as 19 with a doubtful 9; the region box alone
    # reads 199 surely.
    plate = match([*positions_of("K707YY1"), {"9": 0.5, "7": 0.3}])
    assert plate is not None and plate.plate == "K707YY19"
    fixed = with_region(plate, _read({"1": 0.95}, {"9": 0.97}, {"9": 0.96}))
    assert fixed is not None
    assert (fixed.plate, fixed.country) == ("K707YY199", "RU")
    assert fixed.score > plate.score


def test_a_region_read_less_sure_than_the_plates_is_ignored() -> None:
    plate = match(positions_of("E677MC43"))
    assert plate is not None
    assert with_region(plate, _read({"6": 0.8, "4": 0.2}, {"3": 0.9})) is None


def test_a_region_cut_short_does_not_drop_a_digit_read_surely() -> None:
    # The region box clipped 777's last 7: its "77" is sure, but so was the plate's third 7.
    plate = match([*positions_of("A420KT77"), {"7": 0.7, "1": 0.2}])
    assert plate is not None and plate.plate == "A420KT777"
    assert with_region(plate, _read({"7": 0.99}, {"7": 0.99})) is None
    # Where the third digit was a guess (a frame line read as 1), the shorter read wins.
    guessed = match([*positions_of("H002EX71"), {"1": 0.3, "7": 0.25}])
    assert guessed is not None and guessed.plate == "H002EX711"
    fixed = with_region(guessed, _read({"7": 0.99}, {"1": 0.99}))
    assert fixed is not None and fixed.plate == "H002EX71"


def test_a_doubtful_extra_digit_does_not_make_the_region_surer() -> None:
    # "171": the region's frame line read as a doubtful 1 in front of the plate's own 71.
    plate = match([*positions_of("H002EX7"), {"1": 0.85}])
    assert plate is not None
    assert with_region(plate, _read({"1": 0.6}, {"7": 0.99}, {"1": 0.99})) is None


def test_only_russian_plates_take_a_region() -> None:
    plate = match(positions_of("AB1234CE"))
    assert plate is not None and plate.country == "UA"
    assert with_region(plate, positions_of("77")) is None


def test_a_match_keeps_the_probability_of_each_character() -> None:
    plate = match([*positions_of("A123BC7"), {"7": 0.5, "1": 0.2}])
    assert plate is not None
    assert plate.probabilities == (1.0,) * 7 + (0.5,)


def _read_text(text: str, **alternatives: dict[str, float]) -> list[dict[str, float]]:
    """``text`` read with certainty, except the positions named ``at<i>``."""
    return [alternatives.get(f"at{i}", {c: 1.0}) for i, c in enumerate(text)]


def test_a_dash_inside_the_read_speaks_against_a_gapless_format() -> None:
    # S or 5 in the fifth place: without a gap a Mercosur plate, with a dash an old grey one.
    doubtful = {"S": 0.9, "5": 0.1}
    assert _plate(_read_text("KTR4S81", at4=doubtful)) == ("KTR4S81", "BR")
    dashed = _read_text("KTR-4S81", at3={"-": 0.6, ".": 0.05}, at5=doubtful)
    assert _plate(dashed) == ("KTR4581", "BR")


def _plate(positions: list[dict[str, float]]) -> tuple[str, str]:
    found = match(positions)
    assert found is not None
    return found.plate, found.country
