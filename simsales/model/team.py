"""The sales team as a capacity: who takes a new deal, and the WIP cap that makes suspects wait.

A seller may carry at most ``wip_cap`` open deals (0: no cap). A suspect that finds every seller at
the cap waits in the suspect pool until a seller closes a deal (and may give up after the market's
patience); the freed place goes to the suspect that has waited longest, or with ``newest_first`` to
the one that arrived last, while its interest is fresh (speed to lead). A deal holds its seller's
place until the CRM records its end, so a deal that went dark but is not yet closed out still
blocks the pipeline — as it does in life; a suspect who never answered holds it until the outreach
cadence ends (``market.leads.cadence_days``), if the scenario sets one.
"""

from __future__ import annotations

from collections import deque

import simpy


class Team:
    """Open deals per seller, the assignment rule and the queue of waiting suspects."""

    def __init__(
        self,
        env: simpy.Environment,
        *,
        sellers: int,
        wip_cap: int,
        rule: str,
        newest_first: bool = False,
    ) -> None:
        self.env = env
        self.open = [0] * sellers
        self.cap = wip_cap if wip_cap > 0 else 1 << 62
        self.round_robin = rule == "round_robin"
        self._next = 0
        self.newest_first = newest_first
        self._waiting: deque[simpy.Event] = deque()

    def try_assign(self) -> int:
        """A seller with room for one more deal, by the team's rule, or -1 if all are at the cap."""
        open_ = self.open
        n = len(open_)
        if self.round_robin:
            for i in range(n):
                s = (self._next + i) % n
                if open_[s] < self.cap:
                    self._next = (s + 1) % n
                    open_[s] += 1
                    return s
            return -1
        best = min(range(n), key=open_.__getitem__)
        if open_[best] >= self.cap:
            return -1
        open_[best] += 1
        return best

    def wait(self) -> simpy.Event:
        """Join the queue of suspects; the event's value is the seller who takes the deal."""
        ev = self.env.event()
        self._waiting.append(ev)
        return ev

    def give_up(self, ev: simpy.Event) -> None:
        """A waiting suspect leaves the queue (its patience ran out)."""
        self._waiting.remove(ev)

    def release(self, seller: int) -> None:
        """A deal of ``seller`` is closed: a waiting suspect, if any, takes the place (the first
        come, or the newest)."""
        waiting = self._waiting
        if waiting:
            (waiting.pop() if self.newest_first else waiting.popleft()).succeed(seller)
        else:
            self.open[seller] -= 1

    @property
    def waiting(self) -> int:
        return len(self._waiting)
