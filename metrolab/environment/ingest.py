"""The one way readings enter MetroLab (R6.11a-c): HTTP, MQTT, Modbus and the simulator all call
`ingest_readings`.

A batch is validated item by item; a bad item is rejected with a code and a message, counted
against the device, and never stored, and it never stops the good items of the same batch.
What an item must be: a sensor the reporter may report for (a device only for the sensors
bound to it; a sensor bound to no device only through the lab's internal channels), a
finite value within the quantity's physical limits and the sensor's plausible range
(`plausibility.py`), and a time after the sensor's installation, within the raw-retention
window and not in the future. The good items are written in one statement; the minute and
hour aggregates of the buckets they fall in are merged with the stored ones, the sensors'
latest value moves forward only, and the device's counter is updated - all in one
transaction. After the commit, `ingest_listeners` (alarms) receive the stored readings.

Concurrency: ingesters take an ingestion lock first (a PostgreSQL advisory lock; on SQLite
the IMMEDIATE transaction already is the single write lock), so two batches never race on the
same (sensor, time): a duplicate is always a clean rejection, never an IntegrityError, and the
aggregates a batch merges with are not changed by another batch meanwhile. The lock is not
the audit chain's: ingestion writes no audited row, and it never waits for the chain lock, so
it cannot deadlock with audited writers (an administrator editing a sensor merely waits for
the batch's commit). The forward-only sensor update is correct even without the lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from numbers import Real

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from metrolab.environment.models import Aggregate, IngestCounter, Reading, Sensor
from metrolab.environment.plausibility import ValueCheck
from metrolab.environment.selectors import raw_days, weighted_mean

logger = logging.getLogger(__name__)

# The hot path writes SQL by hand (see _insert_readings): table and column names come from the
# models through quote_name, and every value is a query parameter (hence the S608 waivers).

CHANNELS = ("http", "mqtt", "modbus", "simulated")
REJECTION_CODES = (
    "unknown_sensor",
    "not_allowed",
    "inactive_sensor",
    "bad_value",
    "implausible_value",
    "bad_time",
    "future_time",
    "before_installation",
    "too_old",
    "duplicate",
    "bad_item",
)
# Called after the commit with the readings stored (alarms hook in here). A listener that
# raises is logged and does not affect ingestion or the other listeners.
ingest_listeners: list[Callable[[list[StoredReading]], None]] = []

_UTC = dt.UTC
_PG_LOCK_KEY = 0x6D6C_696E_6765_7374  # "mlingest"
_IN_CHUNK = 500  # values per IN (...) list: well below SQLite's and PostgreSQL's limits


@dataclass(frozen=True)
class Rejection:
    index: int  # position in the batch
    sensor: str  # the sensor code as sent ("" if missing)
    code: str  # one of REJECTION_CODES
    message: str

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "sensor": self.sensor,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class IngestResult:
    stored: int
    rejected: list[Rejection] = field(default_factory=list)
    rows: list[tuple[Sensor, dt.datetime, float]] = field(default_factory=list, repr=False)

    @property
    def readings(self) -> list[StoredReading]:
        """The stored readings as the listeners get them (sensor, sensor_id, time, value)."""
        return _as_readings(self.rows)


def max_future_seconds() -> float:
    return float(getattr(settings, "METROLAB_ENV_MAX_FUTURE_SECONDS", 300))


def parse_time(raw) -> dt.datetime | None:
    """An aware UTC datetime from an ISO-8601 string with offset, an aware datetime or epoch
    seconds; None when it is none of these (naive times are refused: their zone is a guess)."""
    if isinstance(raw, dt.datetime):
        moment = raw
    elif isinstance(raw, str):
        try:
            moment = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            return None
    elif isinstance(raw, Real) and not isinstance(raw, bool):
        seconds = float(raw)
        if not math.isfinite(seconds):
            return None
        try:
            return dt.datetime.fromtimestamp(seconds, _UTC)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    try:
        return moment.astimezone(_UTC)
    except (OverflowError, ValueError):
        return None


def parse_value(raw) -> float | None:
    """A finite float from a number or a numeric string; None otherwise (bools, NaN, ±inf)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (Real, Decimal)):
        try:
            value = float(raw)
        except (OverflowError, ValueError):
            return None
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


