"""The run summary: metrics overall, per group and per server, built once as frozen dataclasses.

`summarise` reads the records back in batches (memory bounded: running counts and sums, the latencies
of delivered inferences for exact percentiles, per-device counts); `RunSummary.to_dict` is the one
serialisation (summary.json, sweep tables), `RunSummary.from_dict` reads it back.

Definitions (window W = duration_s - warmup_s; records sensed before `warmup_s` are left out, and so
are frames sent before it in the medium statistics):
- delivery_ratio = delivered / inferences; lost_ratio = 1 - delivery_ratio; lost_share.<reason> = lost
  for that reason / inferences (they sum to lost_ratio; `drain`: unfinished when `drain_limit_s` ended
  the run); late_ratio = delivered after the deadline / inferences; deadline_miss_ratio = lost_ratio +
  late_ratio.
- mean_ber: channel BER over every frame attempt (lost inferences too); delivered_mean_ber: mean of
  the delivered records' BER.
- accuracy = correct on time / inferences; delivered_accuracy = correct / delivered.
- latency_ms: percentiles over delivered inferences only (`over: delivered`, `count` of them).
- goodput: correct (on-time) inferences per second, and application (payload) bits of delivered
  inferences per second.
- offered_load_erlang = airtime of every frame attempt / W (G of ALOHA theory; on a dedicated
  medium the sum over its links).
- airtime_utilisation (per server) = time the medium carried a frame / W (dedicated: per link,
  averaged); collision_rate = collided frames / frames on shared media, else null: on ALOHA and CSMA
  frames that overlapped another, on LoRa frames heard at a gateway that interference destroyed there
  (capture and inter-SF rejection applied; one SF without capture: the same as ALOHA's).
- duty_cycle_occupancy: per device airtime / (duty cycle x W), mean and max over devices.
- jain_fairness_accuracy = (sum x)^2 / (n sum x^2) over devices' accuracies x (devices with inferences).
- device_energy_mj_per_correct_inference = device energy (active + sleep) / correct on-time inferences.
- wilson95: Wilson score 95 % interval of every proportion above (`lost_share.<reason>` for each reason).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cosim.inference import DELIVERED, LOST_REASONS
from cosim.results.records import ENERGY_COLUMNS, codes

Z95 = 1.959963984540054  # standard normal 0.975 quantile
SUMMARY_BATCH_ROWS = 1 << 18  # rows read back at a time
_SUMMED = (*ENERGY_COLUMNS, "active_s", "bits_on_air", "tx_attempts", "airtime_s")
SUMMARY_COLUMNS = ("group", "server", "device", "lost", "pred", "label", "t_sense_s", "latency_s", "ber",
                   "codec_variant", *_SUMMED)


# -- facts the records do not hold ---------------------------------------------------------------
@dataclass(frozen=True)
class GroupFacts:
    """Per-group constants the summary needs besides the records."""

    name: str
    devices: int
    sleep_mw: float  # board + radio asleep, mW
    battery_mwh: float  # usable battery energy per device, mWh
    payload_bits: int  # application bits per inference (codec variant 0)
    background_mw: tuple[tuple[str, float], ...] = ()  # protocol costs while asleep, by phase, mW
    battery: object | None = None  # a BatteryProfile (self-discharge, shelf life), or None: ideal cell
    duty_cycle: float = 1.0  # largest fraction of time on air allowed per device
    variant_payload_bits: tuple[int, ...] = ()  # per codec variant (default: (payload_bits,))

    def life_days(self, avg_power_mw: float) -> float | None:
        """Battery life at `avg_power_mw`, days: the profile's (self-discharge, shelf life) or ideal."""
        if self.battery is not None:
            return self.battery.life_days(avg_power_mw)
        return self.battery_mwh / avg_power_mw / 24.0 if avg_power_mw > 0 else None


@dataclass(frozen=True)
class ServerFacts:
    """Per-server facts from the run: its medium and, on shared media, the medium's own counters."""

    name: str
    medium: str  # dedicated, tdma, aloha, csma, ...
    devices: tuple[int, ...]  # indices of the devices attached to it
    frames: int | None = None  # shared media: frames started after warm-up
    collided: int | None = None  # of which collided
    busy_s: float | None = None  # time carrying a frame after warm-up, s
    edge_utilization: float | None = None


# -- the typed summary ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Latency:
    """End-to-end latency of delivered inferences, ms."""

    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    over: str = "delivered"
    count: int = 0


