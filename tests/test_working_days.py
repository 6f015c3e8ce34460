"""The agency's working-day calendar (issue 15): weekends and listed holidays never count; a
deadline ends at the close of its day in the job owner's zone, whatever daylight saving does."""

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.services.working_days import (
    add_working_days,
    end_of_day,
    feedback_due_at,
    is_working_day,
    local_date,
    next_working_day,
    previous_working_day,
)

MONDAY = date(2030, 1, 7)  # a Monday; the functions are pure, so a fixed calendar is exact
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = (MONDAY + timedelta(days=n) for n in range(1, 5))
SATURDAY, SUNDAY, NEXT_MONDAY = (MONDAY + timedelta(days=n) for n in (5, 6, 7))


def test_weekends_and_holidays_are_not_working_days():
    assert MONDAY.weekday() == 0
    assert is_working_day(FRIDAY) and not is_working_day(SATURDAY) and not is_working_day(SUNDAY)
    assert not is_working_day(WEDNESDAY, {WEDNESDAY})


@pytest.mark.parametrize(
    ("start", "days", "holidays", "expected"),
    [
        (MONDAY, 1, (), TUESDAY),
        (MONDAY, 5, (), NEXT_MONDAY),
        (FRIDAY, 1, (), NEXT_MONDAY),
        (SATURDAY, 1, (), NEXT_MONDAY),
        (MONDAY, 3, {WEDNESDAY}, FRIDAY),
        (MONDAY, 0, (), MONDAY),
        (SATURDAY, 0, (), NEXT_MONDAY),
        (TUESDAY, 2, {WEDNESDAY, THURSDAY}, NEXT_MONDAY),
    ],
)
def test_adding_working_days(start, days, holidays, expected):
    assert add_working_days(start, days, holidays) == expected


def test_next_and_previous_working_days_skip_weekends_and_holidays():
    assert next_working_day(FRIDAY) == NEXT_MONDAY
    assert previous_working_day(NEXT_MONDAY) == FRIDAY
    assert previous_working_day(NEXT_MONDAY, {FRIDAY}) == THURSDAY
    assert next_working_day(TUESDAY, {WEDNESDAY}) == THURSDAY


def test_a_deadline_ends_at_the_close_of_the_owners_day():
    shared = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # Monday 09:00 in London, 18:00 in Tokyo
    due = feedback_due_at(shared, 3, "Europe/London", {WEDNESDAY})
    assert due == datetime(2030, 1, 11, 23, 59, 59, tzinfo=UTC)  # Friday, London is UTC in winter
    # Late Monday in UTC is already Tuesday in Tokyo: the owner's day is the one counted.
    late = datetime(2030, 1, 7, 20, 0, tzinfo=UTC)
    assert local_date(late, "Asia/Tokyo") == TUESDAY
    assert feedback_due_at(late, 1, "Asia/Tokyo") == end_of_day(WEDNESDAY, "Asia/Tokyo")
    assert end_of_day(WEDNESDAY, "Asia/Tokyo").astimezone(UTC) == datetime(2030, 1, 9, 14, 59, 59, tzinfo=UTC)


def test_a_deadline_across_a_daylight_saving_change_still_ends_at_local_midnight():
    shared = datetime(2030, 3, 29, 12, 0, tzinfo=UTC)  # Friday; London moves to BST on Sunday 31 March
    due = feedback_due_at(shared, 1, "Europe/London")
    assert due == datetime(2030, 4, 1, 22, 59, 59, tzinfo=UTC)  # Monday 23:59:59 BST
