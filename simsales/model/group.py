"""The buying group as people: each stakeholder's alignment, kept up as calls and touches come.

Member 0 is the champion, who brought the seller in and comes to every call. A call of ``m``
attendees meets the champion and the ``m - 1`` members met least recently (the seller works the
whole group, in turn), and aligns them (``rules.aligned``). A member not met drifts back towards
the resting alignment (``rules.drifted``); the drift is applied lazily, when the member is next
met or the group is asked for its verdict, so nothing is polled. At a stage's gate each member
may block the deal (``rules.member_blocks``); the deal goes on if no one does.
"""

from __future__ import annotations

from simsales.model import rules

__all__ = ["BuyingGroup"]


class BuyingGroup:
    """The stakeholders of one deal: alignment of each and when it was last brought up to date."""

    __slots__ = ("_half_life", "_next", "_rest", "alignment", "since")

    def __init__(self, size: int, *, champion: float, rest: float, half_life: float, at: float):
        self.alignment = [champion] + [rest] * (size - 1)
        self.since = [at] * size
        self._rest = rest
        self._half_life = half_life
        self._next = 1  # the member met least recently, after the champion

    def _bring_up_to(self, i: int, t: float) -> float:
        days = t - self.since[i]
        a = self.alignment[i]
        if days > 0.0 and a != self._rest:
            a = self.alignment[i] = rules.drifted(a, self._rest, days, self._half_life)
        self.since[i] = t
        return a

    def attend(self, attendees: int, t: float) -> list[int]:
        """Who comes to a call at ``t`` needing ``attendees`` members: the champion and the
        members met least recently (brought up to ``t``)."""
        others = len(self.alignment) - 1
        present = [0]
        self._bring_up_to(0, t)
        for _ in range(min(attendees - 1, others)):
            i = self._next
            self._bring_up_to(i, t)
            present.append(i)
            self._next = i + 1 if i < others else 1
        return present

    def align(self, present: list[int], gain: float) -> None:
        """The members ``present`` move ``gain`` towards full alignment (they were brought up to
        the call's time by ``attend``)."""
        for i in present:
            self.alignment[i] = rules.aligned(self.alignment[i], gain)

    def meet(self, attendees: int, t: float, gain: float) -> None:
        """A call at ``t`` with ``attendees`` members present aligns each by ``gain``."""
        self.align(self.attend(attendees, t), gain)

    def touch(self, t: float, gain: float) -> None:
        """Content sent to the whole group at ``t``: every member moves ``gain`` towards 1."""
        for i in range(len(self.alignment)):
            self.alignment[i] = rules.aligned(self._bring_up_to(i, t), gain)

    def passes(self, t: float, gate: float) -> float:
        """Chance no member blocks the deal at a gate of ``gate`` at time ``t``."""
        chance = 1.0
        for i in range(len(self.alignment)):
            chance *= 1.0 - rules.member_blocks(gate, self._bring_up_to(i, t))
        return chance

    def mean_alignment(self, t: float) -> float:
        """The group's mean alignment at ``t`` (for the records)."""
        return sum(self._bring_up_to(i, t) for i in range(len(self.alignment))) / len(
            self.alignment
        )
