"""Sellers' calendars: meeting slots and selling hours per day, booked ahead.

A seller is not a capacity-1 resource busy for an hour per call: at realistic loads that adds
almost no waiting, and seller overload would never show. A real seller has a few meeting slots a
day and a few selling hours, and books them days ahead. So the next call lands on the first working
day on which the buyer can meet *and* the seller still has a slot and the hours for it; a seller who
carries too many deals fills the days ahead and every deal's gaps grow. Booking is a plain function
call, not a SimPy wait: the deal's process then sleeps until the booked time.

Days are whole numbers (day d spans [d, d + 1)); calls are held at midday, ``d + 0.5``.
"""

from __future__ import annotations

import math
from array import array

CALL_TIME_OF_DAY = 0.5
_GROW_DAYS = 366


class SellerCalendars:
    """Slots and hours booked per seller per day, growing as bookings reach further ahead."""

    def __init__(
        self,
        *,
        sellers: int,
        slots_per_day: int,
        hours_per_day: float,
        workdays_per_week: int,
        days: int,
    ) -> None:
        self.slots_per_day = slots_per_day
        self.hours_per_day = hours_per_day
        self.workdays_per_week = workdays_per_week
        self._days = max(int(days), 1)
        self._slots = [bytearray(self._days) for _ in range(sellers)]
        self._hours = [array("d", bytes(8 * self._days)) for _ in range(sellers)]
        self._workday = bytearray(1 if d % 7 < workdays_per_week else 0 for d in range(self._days))
        # Every day before _open[s] is out of meeting slots or not a working day.
        self._open = [0] * sellers

    def _grow(self, day: int) -> None:
        while day >= self._days:
            new = self._days + _GROW_DAYS
            for s in range(len(self._slots)):
                self._slots[s].extend(bytes(_GROW_DAYS))
                self._hours[s].extend(array("d", bytes(8 * _GROW_DAYS)))
            self._workday.extend(
                1 if d % 7 < self.workdays_per_week else 0 for d in range(self._days, new)
            )
            self._days = new

    def first_workday(self, t: float) -> int:
        """The first working day that starts at or after time t."""
        d = math.ceil(t)
        if d + 7 >= self._days:  # a working day is always found within a week
            self._grow(d + 7)
        workday = self._workday
        while not workday[d]:
            d += 1
        return d

    def book_call(self, seller: int, earliest: float, hours: float) -> tuple[float, float]:
        """Book a call no earlier than ``earliest``; return (call time, time with a free seller).

        The second value is when the call would have been held by a seller with a free calendar,
        so the difference is the wait caused by the seller's load. A call longer than a selling day
        takes a whole day.
        """
        hours = min(hours, self.hours_per_day)
        free_day = self.first_workday(earliest)
        d = max(free_day, self._open[seller])
        slots = self._slots[seller]
        booked = self._hours[seller]
        cap_slots = self.slots_per_day
        cap_hours = self.hours_per_day - hours + 1e-9
        workday = self._workday
        while True:
            if d >= self._days:
                self._grow(d)
                slots = self._slots[seller]
                booked = self._hours[seller]
                workday = self._workday
            if workday[d] and slots[d] < cap_slots and booked[d] <= cap_hours:
                break
            d += 1
        slots[d] += 1
        booked[d] += hours
        o = self._open[seller]
        while o < self._days and (not workday[o] or slots[o] >= cap_slots):
            o += 1
        self._open[seller] = o
        return d + CALL_TIME_OF_DAY, free_day + CALL_TIME_OF_DAY

    def book_work(self, seller: int, start: float, hours: float) -> float:
        """Book offline work from the first working day after ``start``; return when it is done.

        Work fills the hours left on each working day in turn; it is done at the end of its last
        day.
        """
        if hours <= 0.0:
            return start
        d = self.first_workday(start)
        remaining = hours
        hpd = self.hours_per_day
        while True:
            if d >= self._days:
                self._grow(d)
            if self._workday[d]:
                booked = self._hours[seller]
                free = hpd - booked[d]
                if free > 0.0:
                    take = free if free < remaining else remaining
                    booked[d] += take
                    remaining -= take
                    if remaining <= 1e-12:
                        return d + 1.0
            d += 1

    def add_hours(self, seller: int, t: float, hours: float) -> None:
        """Small work (a touch) done on the day of t, or the next working day; never blocks."""
        d = self.first_workday(math.floor(t))
        self._hours[seller][d] += hours

    def hours_between(self, start: float, end: float) -> tuple[list[float], float]:
        """Hours booked per seller on the days within [start, end), and each seller's capacity."""
        d0 = max(math.ceil(start), 0)
        d1 = max(math.floor(end), d0)
        self._grow(d1)
        workdays = sum(self._workday[d0:d1])
        used = [float(sum(h[d0:d1])) for h in self._hours]
        return used, workdays * self.hours_per_day
