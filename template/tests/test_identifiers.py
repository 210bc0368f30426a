"""NIK, KK, NPWP and phone numbers: parsed, checked, masked; errors never echo the number."""

from __future__ import annotations

import datetime as dt

import pytest

from hibahbansos.identifiers import (
    InvalidIdentifier,
    mask_nik,
    mask_phone,
    parse_kk,
    parse_nik,
    parse_npwp,
    parse_phone,
)

TODAY = dt.date(2026, 11, 28)


def test_nik_of_a_woman_born_in_1945():
    nik = parse_nik("3206015708450001", today=TODAY)
    assert (nik.birth_date, nik.sex, nik.region_kode, nik.district_kode) == (
        dt.date(1945, 8, 17),
        "P",
        "32.06",
        "32.06.01",
    )


def test_nik_of_a_man_born_in_2005_with_separators():
    nik = parse_nik("32.0601 170805-0001", today=TODAY)
    assert (nik.number, nik.birth_date, nik.sex) == ("3206011708050001", dt.date(2005, 8, 17), "L")


def test_nik_in_a_new_papua_province_is_accepted():
    assert parse_nik("9301011708900001", today=TODAY).province_kode == "93"


@pytest.mark.parametrize(
    "value,message",
    [
        ("320601170845000", "NIK harus 16 digit angka"),
        ("32060117084500AB", "NIK harus 16 digit angka"),
        ("9906011708450001", "kode provinsi pada NIK tidak dikenal"),
        ("3200011708450001", "kode kabupaten/kota atau kecamatan pada NIK tidak valid"),
        ("3206013102450001", "tanggal lahir pada NIK tidak ada"),
        ("3206017113450001", "tanggal lahir pada NIK tidak ada"),
    ],
)
def test_bad_nik_messages_name_the_reason_not_the_number(value, message):
    with pytest.raises(InvalidIdentifier) as exc:
        parse_nik(value, today=TODAY)
    assert exc.value.field == "nik"
    assert str(exc.value) == message
    assert value not in str(exc.value)


def test_npwp_old_form_is_stored_as_16_digits():
    assert parse_npwp("01.312.166.0-091.000") == "0013121660091000"


def test_npwp_with_a_wrong_check_digit_is_refused():
    with pytest.raises(InvalidIdentifier) as exc:
        parse_npwp("01.312.166.1-091.000")
    assert str(exc.value) == "digit pemeriksa NPWP tidak cocok"


def test_npwp_of_an_individual_is_their_nik():
    assert parse_npwp("3206011708450001") == "3206011708450001"


def test_kk_and_phone():
    assert parse_kk("3206 0112 3456 0007") == "3206011234560007"
    assert parse_phone("0812-3456-7890") == "+6281234567890"
    assert parse_phone("+62 265 541150") == "+62265541150"
    with pytest.raises(InvalidIdentifier) as exc:
        parse_phone("12345")
    assert str(exc.value) == "nomor telepon harus diawali 0, 62 atau +62"


def test_masks_hide_the_birth_date_and_most_of_the_phone():
    assert mask_nik("3206015708450001") == "320601******0001"
    assert mask_phone("+6281234567890") == "+62812*****890"