@dataclass(frozen=True)
class Goodput:
    correct_per_s: float | None = None  # correct, on-time inferences per second
    app_bps: float | None = None  # application payload bits of delivered inferences per second


@dataclass(frozen=True)
class Occupancy:
    mean: float | None = None
    max: float | None = None


@dataclass(frozen=True, kw_only=True)
class Metrics:
    """The metrics of one set of inferences (all, one group, one server). Field order = JSON order."""

    devices: int
    inferences: int
    delivered: int
    lost: dict[str, int]
    accuracy: float | None
    delivered_accuracy: float | None
    latency_ms: Latency
    deadline_miss_ratio: float | None
    device_energy_mj_per_inference: float | None
    device_energy_mj_by_phase: dict[str, float | None]
    device_avg_power_mw: float | None
    battery_life_days: float | None
    bits_on_air_per_inference: float | None
    frames_per_inference: float | None
    mean_ber: float | None
    delivered_mean_ber: float | None = None
    delivery_ratio: float | None = None
    lost_ratio: float | None = None
    lost_share: dict[str, float | None] = field(default_factory=dict)  # lost / inferences, by reason
    late_ratio: float | None = None
    goodput: Goodput = field(default_factory=Goodput)
    offered_load_erlang: float | None = None
    collision_rate: float | None = None
    duty_cycle_occupancy: Occupancy = field(default_factory=Occupancy)
    jain_fairness_accuracy: float | None = None
    device_energy_mj_per_correct_inference: float | None = None
    wilson95: dict[str, Interval] = field(default_factory=dict)
    # keys other modules add to this entry (detection: map50, ...; receiver_policy), inline in JSON
    task: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "task"}
        out.update(self.task)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        known = {f.name for f in fields(cls)} - {"task"}
        kw = {k: v for k, v in data.items() if k in known}
        for name, typ in (("latency_ms", Latency), ("goodput", Goodput), ("duty_cycle_occupancy", Occupancy)):
            if isinstance(kw.get(name), dict):
                kw[name] = typ(**kw[name])
        kw["wilson95"] = {k: Interval(**v) for k, v in (kw.get("wilson95") or {}).items()}
        return cls(**kw, task={k: v for k, v in data.items() if k not in known})