def _lock_ingestion() -> None:
    """Serialise ingesters until the transaction ends (see the module docstring)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])


def _chunks(values: list, size: int = _IN_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def ingest_readings(
    items: Iterable[Mapping], *, device=None, channel: str, now: dt.datetime | None = None
) -> IngestResult:
    """Validate and store a batch of readings `{"sensor", "time", "value"}` (R6.11b/c).

    `device` is the account reporting: a device reports only for the sensors bound to it
    (`Sensor.device`; a sensor bound to another device or to none is refused `not_allowed`).
    None means a trusted internal channel (the Modbus poller, the MQTT ingester for topics the
    broker's ACL reserves, the simulator), which may report for any sensor. Never raises for
    bad items; see the module docstring for what is written."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown ingestion channel {channel!r}")
    now = now or timezone.now()
    latest_allowed = now + dt.timedelta(seconds=max_future_seconds())
    oldest_allowed = now - dt.timedelta(days=raw_days())
    items = list(items)
    rejected: list[Rejection] = []

    def reject(index: int, code_sent, code: str, message: str) -> None:
        rejected.append(
            Rejection(index, code_sent if isinstance(code_sent, str) else "", code, message)
        )

    # Shape first, so that the sensor look-up is one query over well-formed codes.
    shaped: list[tuple[int, str, object, object]] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            reject(index, "", "bad_item", "An item must be an object {sensor, time, value}.")
            continue
        code = item.get("sensor")
        missing = [key for key in ("sensor", "time", "value") if key not in item]
        if missing:
            reject(index, code, "bad_item", f"Missing: {', '.join(missing)}.")
            continue
        if not isinstance(code, str) or not code:
            reject(index, "", "bad_item", "The sensor must be a non-empty code (a string).")
            continue
        shaped.append((index, code, item["time"], item["value"]))

    device_id = getattr(device, "pk", None)
    with transaction.atomic():
        _lock_ingestion()
        codes = {code for _, code, _, _ in shaped}
        sensors = {
            s.code: s
            for chunk in _chunks(sorted(codes))
            for s in Sensor.objects.filter(code__in=chunk)
        }
        checks: dict[int, ValueCheck] = {}
        candidates: list[tuple[int, Sensor, dt.datetime, float]] = []
        for index, code, raw_time, raw_value in shaped:
            sensor = sensors.get(code)
            if sensor is None:
                reject(index, code, "unknown_sensor", f"No sensor has the code {code!r}.")
                continue
            if device_id is not None and sensor.device_id != device_id:
                reject(index, code, "not_allowed", _not_allowed(sensor))
                continue
            if not sensor.active:
                reject(index, code, "inactive_sensor", "This sensor is not active.")
                continue
            value = parse_value(raw_value)
            if value is None:
                reject(index, code, "bad_value", "The value must be a finite number.")
                continue
            check = checks.get(sensor.id)
            if check is None:
                check = checks[sensor.id] = ValueCheck.of(sensor)
            problem = check.problem(value)
            if problem is not None:
                reject(index, code, "implausible_value", problem)
                continue
            moment = parse_time(raw_time)
            if moment is None:
                reject(
                    index,
                    code,
                    "bad_time",
                    "The time must be ISO 8601 with a UTC offset, or epoch seconds.",
                )
                continue
            if moment > latest_allowed:
                reject(index, code, "future_time", "The time is in the future.")
                continue
            if moment < sensor.installed_at:
                reject(
                    index,
                    code,
                    "before_installation",
                    "The time is before the sensor was installed "
                    f"({sensor.installed_at.astimezone(_UTC).isoformat()}).",
                )
                continue
            if moment < oldest_allowed:
                reject(
                    index,
                    code,
                    "too_old",
                    f"The time is older than raw readings are kept ({raw_days()} days).",
                )
                continue
            candidates.append((index, sensor, moment, value))

        # Duplicates: against what is stored (one query over the batch's distinct times)...
        stored_keys: set[tuple[int, dt.datetime]] = set()
        if candidates:
            sensor_ids = sorted({s.id for _, s, _, _ in candidates})
            times = sorted({m for _, _, m, _ in candidates})
            for chunk in _chunks(times):
                stored_keys.update(
                    Reading.objects.filter(sensor_id__in=sensor_ids, time__in=chunk).values_list(
                        "sensor_id", "time"
                    )
                )
        # ... and within the batch (the first one wins).
        rows: list[tuple[Sensor, dt.datetime, float]] = []
        seen: set[tuple[int, dt.datetime]] = set()
        for index, sensor, moment, value in candidates:
            key = (sensor.id, moment)
            if key in stored_keys:
                reject(index, sensor.code, "duplicate", "A reading at this time is already stored.")
                continue
            if key in seen:
                reject(index, sensor.code, "duplicate", "The batch has this time twice.")
                continue
            seen.add(key)
            rows.append((sensor, moment, value))

        if rows:
            _insert_readings(rows, received_at=timezone.now())
            _merge_aggregates(rows)
            _advance_sensors(rows)
        rejected.sort(key=lambda r: r.index)
        _count(device, channel, accepted=len(rows), rejected=rejected, now=now)
        if rows and ingest_listeners:
            transaction.on_commit(lambda: _notify(rows))
    return IngestResult(stored=len(rows), rejected=rejected, rows=rows)


