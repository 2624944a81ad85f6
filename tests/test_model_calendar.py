"""Seller calendars booked ahead, and the team's assignment rule, WIP cap and suspect queue."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
import simpy

from simsales.model.calendar import SellerCalendars
from simsales.model.team import Team


def calendars(
    sellers: int = 2, slots: int = 3, hours: float = 6.0, workdays: int = 5, days: int = 60
) -> SellerCalendars:
    return SellerCalendars(
        sellers=sellers,
        slots_per_day=slots,
        hours_per_day=hours,
        workdays_per_week=workdays,
        days=days,
    )


def day_hours(cal: SellerCalendars, seller: int, day: int) -> float:
    used, _ = cal.hours_between(day, day + 1)
    return used[seller]


# --- booking calls -----------------------------------------------------------------------------


def test_calls_fill_the_slots_of_each_working_day_in_turn() -> None:
    cal = calendars(slots=3)
    times = [cal.book_call(0, 0.0, 1.0)[0] for _ in range(30)]
    days = np.floor(times).astype(int)
    assert np.all(np.diff(times) >= 0)
    np.testing.assert_allclose(np.asarray(times) % 1, 0.5)  # calls at midday
    assert np.all(days % 7 < 5), "a call on a weekend"
    counts = np.bincount(days)
    assert counts.max() == 3
    # ten working days, three calls each: days 0-4, 7-11
    assert sorted(set(days.tolist())) == [0, 1, 2, 3, 4, 7, 8, 9, 10, 11]


def test_hours_per_day_limit_calls_before_slots_do() -> None:
    cal = calendars(slots=5, hours=4.0)
    times = [cal.book_call(0, 0.0, 1.5)[0] for _ in range(6)]
    # 1.5 h calls in a 4 h day: two a day although there are five slots
    assert np.bincount(np.floor(times).astype(int)).max() == 2
    assert day_hours(cal, 0, 0) == pytest.approx(3.0)


def test_a_call_longer_than_a_day_takes_a_whole_day() -> None:
    cal = calendars(hours=4.0)
    assert cal.book_call(0, 0.0, 9.0)[0] == 0.5
    assert cal.book_call(0, 0.0, 0.5)[0] == 1.5  # day 0 is full
    assert day_hours(cal, 0, 0) == pytest.approx(4.0)


@pytest.mark.parametrize("workdays", [1, 3, 5, 6, 7])
def test_days_off_are_never_booked(workdays: int) -> None:
    cal = calendars(workdays=workdays, slots=2)
    rng = np.random.default_rng(workdays)
    for earliest in rng.uniform(0, 200, 300):
        call_at, free_at = cal.book_call(int(rng.integers(2)), float(earliest), 1.0)
        assert math.floor(call_at) % 7 < workdays
        assert math.floor(free_at) % 7 < workdays


def test_a_call_is_never_before_earliest_and_free_time_is_between() -> None:
    cal = calendars(slots=1)
    rng = np.random.default_rng(5)
    for earliest in rng.uniform(0, 100, 500):
        call_at, free_at = cal.book_call(0, float(earliest), 1.0)
        assert earliest <= free_at <= call_at
        # the free time is the first working day starting at or after earliest
        assert free_at == cal.first_workday(float(earliest)) + 0.5


def test_booking_on_the_day_asked_when_it_starts_then() -> None:
    cal = calendars()
    assert cal.book_call(0, 3.0, 1.0) == (3.5, 3.5)
    assert cal.book_call(0, 3.2, 1.0) == (4.5, 4.5)  # day 3 has started: next day
    assert cal.book_call(0, 4.7, 1.0) == (7.5, 7.5)  # Friday afternoon -> Monday (day 7)


def test_an_overloaded_seller_pushes_calls_later() -> None:
    cal = calendars(sellers=2, slots=2)
    for _ in range(20):  # seller 0 is booked solid for two weeks
        cal.book_call(0, 0.0, 1.0)
    call_busy, free_busy = cal.book_call(0, 1.0, 1.0)
    call_idle, free_idle = cal.book_call(1, 1.0, 1.0)
    assert free_busy == free_idle == 1.5
    assert call_idle == 1.5
    assert call_busy == 14.5  # days 0-4 and 7-11 hold 20 calls
    assert call_busy - free_busy == 13.0  # the wait the seller's load caused


def test_calendars_grow_beyond_their_initial_size() -> None:
    cal = calendars(days=10)
    assert cal.book_call(0, 1000.0, 1.0)[0] == 1001.5  # day 1000 is a Sunday (1000 % 7 == 6)
    assert cal.book_call(1, 5000.2, 1.0)[0] == 5001.5
    assert cal.book_work(0, 2000.0, 14.0) == 2005.0  # Saturday: Mon, Tue full, 2 h Wed
    cal.add_hours(0, 3008.9, 0.1)  # a touch on a Saturday counts on Monday
    assert day_hours(cal, 0, 3010) == pytest.approx(0.1)


@pytest.mark.parametrize("days", range(1, 16))
def test_first_workday_at_the_end_of_the_calendar(days: int) -> None:
    """The calendar may end on a weekend; looking up the next working day must still work."""
    cal = calendars(days=days)
    for t in np.arange(0, days + 8, 0.25):
        d = cal.first_workday(float(t))
        assert d >= t and d % 7 < 5 and d - math.ceil(t) < 3


# --- offline work and touches ------------------------------------------------------------------


def test_work_fills_the_hours_left_day_after_day() -> None:
    cal = calendars(hours=6.0)
    assert cal.book_work(0, 0.3, 14.0) == 4.0  # days 1, 2 full, 2 h on day 3: done at its end
    assert [day_hours(cal, 0, d) for d in (0, 1, 2, 3)] == pytest.approx([0, 6, 6, 2])
    # the next work uses the 4 h left on day 3 first
    assert cal.book_work(0, 2.5, 5.0) == 5.0
    assert day_hours(cal, 0, 3) == pytest.approx(6.0)
    assert day_hours(cal, 0, 4) == pytest.approx(1.0)


def test_work_skips_weekends_and_shares_the_day_with_calls() -> None:
    cal = calendars(hours=6.0)
    cal.book_call(0, 4.0, 1.5)  # Friday
    assert cal.book_work(0, 4.0, 10.0) == 8.0  # 4.5 h Friday, Monday 5.5 h
    assert day_hours(cal, 0, 4) == pytest.approx(6.0)
    assert day_hours(cal, 0, 7) == pytest.approx(5.5)
    assert cal.book_work(0, 1.0, 0.0) == 1.0  # no work: done at once
    # a call needs the hours the work left free
    assert cal.book_call(0, 7.0, 1.0)[0] == 8.5


def test_hours_between_counts_used_and_available_hours() -> None:
    cal = calendars(sellers=2, hours=6.0)
    cal.book_call(0, 0.0, 1.5)
    cal.book_call(1, 8.0, 1.0)
    cal.add_hours(1, 8.9, 0.1)
    used, capacity = cal.hours_between(0.0, 14.0)
    assert used == pytest.approx([1.5, 1.1])
    assert capacity == pytest.approx(10 * 6.0)
    used, capacity = cal.hours_between(7.0, 14.0)
    assert used == pytest.approx([0.0, 1.1]) and capacity == pytest.approx(30.0)


class NaiveCalendars:
    """A slow, obvious reference: dictionaries of booked slots and hours per (seller, day)."""

    def __init__(self, slots: int, hours: float, workdays: int) -> None:
        self.slots_cap, self.hpd, self.workdays = slots, hours, workdays
        self.slots: dict[tuple[int, int], int] = defaultdict(int)
        self.hours: dict[tuple[int, int], float] = defaultdict(float)

    def first_workday(self, t: float) -> int:
        d = math.ceil(t)
        while d % 7 >= self.workdays:
            d += 1
        return d

    def book_call(self, s: int, earliest: float, hours: float) -> tuple[float, float]:
        hours = min(hours, self.hpd)
        free = d = self.first_workday(earliest)
        while not (
            d % 7 < self.workdays
            and self.slots[s, d] < self.slots_cap
            and self.hours[s, d] + hours <= self.hpd + 1e-9
        ):
            d += 1
        self.slots[s, d] += 1
        self.hours[s, d] += hours
        return d + 0.5, free + 0.5

    def book_work(self, s: int, start: float, hours: float) -> float:
        if hours <= 0:
            return start
        d = self.first_workday(start)
        while True:
            if d % 7 < self.workdays:
                take = min(max(self.hpd - self.hours[s, d], 0.0), hours)
                self.hours[s, d] += take
                hours -= take
                if hours <= 1e-12:
                    return d + 1.0
            d += 1

    def add_hours(self, s: int, t: float, hours: float) -> None:
        self.hours[s, self.first_workday(math.floor(t))] += hours


@pytest.mark.parametrize("seed", range(4))
def test_bookings_match_a_naive_calendar(seed: int) -> None:
    rng = np.random.default_rng(seed)
    slots, hpd, workdays = (
        int(rng.integers(1, 5)),
        float(rng.uniform(3, 8)),
        int(rng.integers(1, 8)),
    )
    cal = calendars(sellers=3, slots=slots, hours=hpd, workdays=workdays, days=20)
    ref = NaiveCalendars(slots, hpd, workdays)
    now = 0.0
    for _ in range(1500):
        now += float(rng.exponential(0.3))
        s = int(rng.integers(3))
        kind = rng.random()
        if kind < 0.7:
            earliest = now + float(rng.exponential(4))
            hours = float(rng.choice([1.0, 1.5, 1.75, 2.25, hpd + 1]))
            assert cal.book_call(s, earliest, hours) == ref.book_call(s, earliest, hours)
        elif kind < 0.85:
            hours = float(rng.choice([0.0, 2.0, 8.0, 13.5]))
            assert cal.book_work(s, now, hours) == ref.book_work(s, now, hours)
        else:
            cal.add_hours(s, now, 0.1)
            ref.add_hours(s, now, 0.1)
    for s in range(3):
        for d in range(0, math.ceil(now) + 30):
            assert day_hours(cal, s, d) == pytest.approx(ref.hours[s, d], abs=1e-9)


# --- the team ----------------------------------------------------------------------------------


def test_least_loaded_assignment_fills_the_emptiest_seller_first() -> None:
    team = Team(simpy.Environment(), sellers=3, wip_cap=0, rule="least_loaded")
    assert [team.try_assign() for _ in range(6)] == [0, 1, 2, 0, 1, 2]
    team.release(1)
    team.release(1)
    assert team.open == [2, 0, 2]
    assert team.try_assign() == 1


def test_round_robin_assignment_takes_turns_whatever_the_load() -> None:
    team = Team(simpy.Environment(), sellers=3, wip_cap=0, rule="round_robin")
    assert [team.try_assign() for _ in range(4)] == [0, 1, 2, 0]
    team.release(1)
    team.release(2)
    assert team.try_assign() == 1  # its turn, although seller 2 has fewer
    assert team.open == [2, 1, 0]


def test_round_robin_skips_sellers_at_the_cap() -> None:
    team = Team(simpy.Environment(), sellers=3, wip_cap=1, rule="round_robin")
    assert [team.try_assign() for _ in range(3)] == [0, 1, 2]
    team.release(1)
    assert team.try_assign() == 1
    assert team.try_assign() == -1


def test_wip_cap_blocks_and_the_queue_is_first_come_first_served() -> None:
    env = simpy.Environment()
    team = Team(env, sellers=2, wip_cap=2, rule="least_loaded")
    assert [team.try_assign() for _ in range(4)] == [0, 1, 0, 1]
    assert team.try_assign() == -1
    first, second, third = team.wait(), team.wait(), team.wait()
    assert team.waiting == 3
    team.release(1)
    assert first.triggered and first.value == 1
    assert not second.triggered
    assert team.open == [2, 2], "the place passed on: the seller's load is unchanged"
    team.give_up(second)  # patience ran out
    team.release(0)
    assert third.triggered and third.value == 0
    assert team.waiting == 0
    team.release(0)
    assert team.open == [1, 2]
    assert team.try_assign() == 0
    env.run()  # the succeeded events process without error


def test_newest_first_gives_a_freed_place_to_the_suspect_that_arrived_last() -> None:
    env = simpy.Environment()
    team = Team(env, sellers=1, wip_cap=1, rule="least_loaded", newest_first=True)
    assert team.try_assign() == 0
    first, second, third = team.wait(), team.wait(), team.wait()
    team.release(0)
    assert third.triggered and not first.triggered and not second.triggered
    team.give_up(second)
    team.release(0)
    assert first.triggered and team.waiting == 0
    env.run()


# --- forgetting the past -----------------------------------------------------------------------


def test_forgetting_past_days_changes_no_booking_and_no_count() -> None:
    """Bookings move forward in time; a calendar that drops the days gone by books the same days
    and counts the same hours in the counting window as one that keeps everything."""
    rng = np.random.default_rng(5)
    kw = {"sellers": 3, "slots_per_day": 2, "hours_per_day": 5.0, "workdays_per_week": 5}
    keep = SellerCalendars(**kw, days=50, count_window=(40.0, 300.0))
    forget = SellerCalendars(**kw, days=50, count_window=(40.0, 300.0))
    now = 0.0
    for step in range(1500):
        now += float(rng.exponential(0.2))
        if step % 40 == 0:
            forget.forget_before(int(now))
        seller = int(rng.integers(3))
        earliest = now + float(rng.exponential(3.0))
        hours = float(rng.uniform(0.5, 2.0))
        assert keep.book_call(seller, earliest, hours) == forget.book_call(seller, earliest, hours)
        if step % 7 == 0:
            assert keep.book_work(seller, now, 3.0) == forget.book_work(seller, now, 3.0)
            keep.add_hours(seller, now + 1.0, 0.1)
            forget.add_hours(seller, now + 1.0, 0.1)
    used_keep, cap_keep = keep.counted_hours(300.0)
    used_forget, cap_forget = forget.counted_hours(300.0)
    assert cap_keep == cap_forget
    np.testing.assert_allclose(used_forget, used_keep, rtol=1e-12)
    assert used_keep == pytest.approx(keep.hours_between(40.0, 300.0)[0])
    assert sum(used_keep) > 0
    weeks_keep, capacity_keep = keep.take_weekly_hours(300.0)
    weeks_forget, capacity_forget = forget.take_weekly_hours(300.0)
    np.testing.assert_allclose(weeks_forget, weeks_keep, rtol=1e-12)
    assert capacity_forget.tolist() == capacity_keep.tolist()
    assert weeks_keep.shape == (3, 43)  # days 0 to 299: 42 weeks and 6 days
    assert capacity_keep[-1] == 5 * 5.0 and capacity_keep[0] == 5 * 5.0
    with pytest.raises(ValueError, match="forgotten"):
        forget.hours_between(0.0, 10.0)


# --- the last day ------------------------------------------------------------------------------


def test_nothing_is_booked_on_or_after_the_last_day() -> None:
    cal = SellerCalendars(
        sellers=2, slots_per_day=1, hours_per_day=6.0, workdays_per_week=5, days=20, last_day=100
    )
    for earliest in (100.0, 1e7, 1e300, math.inf, math.nan):
        assert cal.book_call(0, earliest, 1.0) == (100.5, 100.5)
    assert cal.book_work(0, 1e300, 8.0) == 100.0
    cal.add_hours(0, 1e300, 1.0)
    # a seller booked up to the last day: the call is not made, and it says when it could have
    for _ in range(80):
        cal.book_call(1, 0.0, 1.0)
    call, free = cal.book_call(1, 0.0, 1.0)
    assert (call, free) == (100.5, 0.5)
    # work that would run past the last day ends there
    assert cal.book_work(0, 90.0, 1_000.0) == 100.0
    assert cal._end <= 100 + 63 + 8  # never grown far past the last day
    # the days before it are booked as always
    assert cal.book_call(0, 50.0, 1.0)[0] == 50.5


def test_without_a_last_day_bookings_are_unchanged() -> None:
    """A run's last day lies past its horizon: the bookings of ordinary runs never reach it."""
    free, bounded = calendars(days=30), calendars(days=30)
    bounded.last_day = 10_000
    for t in np.linspace(0.0, 400.0, 200):
        assert free.book_call(0, float(t), 1.5) == bounded.book_call(0, float(t), 1.5)
        assert free.book_work(1, float(t), 5.0) == bounded.book_work(1, float(t), 5.0)
