"""ID numbers (GB 11643): check digit, format, embedded facts, masking and protection at rest."""

import datetime as dt
import uuid

import pytest
from cryptography.exceptions import InvalidTag

from server.people import id_number
from server.people.protection import IdNumberVault, child_subject


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        ("11010519491231002X", []),  # the standard's own example, check digit X
        ("11010519491231002x", []),  # lower-case x is accepted and normalised
        ("440524188001010014", []),
        (" 110105 19491231002X ", []),  # blanks from a spreadsheet
        ("１１０１０５１９４９１２３１００２Ｘ", []),  # full-width characters
        ("110105194912310021", ["id_number.check_digit"]),
        ("11010519491231002", ["id_number.format"]),  # 17 characters
        ("1101051949123100200", ["id_number.format"]),
        ("11010519491231002Y", ["id_number.format"]),
        ("", ["id_number.format"]),
        # 30 February, with a correct check digit
        ("11010519490230002" + id_number.check_digit("11010519490230002"), ["id_number.birth_date"]),
    ],
)
def test_check(raw, errors):
    result = id_number.check(raw)
    assert result.errors == errors


def test_check_digit_of_a_made_number_always_verifies():
    for seq in range(1, 999, 37):
        number = id_number.make("320685", dt.date(2014, 5, 17), seq)
        assert id_number.check(number).ok, number


def test_embedded_birth_date_and_gender_warn_on_mismatch():
    number = id_number.make("320685", dt.date(2014, 5, 17), 123)  # odd sequence: male
    ok = id_number.check(number, birth_date=dt.date(2014, 5, 17), gender="M")
    assert ok.ok and ok.warnings == []
    assert ok.birth_date == dt.date(2014, 5, 17) and ok.gender == "M"
    wrong = id_number.check(number, birth_date=dt.date(2014, 5, 18), gender="F")
    assert wrong.ok  # a warning, not a refusal: the roster may be the one that is wrong
    assert set(wrong.warnings) == {"id_number.birth_date_mismatch", "id_number.gender_mismatch"}


def test_mask_shows_the_region_only():
    assert id_number.mask("11010519491231002X") == "110105************"


def test_vault_encrypts_and_looks_up(vault: IdNumberVault):
    number = "11010519491231002X"
    subject = child_subject(uuid.uuid4())
    blob = vault.encrypt(number, subject)
    assert number.encode() not in blob
    assert vault.encrypt(number, subject) != blob  # a fresh nonce each time: equal numbers do not show
    assert vault.decrypt(blob, subject) == number
    assert vault.lookup(number) == vault.lookup(number)
    assert vault.lookup(number) != vault.lookup("440524188001010014")


def test_another_key_cannot_read_or_find_the_number(vault):
    other = IdNumberVault(b"x" * 32, b"y" * 32)
    subject = child_subject(uuid.uuid4())
    blob = vault.encrypt("11010519491231002X", subject)
    with pytest.raises(Exception):  # noqa: B017 - cryptography raises InvalidTag
        other.decrypt(blob, subject)
    assert other.lookup("11010519491231002X") != vault.lookup("11010519491231002X")


def test_stored_rows_hold_no_clear_id_number(session, make_child):
    from sqlalchemy import text

    number = id_number.make("320685", dt.date(2015, 3, 1), 42)
    child = make_child(number=number)
    row = session.execute(text("SELECT row_to_json(c)::text FROM children c WHERE id = :id"), {"id": child.id}).scalar()
    assert number not in row and number[6:14] + number[14:] not in row


def test_a_ciphertext_copied_to_another_child_does_not_decrypt(vault):
    # Someone with write access to the table copies child A's ciphertext into child B's row:
    # B's record must not show A's number.
    a, b = uuid.uuid4(), uuid.uuid4()
    blob = vault.encrypt("11010519491231002X", child_subject(a))
    with pytest.raises(InvalidTag):
        vault.decrypt(blob, child_subject(b))
    with pytest.raises(InvalidTag):
        vault.decrypt(blob, f"child:{a}:guardian_phone")
    assert vault.decrypt(vault.rebind(blob, child_subject(a), child_subject(b)), child_subject(b)) == "11010519491231002X"


def test_the_unbound_format_is_no_longer_read(vault):
    # Version 0x01 used one associated data for every row; the migration re-encrypts them all.
    legacy = b"\x01" + bytes(12) + bytes(30)
    with pytest.raises(ValueError, match="version"):
        vault.decrypt(legacy, child_subject(uuid.uuid4()))