def _not_allowed(sensor: Sensor) -> str:
    if sensor.device_id is None:
        return (
            "This sensor is bound to no device: it takes readings only from the lab's internal "
            "channels (Modbus poller, MQTT ingester, simulator)."
        )
    return "This sensor reports through another device."


@dataclass(frozen=True, slots=True)
class StoredReading:
    """A reading one ingestion stored, as the listeners get it: the attributes of a `Reading`
    they use (sensor, sensor_id, time, value), at a twentieth of the cost of building model
    instances (measured: 1 000 `Reading` objects took 12-17 ms a batch, as long as storing
    them)."""

    sensor: Sensor
    time: dt.datetime
    value: float

    @property
    def sensor_id(self) -> int:
        return self.sensor.pk


def _as_readings(rows) -> list[StoredReading]:
    return [StoredReading(sensor, moment, value) for sensor, moment, value in rows]


def _insert_readings(rows, *, received_at: dt.datetime) -> None:
    """The batch's readings in multi-row INSERTs (no conflict clause: a duplicate that slipped
    past the check above is a programming error and rolls the batch back).

    Not `bulk_create`: measured here (benchmarks/bench_environment.py) its per-row field
    preparation alone caps a batch at about 10 000 rows/s on SQLite, the whole budget (and
    building model instances costs another third: listeners get them, built after commit)."""
    ops = connection.ops
    q = ops.quote_name
    adapt = ops.adapt_datetimefield_value
    table = q(Reading._meta.db_table)
    columns = ", ".join(q(c) for c in ("sensor_id", "time", "value", "received_at"))
    received = adapt(received_at)
    values = [(sensor.id, adapt(moment), value, received) for sensor, moment, value in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: psycopg's client-side formatting of a 2 000-parameter INSERT costs more
            # than the server's work.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            return
        for chunk in _chunks(values, 500):
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                + ", ".join(["(%s, %s, %s, %s)"] * len(chunk)),
                [value for row in chunk for value in row],
            )


