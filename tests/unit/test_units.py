"""Unit scope: the one rule the console, the APIs and the importer share."""

from bot.core.units import unit_within


def test_a_unit_code_is_within_its_own_scope_and_those_above_it_only():
    assert unit_within("CT.NK.01", "CT.NK") and unit_within("CT.NK", "CT.NK") and unit_within("CT.NK", None)
    assert not unit_within("CT.NKX", "CT.NK")  # a sibling whose code starts the same is not a sub-unit
    assert not unit_within("CT", "CT.NK") and not unit_within(None, "CT.NK") and not unit_within("", "CT.NK")