@dataclass(frozen=True, kw_only=True)
class ServerMetrics(Metrics):
    """A server's metrics plus its medium's."""

    medium: str = ""
    airtime_utilisation: float | None = None
    frames_on_air: int | None = None  # shared media: frames started after warm-up
    collided_frames: int | None = None  # of which collided
    edge_utilization: float | None = None


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    """Everything summary.json holds; serialised once by `to_dict` (existing keys kept, new ones added)."""

    scenario: str
    seed: int
    overall: Metrics
    groups: dict[str, Metrics]
    servers: dict[str, ServerMetrics] = field(default_factory=dict)
    edge_utilization: dict[str, float] = field(default_factory=dict)
    edge_energy_j: dict[str, float] = field(default_factory=dict)
    collisions: dict[str, int] = field(default_factory=dict)
    decoder_calls: dict[str, int] = field(default_factory=dict)
    decoder_cache_hits: dict[str, int] = field(default_factory=dict)
    sim_time_s: float | None = None
    events: int | None = None
    drain: dict[str, Any] | None = None  # the bounded drain: limit_s, limit_reached, unfinished
    warmup_s: float = 0.0
    window_s: float | None = None
    wall_time_s: float | None = None
    receiver_policy: dict[str, str | None] = field(default_factory=dict)  # group -> deliver / drop
    variants: dict[str, RunSummary] = field(default_factory=dict)  # `compare:` runs: each variant's own
    extra: dict[str, Any] = field(default_factory=dict)  # keys other modules add, kept as they are

    _TOP = ("edge_utilization", "edge_energy_j", "collisions", "decoder_calls", "decoder_cache_hits",
            "sim_time_s", "events", "drain", "warmup_s", "window_s", "receiver_policy")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scenario": self.scenario, "seed": self.seed, **self.overall.to_dict(),
                               "groups": {k: m.to_dict() for k, m in self.groups.items()},
                               "servers": {k: m.to_dict() for k, m in self.servers.items()}}
        out.update({k: _plain(getattr(self, k)) for k in self._TOP})
        if self.variants:
            out["variants"] = {k: v.to_dict() for k, v in self.variants.items()}
        out.update(self.extra)
        out["wall_time_s"] = self.wall_time_s
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        top = {"scenario", "seed", "groups", "servers", "wall_time_s", "variants", *cls._TOP}
        metric_keys = {f.name for f in fields(Metrics)} - {"task"}
        task_keys = set()
        for g in (data.get("groups") or {}).values():
            task_keys |= set(g) - metric_keys
        overall = {k: v for k, v in data.items() if k not in top and (k in metric_keys or k in task_keys)}
        return cls(
            scenario=data.get("scenario", ""), seed=data.get("seed", 0),
            overall=Metrics.from_dict(overall),
            groups={k: Metrics.from_dict(v) for k, v in (data.get("groups") or {}).items()},
            servers={k: ServerMetrics.from_dict(v) for k, v in (data.get("servers") or {}).items()},
            **{k: data[k] for k in (*cls._TOP, "wall_time_s") if k in data},
            variants={k: cls.from_dict(v) for k, v in (data.get("variants") or {}).items()},
            extra={k: v for k, v in data.items() if k not in top and k not in overall},
        )

    def with_task(self, overall: dict[str, Any], groups: dict[str, dict[str, Any]]) -> RunSummary:
        """A copy with task metrics (e.g. detection's map50) added overall and per group."""
        return replace(
            self, overall=replace(self.overall, task={**self.overall.task, **overall}),
            groups={k: replace(m, task={**m.task, **groups.get(k, {})}) for k, m in self.groups.items()})

    def flat(self) -> dict[str, Any]:
        """The summary with dotted keys (`latency_ms.p95`, `groups.<name>.accuracy`), as sweep tables hold it."""
        return flatten(self.to_dict())

    def __getattr__(self, name: str) -> Any:
        """The overall metrics read as the summary's own (`summary.accuracy`), as in summary.json."""
        if name.startswith("_") or name == "overall":
            raise AttributeError(name)
        try:
            return getattr(self.overall, name)
        except AttributeError:
            if name in self.overall.task:
                return self.overall.task[name]
            raise AttributeError(f"RunSummary has no metric {name!r}") from None

    @property
    def primary_metric(self) -> str:
        """`map50` for detection runs, else `accuracy`."""
        return "map50" if "map50" in self.overall.task else "accuracy"


def _plain(value: Any) -> Any:
    """Dataclasses (and dicts of them) as plain JSON-ready values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


def flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dicts → one level with dotted keys; lists become JSON text."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        elif isinstance(v, (list, tuple)):
            out[name] = json.dumps(v)
        else:
            out[name] = v
    return out


# -- statistics -------------------------------------------------------------------------------------
def wilson(successes: int, n: int, z: float = Z95) -> Interval:
    """Wilson score interval of a binomial proportion (None bounds when n = 0)."""
    if n <= 0:
        return Interval()
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    denom = 1 + z2 / n
    # the bounds at 0 of n and n of n are exactly 0 and 1 (the formula leaves rounding residue there)
    low = 0.0 if successes == 0 else max(0.0, (centre - half) / denom)
    high = 1.0 if successes == n else min(1.0, (centre + half) / denom)
    return Interval(low, high)


def jain(x: np.ndarray) -> float | None:
    """Jain's fairness index (sum x)^2 / (n sum x^2); None if empty or all zero."""
    x = np.asarray(x, dtype=np.float64)
    sq = float(np.sum(x * x))
    if not len(x) or sq == 0.0:
        return None
    return float(np.sum(x)) ** 2 / (len(x) * sq)


