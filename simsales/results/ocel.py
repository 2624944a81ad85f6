"""The event log as OCEL 2.0 JSON (``.json``): object-centric, with deals and sellers as objects.

A classic (XES or CSV) log gives each event one case; an object-centric log lets an event touch
several objects, here the deal and the seller who worked it, so that a tool such as OCPM or pm4py
can follow a seller's week across deals as easily as a deal across its stages. ``OcelWriter``
streams the events as replications arrive and writes the event types and objects at the end
(JSON does not care where they come: a stage-level log's types are known only once its stages
are seen); ``read_ocel`` gives back the rows ``read_event_log`` needs.

Events carry the same attributes as the CSV columns (``lifecycle``, ``replication``, ``deal_id``,
``day``, ``stage``, ``stage_name``, ``value``, ``momentum`` where known, ``seller``) and relate to
their deal (qualifier ``deal``) and, where there is one, their seller (qualifier ``seller``). The
objects' ids are the case ids and the resource names of the other formats (``r0-d12``,
``r0-seller 3``), so that a deal or a seller is found under the same name in each.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from simsales.results.eventlog import seller_resource

__all__ = ["OcelWriter", "read_ocel"]

_EVENT_ATTRIBUTES = (
    ("lifecycle", "string"),
    ("replication", "integer"),
    ("deal_id", "integer"),
    ("day", "float"),
    ("stage", "integer"),
    ("stage_name", "string"),
    ("value", "float"),
    ("momentum", "float"),
    ("seller", "integer"),
)
_DEAL_ATTRIBUTES = (
    ("replication", "integer"),
    ("deal_id", "integer"),
    ("outcome", "string"),
    ("segment", "string"),
    ("group_size", "integer"),
    ("list_value", "float"),
)
_SELLER_ATTRIBUTES = (("replication", "integer"), ("seller", "integer"))


def _types(names: Any, attributes: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    attrs = [{"name": name, "type": kind} for name, kind in attributes]
    return [{"name": name, "attributes": attrs} for name in names]


class OcelWriter:
    """Streams an OCEL 2.0 JSON document to ``fh``: ``add_case`` per case, then ``close``.

    ``event_types`` are declared whether they occur or not (the model's events, so that every
    log of the event level declares the same); any other type a case brings is declared too.
    """

    def __init__(self, fh: IO[str], *, epoch: str, event_types: Iterable[str] = ()) -> None:
        self._fh = fh
        self._epoch = epoch  # the time of the objects' (static) attributes
        self._events = 0
        self._objects: list[str] = []
        self._sellers: set[tuple[int, int]] = set()
        self._event_types = dict.fromkeys(event_types)  # ordered, as first seen
        head = {
            "objectTypes": _types(["deal"], _DEAL_ATTRIBUTES)
            + _types(["seller"], _SELLER_ATTRIBUTES),
        }
        fh.write(json.dumps(head)[:-1] + ', "events": [\n')

    def add_case(self, case: Mapping[str, Any], stamps: list[str]) -> None:
        """One case (as ``eventlog._cases`` makes it), with each row's timestamp."""
        rep, deal = case["replication"], case["deal_id"]
        deal_id = case["case_id"]
        rows = case["rows"]
        out = []
        for row, stamp in zip(rows, stamps, strict=True):
            name, day, _, _, lifecycle, stage, stage_name, value, momentum, seller = row
            self._event_types.setdefault(name)
            attrs = [
                ("lifecycle", lifecycle),
                ("replication", rep),
                ("deal_id", deal),
                ("day", day),
                ("stage", stage),
                ("stage_name", stage_name),
                ("value", value),
                ("seller", seller),
            ]
            if not math.isnan(momentum):
                attrs.append(("momentum", momentum))
            related = [{"objectId": deal_id, "qualifier": "deal"}]
            if seller >= 0:
                related.append({"objectId": seller_resource(rep, seller), "qualifier": "seller"})
                self._sellers.add((rep, seller))
            self._events += 1
            event = {
                "id": f"e{self._events}",
                "type": name,
                "time": stamp,
                "attributes": [{"name": k, "value": v} for k, v in attrs],
                "relationships": related,
            }
            out.append(json.dumps(event))
        if out:
            self._fh.write(("" if self._events == len(out) else ",\n") + ",\n".join(out))
        values = [
            ("replication", rep),
            ("deal_id", deal),
            ("outcome", case["outcome"]),
            ("segment", case["segment"]),
            ("group_size", case["group_size"]),
            ("list_value", case["list_value"]),
        ]
        self._objects.append(self._object(deal_id, "deal", values))

    def _object(self, oid: str, kind: str, values: list[tuple[str, Any]]) -> str:
        attrs = [{"name": k, "value": v, "time": self._epoch} for k, v in values]
        return json.dumps({"id": oid, "type": kind, "attributes": attrs, "relationships": []})

    def close(self) -> None:
        sellers = [
            self._object(seller_resource(rep, s), "seller", [("replication", rep), ("seller", s)])
            for rep, s in sorted(self._sellers)
        ]
        event_types = json.dumps(_types(self._event_types, _EVENT_ATTRIBUTES))
        self._fh.write('\n], "eventTypes": ' + event_types + ', "objects": [\n')
        self._fh.write(",\n".join(self._objects + sellers) + "\n]}\n")


def read_ocel(
    path: Path, keep: Callable[[str, str], bool], code: Callable[[str], int]
) -> Iterator[tuple[int, int, float, int, int, float, int, float]]:
    """The rows of an OCEL file written by ``OcelWriter``, as ``read_event_log`` reads them;
    ``keep(activity, lifecycle)`` says which rows are the model's own, ``code(activity)`` gives
    an activity's event code."""
    with path.open(encoding="utf-8") as fh:
        document = json.load(fh)
    for event in document["events"]:
        a = {attr["name"]: attr["value"] for attr in event["attributes"]}
        name = event["type"]
        if keep(name, a["lifecycle"]):
            yield (
                int(a["replication"]),
                int(a["deal_id"]),
                float(a["day"]),
                code(name),
                int(a["stage"]),
                float(a["value"]),
                int(a["seller"]),
                float(a.get("momentum", math.nan)),
            )
