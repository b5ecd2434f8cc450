"""Deterministic demo records and the in-memory store that mutates them.

Every value is derived arithmetically from the record id, so every server (and every run) serves
byte-identical data until someone calls the `/_admin` endpoints. Initial timestamps all fall in
January 2026, so `updated_since` tests can use fixed instants.

Events are never materialised: a year of them (52,560) is computed from the id on demand, and only
touched or added events are kept, as overrides.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

RESOURCES = ("customers", "orders", "events")

BASE_EPOCH = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())
N_CUSTOMERS = 10_000
N_ORDERS = 2_000
EVENT_STEP_S = 600
N_EVENTS = 365 * 24 * 3600 // EVENT_STEP_S
#: Without `from`/`to`/`updated_since`, `/…/events` serves only the first week (1008 events).
DEFAULT_EVENTS_END = BASE_EPOCH + 7 * 86400
#: Mutations are stamped no earlier than this, which is after every initial customer/order timestamp.
MUTATION_FLOOR = int(datetime(2026, 2, 1, tzinfo=timezone.utc).timestamp())
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z: keeps `iso()` strings comparable as text

FIRST_NAMES = ("Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances",
               "Edsger", "Radia", "Tim", "Hedy", "John", "Katherine", "Donald", "Sophie", "Guido")
LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
              "Allen", "Dijkstra", "Perlman", "Berners-Lee", "Lamarr", "Backus", "Johnson", "Knuth",
              "Wilson", "van Rossum", "Codd")
COUNTRIES = ("US", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "PL", "BR", "CA", "JP", "IN", "AU")
CITIES = ("Springfield", "Riverside", "Fairview", "Franklin", "Greenville", "Bristol", "Clinton",
          "Madison", "Georgetown", "Salem", "Arlington", "Ashland", "Dover", "Oxford", "Milton")
TAGS = ("vip", "newsletter", "beta", "churn-risk", "wholesale", "partner", "trial")
ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")
EVENT_TYPES = ("page_view", "click", "add_to_cart", "purchase", "signup", "logout")


def iso(epoch: float) -> str:
    """Second-precision UTC ISO 8601; one fixed format so timestamps compare correctly as text."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(max(int(epoch), 0), MAX_EPOCH)))


def _base_name(i: int) -> tuple[str, str]:
    return FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i * 7) % len(LAST_NAMES)]


def make_customer(i: int) -> dict:
    first, last = _base_name(i)
    created = BASE_EPOCH + i * 240
    return {
        "id": i,
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower().replace(' ', '')}{i}@example.com",
        "country": COUNTRIES[(i * 3) % len(COUNTRIES)],
        "created_at": iso(created),
        "updated_at": iso(created + (i % 50) * 3600),
        "score": round(((i * 7919) % 10_000) / 100, 2),
        "active": i % 7 != 0,
        "address": {"city": CITIES[i % len(CITIES)], "zip": f"{(i * 389) % 100_000:05d}"},
        "tags": [TAGS[(i + k) % len(TAGS)] for k in range(i % 4)],
    }


def make_items(order_id: int) -> list[dict]:
    """1–5 lines per order, a pure function of the order id (so added orders have items too)."""
    return [
        {
            "order_id": order_id,
            "line": line,
            "sku": f"SKU-{(order_id * 13 + line * 7) % 500:04d}",
            "qty": 1 + (order_id + line) % 4,
            "price_cents": 199 + ((order_id * 31 + line * 17) % 100) * 50,
        }
        for line in range(1, 2 + (order_id * 7) % 5)
    ]


def make_order(i: int) -> dict:
    created = BASE_EPOCH + i * 1200
    return {
        "id": i,
        "customer_id": (i * 37) % N_CUSTOMERS + 1,
        "status": ORDER_STATUSES[(i * 3) % len(ORDER_STATUSES)],
        "total_cents": sum(item["qty"] * item["price_cents"] for item in make_items(i)),
        "created_at": iso(created),
        "updated_at": iso(created + (i % 12) * 3600),
    }


def event_epoch(event_id: int) -> int:
    return BASE_EPOCH + (event_id - 1) * EVENT_STEP_S


def make_event(event_id: int) -> dict:
    ts = iso(event_epoch(event_id))
    return {
        "id": event_id,
        "ts": ts,
        "type": EVENT_TYPES[(event_id * 5) % len(EVENT_TYPES)],
        "customer_id": (event_id * 7919) % N_CUSTOMERS + 1,
        "value": round(((event_id * 37) % 1000) / 10, 1),
        "updated_at": ts,
    }


class UnknownRecords(LookupError):
    """Raised by `Store.touch` with the ids that do not exist."""


class Store:
    """The mutable demo data; `reset()` restores the generated state exactly."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.customers = [make_customer(i) for i in range(1, N_CUSTOMERS + 1)]
        self.orders = [make_order(i) for i in range(1, N_ORDERS + 1)]
        self.event_count = N_EVENTS
        self.event_overrides: dict[int, dict] = {}
        self._revisions: dict[tuple[str, int], int] = {}
        self._last_stamp = 0

    def stamp(self) -> str:
        """Current time, but strictly increasing across calls and after all initial data."""
        self._last_stamp = max(int(time.time()), MUTATION_FLOOR, self._last_stamp + 1)
        return iso(self._last_stamp)

    def count(self, resource: str) -> int:
        return self.event_count if resource == "events" else len(self._rows(resource))

    def get(self, resource: str, record_id: int) -> dict | None:
        if not 1 <= record_id <= self.count(resource):
            return None
        if resource == "events":
            return self.event(record_id)
        return self._rows(resource)[record_id - 1]  # ids are dense and ordered

    def event(self, event_id: int) -> dict:
        record = make_event(event_id)
        record.update(self.event_overrides.get(event_id, ()))
        return record

    def touch(self, resource: str, ids: list[int]) -> str:
        missing = [i for i in ids if self.get(resource, i) is None]
        if missing:
            raise UnknownRecords(missing)
        now = self.stamp()
        for i in ids:
            rev = self._revisions[(resource, i)] = self._revisions.get((resource, i), 0) + 1
            if resource == "customers":
                record = self.customers[i - 1]
                record["name"] = "{} {} (rev {})".format(*_base_name(i), rev)
                record["score"] = round((make_customer(i)["score"] + 12.5 * rev) % 100, 2)
            elif resource == "orders":
                record = self.orders[i - 1]
                record["status"] = ORDER_STATUSES[(i * 3 + rev) % len(ORDER_STATUSES)]
            else:
                record = self.event_overrides.setdefault(i, {})
                record["value"] = round(make_event(i)["value"] + rev, 1)
            record["updated_at"] = now
        return now

    def add(self, resource: str, count: int) -> tuple[list[int], str]:
        """Append `count` records with new ids; events continue the 10-minute series past 2026."""
        now = self.stamp()
        first = self.count(resource) + 1
        ids = list(range(first, first + count))
        for i in ids:
            if resource == "events":
                self.event_overrides[i] = {"updated_at": now}
                continue
            record = make_customer(i) if resource == "customers" else make_order(i)
            record["created_at"] = record["updated_at"] = now
            self._rows(resource).append(record)
        if resource == "events":
            self.event_count += count
        return ids, now

    def _rows(self, resource: str) -> list[dict]:
        return self.customers if resource == "customers" else self.orders