# -- tallies ---------------------------------------------------------------------------------------
class _Tally:
    """Counts and sums of one set of records (all, one group or one server), accumulated batch by batch.

    Only the latencies of delivered inferences are kept (8 bytes each, for exact percentiles); every
    other metric is a running count or sum, so the summary never holds the whole table. Per-device
    counts (inferences, correct on time, airtime) are kept when `devices` is given.
    """

    def __init__(self, devices: int = 0) -> None:
        self.n = self.n_del = self.correct = self.correct_on_time = self.on_time = 0
        self.app_bits = 0
        self.lost = dict.fromkeys(LOST_REASONS, 0)
        self.sums = dict.fromkeys(_SUMMED, 0.0)
        self.ber_sum = 0.0  # sum of delivered records' BER
        self.attempt_ber_sum = 0.0  # sum over records of BER x frame attempts
        self.latency_s: list[np.ndarray] = []
        self.dev_n = np.zeros(devices, dtype=np.int64)
        self.dev_correct = np.zeros(devices, dtype=np.int64)
        self.dev_air_s = np.zeros(devices, dtype=np.float64)

    def add(self, c: dict[str, np.ndarray], payload_bits: np.ndarray) -> None:
        """Add one batch: columns `c` plus the derived `delivered`, `correct`, `on_time` masks."""
        delivered, correct, on_time = c["delivered"], c["correct"], c["on_time"]
        self.n += len(delivered)
        self.n_del += int(delivered.sum())
        self.correct += int(correct.sum())
        self.correct_on_time += int((correct & on_time).sum())
        self.on_time += int(on_time.sum())
        self.app_bits += int(payload_bits[delivered].sum())
        for k, count in zip(*np.unique(c["lost"], return_counts=True)):
            self.lost[int(k)] = self.lost.get(int(k), 0) + int(count)
        for col in _SUMMED:
            self.sums[col] += c[col].sum()
        self.ber_sum += c["ber"][delivered].sum()
        # summed sorted: the result does not depend on the order the records were written in
        self.attempt_ber_sum += float(np.sort(c["ber"] * c["tx_attempts"]).sum())
        self.latency_s.append(c["latency_s"][delivered])
        if len(self.dev_n):
            _add_devices(self, c)

    def merge(self, other: _Tally) -> None:
        """Add another tally's counts and sums (latencies are not merged)."""
        for name in ("n", "n_del", "correct", "correct_on_time", "on_time", "app_bits", "ber_sum",
                     "attempt_ber_sum"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, v in other.lost.items():
            self.lost[k] = self.lost.get(k, 0) + v
        for c in _SUMMED:
            self.sums[c] += other.sums[c]


@dataclass(frozen=True)
class Population:
    """The devices of one scope: how many, their sleep power, batteries and duty cycles."""

    members: tuple[tuple[GroupFacts, int], ...]  # (group, how many of its devices)
    index: np.ndarray  # device indices
    duty: np.ndarray  # duty cycle of each (same order)

    @staticmethod
    def of(groups: Sequence[GroupFacts], counts: Sequence[int], index: np.ndarray, duty: np.ndarray) -> Population:
        return Population(tuple((g, int(k)) for g, k in zip(groups, counts)), index, duty)

    @property
    def devices(self) -> int:
        return sum(k for _, k in self.members)

    def background_mw(self) -> dict[str, float]:
        """Continuous power while asleep, summed over the devices, by phase (`sleep` first), mW."""
        out = {"sleep": sum(g.sleep_mw * k for g, k in self.members)}
        for g, k in self.members:
            for phase, mw in g.background_mw:
                out[phase] = out.get(phase, 0.0) + mw * k
        return out

    def life_days(self, avg_power_mw: float) -> float | None:
        """Device-weighted mean battery life at `avg_power_mw`, days (None if any is unknown)."""
        lives = [(g.life_days(avg_power_mw), k) for g, k in self.members if k]
        if not lives or any(d is None for d, _ in lives):
            return None
        return sum(d * k for d, k in lives) / max(self.devices, 1)


def _metrics(t: _Tally, pop: Population, window_s: float, lat_ms: np.ndarray, dev: _Tally,
             collisions: tuple[int, int] | None = None, cls=Metrics, **more) -> Metrics:
    """The metrics of tally `t` over population `pop`; per-device counts come from `dev`."""
    n, n_del, sums = t.n, t.n_del, t.sums
    active_mj = float(sum(sums[c] for c in ENERGY_COLUMNS))
    devices = pop.devices
    device_time_s = devices * window_s
    asleep_s = max(0.0, device_time_s - float(sums["active_s"]))
    # continuous costs while asleep (stop mode, connection events, beacons, eDRX), by phase, device-mean
    background_mj = {k: v / max(devices, 1) * asleep_s for k, v in pop.background_mw().items()}
    sleep_mj = sum(background_mj.values())
    total_mj = active_mj + sleep_mj
    avg_power_mw = total_mj / device_time_s if device_time_s else 0.0
    p50, p95, p99 = (float(v) for v in np.percentile(lat_ms, [50, 95, 99])) if len(lat_ms) else (None,) * 3
    late = t.n_del - t.on_time

    def per(x: float) -> float | None:
        return float(x / n) if n else None

    def ratio(k: int, m: int) -> float | None:
        return float(k / m) if m else None

    dev_n, dev_ok, dev_air = dev.dev_n[pop.index], dev.dev_correct[pop.index], dev.dev_air_s[pop.index]
    seen = dev_n > 0
    occupancy = dev_air / (pop.duty * window_s) if window_s > 0 and len(pop.index) else np.empty(0)
    proportions = {
        "accuracy": (t.correct_on_time, n), "delivered_accuracy": (t.correct, n_del),
        "delivery_ratio": (n_del, n), "lost_ratio": (n - n_del, n), "late_ratio": (late, n),
        "deadline_miss_ratio": (n - t.on_time, n),
    }
    if collisions is not None:
        proportions["collision_rate"] = (collisions[1], collisions[0])
    reasons = {LOST_REASONS[k]: t.lost[k] for k in LOST_REASONS if k}
    proportions.update({f"lost_share.{r}": (k, n) for r, k in reasons.items()})
    return cls(
        devices=devices, inferences=n, delivered=n_del,
        lost=reasons,
        accuracy=ratio(t.correct_on_time, n), delivered_accuracy=ratio(t.correct, n_del),
        latency_ms=Latency(float(lat_ms.mean()) if len(lat_ms) else None, p50, p95, p99, "delivered", len(lat_ms)),
        deadline_miss_ratio=float(1.0 - t.on_time / n) if n else None,
        device_energy_mj_per_inference=total_mj / n if n else None,
        device_energy_mj_by_phase={**{c.removesuffix("_mj"): per(sums[c]) for c in ENERGY_COLUMNS},
                                   **{k: (mj / n if n else None) for k, mj in background_mj.items()}},
        device_avg_power_mw=avg_power_mw,
        battery_life_days=pop.life_days(avg_power_mw),
        bits_on_air_per_inference=per(sums["bits_on_air"]), frames_per_inference=per(sums["tx_attempts"]),
        mean_ber=float(t.attempt_ber_sum / sums["tx_attempts"]) if sums["tx_attempts"] else None,
        delivered_mean_ber=float(t.ber_sum / n_del) if n_del else None,
        delivery_ratio=ratio(n_del, n), lost_ratio=ratio(n - n_del, n),
        lost_share={r: ratio(k, n) for r, k in reasons.items()}, late_ratio=ratio(late, n),
        goodput=Goodput(t.correct_on_time / window_s, t.app_bits / window_s) if window_s > 0 else Goodput(),
        offered_load_erlang=float(sums["airtime_s"] / window_s) if window_s > 0 else None,
        collision_rate=ratio(collisions[1], collisions[0]) if collisions is not None else None,
        duty_cycle_occupancy=Occupancy(float(occupancy.mean()), float(occupancy.max())) if len(occupancy)
        else Occupancy(),
        jain_fairness_accuracy=jain(dev_ok[seen] / dev_n[seen]),
        device_energy_mj_per_correct_inference=total_mj / t.correct_on_time if t.correct_on_time else None,
        wilson95={k: wilson(*v) for k, v in proportions.items()},
        **more,
    )


def _batches(packets: Path, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """The records, row group by row group (at most SUMMARY_BATCH_ROWS rows at a time).

    Read one row group at a time: `ParquetFile.iter_batches` reads ahead and held ~800 MB of Arrow
    buffers for a 10-million-row file.
    """
    pf = pq.ParquetFile(packets)
    for i in range(pf.num_row_groups):
        yield from pf.read_row_group(i, columns=list(columns)).to_batches(max_chunksize=SUMMARY_BATCH_ROWS)


@dataclass(frozen=True)
class Scopes:
    """The metrics of a run: overall, per group, per server."""

    overall: Metrics
    groups: dict[str, Metrics]
    servers: dict[str, ServerMetrics]


def _latency_ms(tally: _Tally) -> np.ndarray:
    """The tally's delivered latencies as one array, ms (its batches are released)."""
    lat = np.concatenate(tally.latency_s) if tally.latency_s else np.empty(0)
    tally.latency_s = []
    return lat * 1000.0


def summarise(packets: Path, groups: Sequence[GroupFacts], duration_s: float, deadline_s: float,
              servers: Sequence[ServerFacts] = (), warmup_s: float = 0.0, copies: int = 1) -> Scopes:
    """Metrics overall, per group and per server, read back from the records in batches.

    Records sensed before `warmup_s` are left out; rates are per second of `duration_s - warmup_s`.
    Devices are numbered group after group (as the World builds them). `copies`: the records pool that
    many Worlds of the same devices (`compare:` variants; `groups` count every copy): per-device
    figures then pool each device over the copies.
    """
    window_s = duration_s - warmup_s
    offsets = np.cumsum([0] + [g.devices // copies for g in groups])
    n_devices = int(offsets[-1])
    duty = np.repeat([g.duty_cycle * copies for g in groups],
                     [g.devices // copies for g in groups]).astype(np.float64)  # occupancy per copy
    payload = [np.asarray(g.variant_payload_bits or (g.payload_bits,), dtype=np.int64) for g in groups]
    tallies = [_Tally() for _ in groups]
    everyone = _Tally(n_devices)  # per-device counts for overall and group scopes
    per_server = [_Tally(n_devices) for _ in servers]
    for batch in _batches(packets, SUMMARY_COLUMNS):
        c = {name: codes(batch.column(name)) for name in SUMMARY_COLUMNS}
        if warmup_s > 0:
            keep = c["t_sense_s"] >= warmup_s
            c = {k: v[keep] for k, v in c.items()}
        latency = c["latency_s"]
        c["delivered"] = delivered = (c["lost"] == DELIVERED) & ~np.isnan(latency)
        c["correct"] = delivered & (c["pred"] == c["label"])
        c["on_time"] = delivered & (latency <= deadline_s)
        c["ber"] = np.nan_to_num(c["ber"])
        group = c["group"]
        bits = np.zeros(len(group), dtype=np.int64)
        for gi, tally in enumerate(tallies):
            mask = group == gi
            sub = {k: v[mask] for k, v in c.items()}
            bits_g = payload[gi][np.minimum(sub["codec_variant"], len(payload[gi]) - 1)]
            bits[mask] = bits_g
            tally.add(sub, bits_g)
        everyone_c = {k: c[k] for k in ("device", "airtime_s", "correct", "on_time")}
        _add_devices(everyone, everyone_c)
        for si, tally in enumerate(per_server):
            mask = c["server"] == si
            tally.add({k: v[mask] for k, v in c.items()}, bits[mask])
    overall = _Tally()
    for t in tallies:  # the overall tally: sums of the groups' (in group order)
        overall.merge(t)
    group_lat = [_latency_ms(t) for t in tallies]
    all_lat = group_lat[0] if len(group_lat) == 1 else np.concatenate(group_lat) if group_lat else np.empty(0)
    everywhere = Population.of(groups, [g.devices for g in groups], np.arange(n_devices), duty)
    shared = [s for s in servers if s.frames is not None]
    collisions = (sum(s.frames for s in shared), sum(s.collided for s in shared)) if shared else None
    out_groups = {}
    for gi, (g, t, lat) in enumerate(zip(groups, tallies, group_lat)):
        index = np.arange(offsets[gi], offsets[gi + 1])
        out_groups[g.name] = _metrics(t, Population.of([g], [g.devices], index, duty[index]), window_s, lat,
                                      everyone)
    out_servers = {}
    for s, t in zip(servers, per_server):
        index = np.asarray(s.devices, dtype=np.int64)
        counts = [copies * int(((index >= offsets[gi]) & (index < offsets[gi + 1])).sum())
                  for gi in range(len(groups))]
        pop = Population.of(groups, counts, index, duty[index])
        col = (s.frames, s.collided) if s.frames is not None else None
        busy_s = s.busy_s if s.busy_s is not None else float(t.sums["airtime_s"]) / (
            1 if s.medium != "dedicated" else max(len(index), 1))
        out_servers[s.name] = _metrics(
            t, pop, window_s, _latency_ms(t), t, col, ServerMetrics, medium=s.medium,
            airtime_utilisation=busy_s / window_s if window_s > 0 else None, frames_on_air=s.frames,
            collided_frames=s.collided, edge_utilization=s.edge_utilization)
    return Scopes(_metrics(overall, everywhere, window_s, all_lat, everyone, collisions), out_groups, out_servers)


def _add_devices(tally: _Tally, c: dict[str, np.ndarray]) -> None:
    """Add a batch to a tally's per-device counts only."""
    d, size = c["device"], len(tally.dev_n)
    tally.dev_n += np.bincount(d, minlength=size)
    tally.dev_correct += np.bincount(d, weights=c["correct"] & c["on_time"], minlength=size).astype(np.int64)
    tally.dev_air_s += np.bincount(d, weights=c["airtime_s"], minlength=size)