def _bucket_stats(rows) -> dict[tuple[int, str, dt.datetime], list]:
    """(sensor, period, start) -> [count, min, max, mean] of the batch's raw values.

    The mean is the sum over the count while the sum is finite (the usual case, one pass);
    a bucket whose sum overflowed (values near the float's limit) has its mean computed again
    without overflow (`weighted_mean`)."""
    fresh: dict[tuple[int, str, dt.datetime], list] = {}
    minute, hour = Aggregate.Period.MINUTE, Aggregate.Period.HOUR
    for sensor, moment, v in rows:
        for key in (
            (sensor.id, minute, moment.replace(second=0, microsecond=0)),
            (sensor.id, hour, moment.replace(minute=0, second=0, microsecond=0)),
        ):
            stats = fresh.get(key)
            if stats is None:
                fresh[key] = [1, v, v, v]
            else:
                stats[0] += 1
                if v < stats[1]:
                    stats[1] = v
                if v > stats[2]:
                    stats[2] = v
                stats[3] += v
    overflowed = set()
    for key, stats in fresh.items():
        if math.isfinite(stats[3]):
            stats[3] = min(max(stats[3] / stats[0], stats[1]), stats[2])
        else:
            overflowed.add(key)
    if overflowed:
        values: dict[tuple[int, str, dt.datetime], list[float]] = {k: [] for k in overflowed}
        for sensor, moment, v in rows:
            for key in (
                (sensor.id, minute, moment.replace(second=0, microsecond=0)),
                (sensor.id, hour, moment.replace(minute=0, second=0, microsecond=0)),
            ):
                if key in values:
                    values[key].append(v)
        for key, bucket in values.items():
            fresh[key][3] = weighted_mean((v, 1) for v in bucket)
    return fresh


def _stored_buckets(keys) -> dict[tuple[int, str, dt.datetime], tuple]:
    """The stored statistics (count, min, max, mean) of these buckets: one query over the
    batch's sensors and bucket starts (a typical batch is a few time steps of many sensors,
    so little more than the buckets asked for is read)."""
    wanted = set(keys)
    sensor_ids = sorted({key[0] for key in wanted})
    starts = sorted({key[2] for key in wanted})
    stored = {}
    for ids in _chunks(sensor_ids):
        for moments in _chunks(starts):
            rows = Aggregate.objects.filter(sensor_id__in=ids, start__in=moments).values_list(
                "sensor_id", "period", "start", "count", "minimum", "maximum", "mean"
            )
            for sensor_id, period, start, *stats in rows:
                key = (sensor_id, period, start)
                if key in wanted:
                    stored[key] = stats
    return stored


def _merge_aggregates(rows) -> None:
    """Minute and hour statistics of the new readings, merged into the stored buckets.

    The batch's statistics per bucket are merged here with the stored ones (read under the
    ingestion lock): counts add, min and max widen, and the means combine weighted by their
    counts (`weighted_mean`: no sum that could overflow is ever formed). The result is
    written with one upsert (INSERT ... ON CONFLICT DO UPDATE, SQLite ≥ 3.24 and PostgreSQL),
    whatever order batches arrive in. (The ORM way, select_for_update then bulk_update, took
    25 × longer: benchmarks/bench_environment.py.)"""
    fresh = _bucket_stats(rows)
    keys = sorted(fresh)  # a stable order: concurrent upserts lock rows in the same order
    for key, (count, low, high, mean) in _stored_buckets(keys).items():
        new = fresh[key]
        fresh[key] = [
            count + new[0],
            min(low, new[1]),
            max(high, new[2]),
            weighted_mean(((mean, count), (new[3], new[0]))),
        ]
    q = connection.ops.quote_name
    table = q(Aggregate._meta.db_table)
    names = ("sensor_id", "period", "start", "count", "minimum", "maximum", "mean")
    columns = ", ".join(q(c) for c in names)
    merge = f"ON CONFLICT ({', '.join(q(c) for c in names[:3])}) DO UPDATE SET " + ", ".join(
        f"{q(c)} = excluded.{q(c)}" for c in names[3:]
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Seven arrays instead of 7 × n parameters (client-side formatting is the cost).
            columns_of = list(zip(*[(*key, *fresh[key]) for key in keys], strict=True))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest(%s::bigint[], "  # noqa: S608
                "%s::varchar[], %s::timestamptz[], %s::integer[], %s::float8[], %s::float8[], "
                f"%s::float8[]) {merge}",
                [list(column) for column in columns_of],
            )
            return
        adapt = connection.ops.adapt_datetimefield_value
        buckets = [(key[0], key[1], adapt(key[2]), *fresh[key]) for key in keys]
        for chunk in _chunks(buckets, 1000):
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} {merge}",  # noqa: S608
                [value for row in chunk for value in row],
            )


