"""Numbering series: a prefix and a sequence number, in the order of the dates."""
from datetime import date

from docsvc.billing.numbering import order_problem, out_of_order, series_of


def test_a_number_is_its_series_and_its_place():
    assert series_of("F-2026-0142") == ("F-2026-", 142)
    assert series_of("2026-001") == ("2026-", 1)
    assert series_of("RE-1") == ("RE-", 1)
    assert series_of("12345") == ("", 12345)
    assert series_of("F-2026/0008") == ("F-2026/", 8)
    assert series_of("INV-A") is None


def test_out_of_order_is_a_lower_number_later_or_a_higher_number_earlier():
    archived = [("F-1", date(2026, 1, 10)), ("F-3", date(2026, 1, 20)), ("FA-2", date(2026, 1, 30)),
                ("F-2", date(2026, 1, 15))]
    # F-2 again (a retry) and another series (FA-) never count
    assert out_of_order("F-2", date(2026, 1, 15), archived) == []
    assert out_of_order("F-4", date(2026, 1, 12), archived) == [("F-3", date(2026, 1, 20)), ("F-2", date(2026, 1, 15))]
    assert out_of_order("F-0", date(2026, 1, 12), archived) == [("F-1", date(2026, 1, 10))]
    assert out_of_order("F-4", date(2026, 1, 20), archived) == []  # F-3's day
    assert out_of_order("SANS", date(2026, 1, 1), archived) == []


def test_the_refusal_names_the_number_and_what_it_contradicts():
    conflicts = [("F-2026-0131", date(2026, 11, 30)), ("F-2026-0120", date(2026, 10, 31))]
    assert order_problem("F-2026-0142", date(2026, 10, 20), conflicts) == {"number": [
        "F-2026-0142 of 2026-10-20 is out of order in this seller's series F-2026-…: F-2026-0120 of 2026-10-31, "
        "F-2026-0131 of 2026-11-30. Numbers follow their dates (CGI, annexe II, art. 242 nonies A): a new "
        "document takes the next number."]}
    assert order_problem("F-2026-0142", date(2026, 12, 1), []) == {}
