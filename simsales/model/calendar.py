"""Sellers' calendars: meeting slots and selling hours per day, booked ahead.

A seller is not a capacity-1 resource busy for an hour per call: at realistic loads that adds
almost no waiting, and seller overload would never show. A real seller has a few meeting slots a
day and a few selling hours, and books them days ahead. So the next call lands on the first working
day on which the buyer can meet *and* the seller still has a slot and the hours for it; a seller who
carries too many deals fills the days ahead and every deal's gaps grow. Booking is a plain function
call, not a SimPy wait: the deal's process then sleeps until the booked time.

Days are whole numbers (day d spans [d, d + 1)); calls are held at midday, ``d + 0.5``. Only the
days from the present on are kept: ``forget_before`` folds the past into per-seller totals of the
hours booked in the counting window, so memory follows how far ahead sellers are booked, not the
length of the run. The hours of the days gone by are kept per seller and week, for plots of
utilisation over time: 8 bytes a seller-week, not a seller-day.

A calendar may be given a ``last_day`` (a run's: ``BEYOND_HORIZON_DAYS`` past its horizon). Nothing
on or after it is booked: a call asked for then is answered with a time on the last day, work is
done at the latest then, and the calendar never grows past it. What happens after the horizon is
not recorded, so this changes no result; it keeps a buyer task of a thousand years, or a meeting
lag drawn from a far tail, from growing the calendar day by day until memory runs out.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

from simsales.model.records import DAYS_PER_WEEK

CALL_TIME_OF_DAY = 0.5
_GROW_DAYS = 63
#: How far past its horizon a run's calendars book exactly (two years): a booking made before the
#: horizon lands this far ahead only after an absurd lag.
BEYOND_HORIZON_DAYS = 730


class SellerCalendars:
    """Slots and hours booked per seller per day, from day ``_base`` up to (not incl.) ``_end``."""

    def __init__(
        self,
        *,
        sellers: int,
        slots_per_day: int,
        hours_per_day: float,
        workdays_per_week: int,
        days: int,
        count_window: tuple[float, float] = (0.0, math.inf),
        last_day: int | None = None,
    ) -> None:
        self.slots_per_day = slots_per_day
        #: Nothing is booked on or after this day (see the module's docstring).
        self.last_day = last_day if last_day is not None else 1 << 62
        self.hours_per_day = hours_per_day
        self.workdays_per_week = workdays_per_week
        self._base = 0
        self._end = max(int(days), 1)
        self._slots = [bytearray(self._end) for _ in range(sellers)]
        self._hours = [array("d", bytes(8 * self._end)) for _ in range(sellers)]
        self._workday = bytearray(self._is_workday(d) for d in range(self._end))  # absolute days
        # Every day before _open[s] is out of meeting slots or not a working day.
        self._open = [0] * sellers
        # Hours of forgotten days that fall in the counting window, per seller.
        self._window = (max(math.ceil(count_window[0]), 0), count_window[1])
        self._counted = [0.0] * sellers
        # Hours booked on the forgotten weeks (sellers x weeks; week w holds days 7w .. 7w + 6),
        # 8 bytes a seller-week, for plots of utilisation over time (``take_weekly_hours``). One
        # array, sized ahead by ``reserve_history`` (zeros: the system maps its pages only when
        # they are written), so it is never copied: it becomes the result as it is.
        self._history = np.zeros((sellers, 0))

    def _is_workday(self, d: int) -> int:
        return 1 if d % 7 < self.workdays_per_week else 0

    def _grow(self, day: int) -> None:
        while day >= self._end:
            new = self._end + _GROW_DAYS
            for s in range(len(self._slots)):
                self._slots[s].extend(bytes(_GROW_DAYS))
                self._hours[s].extend(array("d", bytes(8 * _GROW_DAYS)))
            self._workday.extend(self._is_workday(d) for d in range(self._end, new))
            self._end = new

    def forget_before(self, day: int) -> None:
        """Drop the whole weeks before ``day`` (no booking can reach them any more).

        Only whole weeks go, so the history adds each seller's hours up by week as they leave.
        """
        day -= day % DAYS_PER_WEEK
        drop = day - self._base
        if drop <= 0:
            return
        if day > self._end:  # nothing was booked that far ahead: the days are empty
            self._grow(day)
        w0, w1 = self._window
        lo = max(w0, self._base) - self._base
        hi = min(w1, day) - self._base
        self.reserve_history(day)
        block = self._history[:, self._base // DAYS_PER_WEEK : day // DAYS_PER_WEEK]
        for s in range(len(self._slots)):
            if hi > lo:
                self._counted[s] += sum(self._hours[s][int(lo) : int(hi)])
            # a view on a copy of the days: nothing can pin the buffer of the array that shrinks
            # next (a NumPy view on it, held a moment too long, makes ``del`` fail)
            gone = np.frombuffer(self._hours[s][:drop])
            block[s] = gone.reshape(-1, DAYS_PER_WEEK).sum(axis=1)
            del self._slots[s][:drop]
            del self._hours[s][:drop]
        self._base = day

    def reserve_history(self, days: int) -> None:
        """Make room for the history of days [0, days) (a run reserves its horizon up front)."""
        have = self._history.shape[1]
        weeks = -(-days // DAYS_PER_WEEK)
        if weeks > have:  # grows only if not reserved: by half again at least, then copied once
            grown = np.zeros((len(self._slots), max(weeks, have + have // 2)))
            grown[:, :have] = self._history
            self._history = grown

    def first_workday(self, t: float) -> int:
        """The first working day that starts at or after time t."""
        if not t < self.last_day:  # inf and NaN too
            return self.last_day
        d = math.ceil(t)
        if d < self._base:
            raise ValueError(f"day {d} is before the calendar's first kept day {self._base}")
        if d + 7 >= self._end:  # a working day is always found within a week
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
        hpd = self.hours_per_day
        if hpd < hours:  # min(hours, hpd), without the call
            hours = hpd
        if not earliest < self.last_day:  # nothing is booked from the last day on (inf, NaN too)
            last = self.last_day + CALL_TIME_OF_DAY
            return last, last
        base = self._base
        # first_workday(earliest), inlined: this runs once per call
        free_day = math.ceil(earliest)
        if free_day < base:
            raise ValueError(f"day {free_day} is before the calendar's first kept day {base}")
        if free_day + 7 >= self._end:  # a working day is always found within a week
            self._grow(free_day + 7)
        workday = self._workday
        while not workday[free_day]:
            free_day += 1
        open_day = self._open[seller]
        d = open_day if open_day > free_day else free_day
        slots = self._slots[seller]
        booked = self._hours[seller]
        cap_slots = self.slots_per_day
        cap_hours = hpd - hours + 1e-9
        while True:
            if d >= self._end:
                self._grow(d)
                slots = self._slots[seller]
                booked = self._hours[seller]
                workday = self._workday
            i = d - base
            if workday[d] and slots[i] < cap_slots and booked[i] <= cap_hours:
                break
            d += 1
        # no free slot before the last day: not booked (the days from it on stay free, so the
        # search above always ends within a week of it)
        if d >= self.last_day:
            return self.last_day + CALL_TIME_OF_DAY, free_day + CALL_TIME_OF_DAY
        slots[i] += 1
        booked[i] += hours
        o = open_day if open_day > base else base
        end = self._end
        while o < end and (not workday[o] or slots[o - base] >= cap_slots):
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
            if d >= self.last_day:  # the rest of the work is not booked
                return float(self.last_day)
            if d >= self._end:
                self._grow(d)
            if self._workday[d]:
                booked = self._hours[seller]
                i = d - self._base
                free = hpd - booked[i]
                if free > 0.0:
                    take = free if free < remaining else remaining
                    booked[i] += take
                    remaining -= take
                    if remaining <= 1e-12:
                        return d + 1.0
            d += 1

    def add_hours(self, seller: int, t: float, hours: float) -> None:
        """Small work (a touch) done on the day of t, or the next working day; never blocks."""
        d = self.first_workday(math.floor(t) if t < self.last_day else t)
        if d < self.last_day:
            self._hours[seller][d - self._base] += hours

    def hours_between(self, start: float, end: float) -> tuple[list[float], float]:
        """Hours booked per seller on the days within [start, end), and each seller's capacity.

        The days must still be kept (not forgotten); see ``counted_hours`` for the whole window.
        """
        d0 = max(math.ceil(start), 0)
        d1 = max(math.floor(end), d0)
        if d0 < self._base:
            raise ValueError(f"days before {self._base} are forgotten; use counted_hours")
        self._grow(d1)
        used = [float(sum(h[d0 - self._base : d1 - self._base])) for h in self._hours]
        return used, sum(self._workday[d0:d1]) * self.hours_per_day

    def take_weekly_hours(self, end: float) -> tuple[np.ndarray, np.ndarray]:
        """Hours booked per seller in each week of the days [0, floor(end)), and its capacity.

        The first value is a (sellers x weeks) array, week w holding days 7w .. 7w + 6 (the last
        week may be cut short by ``end``); the second the hours one seller has in each week (the
        days off hold none). Days from ``end`` on may still gain bookings and are left out. The
        history is handed over, not copied (call it once, at the end of the run).
        """
        d1 = max(math.floor(end), 0)
        weeks = -(-d1 // DAYS_PER_WEEK)
        self._grow(weeks * DAYS_PER_WEEK)
        self.reserve_history(d1)
        out = self._history if self._history.shape[1] == weeks else self._history[:, :weeks].copy()
        self._history = np.zeros((len(self._hours), 0))
        keep = d1 - self._base
        if keep > 0:
            padded = np.zeros(weeks * DAYS_PER_WEEK - self._base)
            w0 = self._base // DAYS_PER_WEEK
            for s, h in enumerate(self._hours):
                padded[:keep] = np.frombuffer(h[:keep])  # views on copies, as in forget_before
                out[s, w0:] = padded.reshape(-1, DAYS_PER_WEEK).sum(axis=1)
        per_week = np.zeros(weeks * DAYS_PER_WEEK)
        per_week[:d1] = np.frombuffer(self._workday[:d1], dtype=np.uint8)
        capacity = self.hours_per_day * per_week.reshape(-1, DAYS_PER_WEEK).sum(axis=1)
        return out, capacity

    def counted_hours(self, end: float) -> tuple[list[float], float]:
        """Hours booked per seller in the counting window up to ``end``, and the capacity."""
        w0 = self._window[0]
        d1 = max(math.floor(min(end, self._window[1])), w0)
        self._grow(d1)
        lo = max(w0, self._base)
        used = [
            self._counted[s] + float(sum(h[lo - self._base : max(d1 - self._base, 0)]))
            for s, h in enumerate(self._hours)
        ]
        return used, sum(self._workday[w0:d1]) * self.hours_per_day