def _advance_sensors(rows) -> None:
    """Each sensor's latest reading, moved forward only (a late batch never moves it back).

    One UPDATE of `last_time` / `last_value`, which the Sensor model keeps outside its audit
    (`audit_exclude`: they are the ingester's, not configuration): an audited save per sensor
    would record no event either, at 100 × the cost. The forward-only condition is in the
    statement, so concurrent ingesters cannot move a sensor back."""
    latest: dict[int, tuple[Sensor, dt.datetime, float]] = {}
    for row in rows:
        best = latest.get(row[0].id)
        if best is None or row[1] > best[1]:
            latest[row[0].id] = row
    moves = sorted(
        (
            (sensor, moment, value)
            for sensor, moment, value in latest.values()
            if sensor.last_time is None or moment > sensor.last_time
        ),
        key=lambda row: row[0].id,
    )
    if not moves:
        return
    for sensor, moment, value in moves:
        sensor.last_time, sensor.last_value = moment, value
    q = connection.ops.quote_name
    table, pk = q(Sensor._meta.db_table), q("id")
    last_time, last_value = q("last_time"), q("last_value")
    forward = f"({last_time} IS NULL OR {last_time} < "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET {last_time} = v.t, {last_value} = v.x FROM "  # noqa: S608
                "unnest(%s::bigint[], %s::timestamptz[], %s::float8[]) AS v(id, t, x) "
                f"WHERE {table}.{pk} = v.id AND {forward}v.t)",
                [[s.id for s, _, _ in moves], [m for _, m, _ in moves], [x for _, _, x in moves]],
            )
            return
        adapt = connection.ops.adapt_datetimefield_value
        time_cases, value_cases, where, time_params, value_params, where_params = (
            [],
            [],
            [],
            [],
            [],
            [],
        )
        for sensor, moment, value in moves:
            at = adapt(moment)
            time_cases.append("WHEN %s THEN %s")
            time_params += [sensor.id, at]
            value_cases.append("WHEN %s THEN %s")
            value_params += [sensor.id, value]
            where.append(f"({pk} = %s AND {forward}%s))")
            where_params += [sensor.id, at]
        cursor.execute(
            f"UPDATE {table} SET "  # noqa: S608
            f"{last_time} = CASE {pk} {' '.join(time_cases)} END, "
            f"{last_value} = CASE {pk} {' '.join(value_cases)} END "
            f"WHERE {' OR '.join(where)}",
            time_params + value_params + where_params,
        )


def _count(device, channel: str, *, accepted: int, rejected: list[Rejection], now) -> None:
    if not accepted and not rejected:
        return
    counters = IngestCounter.objects.filter(channel=channel)
    counters = (
        counters.filter(device__isnull=True) if device is None else counters.filter(device=device)
    )
    counter = counters.first()
    if counter is None:
        counter = IngestCounter.objects.create(
            device_id=getattr(device, "pk", None), channel=channel
        )
    changes = {
        "accepted": F("accepted") + accepted,
        "rejected": F("rejected") + len(rejected),
        "last_seen": now,
    }
    if rejected:
        last = rejected[-1]
        changes["last_rejection"] = f"[{last.code}] {last.sensor}: {last.message}"[:300]
    IngestCounter.objects.filter(pk=counter.pk).update(**changes)


def _notify(rows) -> None:
    readings = _as_readings(rows)
    for listener in list(ingest_listeners):
        try:
            listener(readings)
        except Exception:
            logger.exception("environment ingest listener %r failed", listener)
