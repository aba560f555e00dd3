"""The scenario schema (pydantic), YAML loading with file/line in errors, and `--set` overrides.

Every field documents its unit and default; `cosim schema` prints the JSON Schema for editors.
"""

from __future__ import annotations

import copy
import os
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cosim.channel.processes import ChannelConfig
from cosim.config.yamlio import apply_override, line_for, load_yaml, parse_override
from cosim.errors import ScenarioError
from cosim.node.scheduling import DISCIPLINES, FifoConfig
from cosim.suggest import did_you_mean
from cosim.tasks.base import DEFAULT_TASK, TASKS

MAX_DEVICES = 1_000_000
MAX_GROUPS = 32_767  # the records' `group` column is int16
MAX_SERVERS = 1_024
Coordinate = Annotated[float, Field(ge=-1e6, le=1e6)]  # site-plan coordinate, m


class Strict(BaseModel):
    """Base: unknown keys are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PeriodicWorkload(Strict):
    """Sense every `period_s`, each time shifted by a uniform jitter in [-jitter_s, +jitter_s]."""

    kind: Literal["periodic"] = "periodic"
    period_s: float = Field(gt=0, le=86_400 * 365, description="sensing period, s")
    jitter_s: float = Field(0.0, ge=0, le=86_400 * 365, description="uniform jitter half-width, s (default 0)")

    @model_validator(mode="after")
    def _jitter_below_period(self) -> PeriodicWorkload:
        if self.jitter_s >= self.period_s:
            raise ValueError("jitter_s must be smaller than period_s")
        return self


class PoissonWorkload(Strict):
    """Sense at the events of a Poisson process of rate `rate_hz`."""

    kind: Literal["poisson"]
    rate_hz: float = Field(gt=0, le=1000, description="mean sensing rate, 1/s")


Workload = Annotated[PeriodicWorkload | PoissonWorkload, Field(discriminator="kind")]


class FixedPlacement(Strict):
    """Every device at the same distance from its gateway."""

    kind: Literal["fixed"] = "fixed"
    distance_m: float = Field(10.0, gt=0, le=1e6, description="distance to the gateway, m (default 10)")


class UniformPlacement(Strict):
    """Distances drawn uniformly in [min_m, max_m]."""

    kind: Literal["uniform"]
    min_m: float = Field(gt=0, le=1e6, description="smallest distance, m")
    max_m: float = Field(gt=0, le=1e6, description="largest distance, m")

    @model_validator(mode="after")
    def _ordered(self) -> UniformPlacement:
        if self.max_m < self.min_m:
            raise ValueError("max_m must be >= min_m")
        return self


class DiscPlacement(Strict):
    """Devices uniform over a disc of `radius_m` around the gateway (area-uniform)."""

    kind: Literal["disc"]
    radius_m: float = Field(gt=0, le=1e6, description="disc radius, m")
    min_m: float = Field(1.0, gt=0, le=1e6, description="smallest distance, m (default 1)")


class AreaPlacement(Strict):
    """Devices uniform over a rectangle of the site plan; distance is to the server's `position_m`.

    The placement `server: nearest` needs: each device attaches to the closest edge server.
    """

    kind: Literal["area"]
    x_m: tuple[Coordinate, Coordinate] = Field(description="x range [min, max] on the site plan, m")
    y_m: tuple[Coordinate, Coordinate] = Field(description="y range [min, max] on the site plan, m")
    min_m: float = Field(1.0, gt=0, le=1e6, description="smallest distance to a gateway, m (default 1)")

    @model_validator(mode="after")
    def _ordered(self) -> AreaPlacement:
        for name, (lo, hi) in (("x_m", self.x_m), ("y_m", self.y_m)):
            if hi < lo:
                raise ValueError(f"{name}: max must be >= min")
        return self


Placement = Annotated[
    FixedPlacement | UniformPlacement | DiscPlacement | AreaPlacement, Field(discriminator="kind")
]


class SenseModel(Strict):
    """The sensor's acquisition phase before encoding."""

    time_ms: float = Field(2.0, ge=0, le=60_000, description="acquisition time, ms (default 2)")
    current_ma: float = Field(1.0, ge=0, le=1000, description="extra current while sensing, mA (default 1)")


class StrategyOptions(Strict):
    """Options of a group's offloading strategy; a strategy rejects options it does not use.

    Unset options take the strategy's default (see `cosim/strategies/`).
    """

    arq: bool | None = Field(
        None, description="ACK and retransmission of frames the receiver rejects: bit-exact strategies "
        "(split-int8, raw, local; default true) reject any error (CRC), semanticnn* (default false) only "
        "a lost header, keeping payload errors for the decoder (adaptive always sends without ARQ)")
    max_retries: int | None = Field(
        None, ge=0, le=255, description="ARQ retransmissions per frame before the inference is lost "
        "(default 7; needs arq)")
    jpeg_quality: int | None = Field(
        None, ge=1, le=95, description="raw: send the image as JPEG at this Pillow quality, 1-95 "
        "(default: none, 8-bit pixels)")
    accuracy_target: float | None = Field(
        None, gt=0, le=1, description="adaptive: least predicted accuracy per inference, fraction in "
        "(0, 1] (required by adaptive)")
    variants: tuple[str, ...] | None = Field(
        None, min_length=1, max_length=16, description="adaptive: codec specs to choose among (default: "
        "builtin:<dataset>-b1, -b2, the group's codec, -b4)")


class AdrSpreadingFactor(Strict):
    """Each LoRa device takes the smallest SF its mean SNR supports with `margin_db` to spare (ADR's outcome)."""

    kind: Literal["adr"]
    margin_db: float = Field(10.0, ge=0, le=40, description="link margin above the SF's demodulator limit, "
                             "dB (default 10, an assumption: network servers make it configurable)")


LoraSf = Annotated[int, Field(ge=7, le=12)]


class DeviceGroup(Strict):
    """A group of identical devices: board, radio, strategy, workload and placement."""

    name: str = Field(min_length=1, max_length=200, description="group name, used in results")
    count: int = Field(gt=0, le=MAX_DEVICES, description="number of devices")
    board: str = Field("stm32l476", description="board profile name or path (default stm32l476)")
    radio: str = Field("ble-1m", description="radio profile name or path (default ble-1m)")
    strategy: str = Field("semanticnn", description="offloading strategy (default semanticnn)")
    strategy_options: StrategyOptions = Field(default_factory=StrategyOptions,
                                              description="options of the strategy (default: none set)")
    codec: str | None = Field(None, description="codec for this group; default: the scenario's codec")
    receiver_policy: Literal["deliver", "drop"] | None = Field(
        None, description="what the gateway does with a frame whose header survived but whose payload has "
        "bit errors: deliver (the checksum covers the header only, like UDP-Lite or a CRC-less MAC mode: "
        "payload errors reach the decoder) or drop (the payload fails the CRC: discarded, resent with ARQ, "
        "else the inference is lost). Default: the strategy's (semanticnn*, adaptive: deliver; split-int8, "
        "raw, local: drop with ARQ, deliver without)")
    on_frame_loss: Literal["drop", "erase"] = Field(
        "drop", description="what the gateway does with an inference one of whose frames is lost for good "
        "(collision, header error, CRC failure under receiver_policy drop, no free channel, or ARQ giving "
        "up): drop loses the inference; erase decodes the frames received with the lost frames' symbols "
        "marked erased (semanticnn*, adaptive; the inference is lost only if every frame is; the record's "
        "erased_frames and erased_symbols count them). Default drop")
    workload: Workload = Field(default_factory=lambda: PeriodicWorkload(period_s=1.0))
    placement: Placement = Field(default_factory=FixedPlacement)
    server: str | None = Field(None, description="edge server name, or `nearest` (each device attaches to "
                               "the closest server; needs an `area` placement); default: the first server")
    channel: ChannelConfig | None = Field(None, description="channel; default: the server's channel")
    battery_mah: float = Field(1000.0, gt=0, le=1e7, description="battery capacity, mAh (default 1000)")
    battery_v: float = Field(3.0, gt=0, le=48, description="battery voltage, V (default 3.0)")
    battery: str | None = Field(None, description="battery profile name or path (hw_profiles/batteries/: "
                                "capacity, self-discharge, shelf life, pulse derating); overrides "
                                "battery_mah and battery_v, which stay as an ideal-cell shortcut")
    sense: SenseModel = Field(default_factory=SenseModel)
    lora_sf: tuple[LoraSf, ...] | AdrSpreadingFactor | None = Field(
        None, description="LoRa spreading factor per device: a list (device i takes entry i mod length) or "
        "{kind: adr}; each SF uses the shipped radio profile lora-sf<SF> (default: the group's radio)")


class DedicatedMedium(Strict):
    """Each device has its own channel to the gateway: no contention."""

    kind: Literal["dedicated"] = "dedicated"


class CaptureOption(Strict):
    """The capture option of contention media (ALOHA, CSMA)."""

    capture_db: float | None = Field(
        None, ge=0, le=60, description="capture effect: a frame this many dB stronger (received SNR) than "
        "every frame it overlaps survives, the others are lost (LoRaSim's pairwise rule without the preamble "
        "condition); no default figure: set it from your radio's measured capture threshold (default: off, "
        "any overlap loses both)")


class AlohaMedium(CaptureOption):
    """Pure ALOHA: transmit at once; any overlap of two frames loses both."""

    kind: Literal["aloha"]


class CsmaMedium(CaptureOption):
    """Non-persistent CSMA: sense, back off a random time while busy; overlapping starts collide."""

    kind: Literal["csma"]
    backoff_max_ms: float = Field(10.0, gt=0, le=60_000, description="largest random back-off, ms (default 10)")
    max_attempts: int = Field(8, ge=1, le=64, description="carrier-sense attempts before a drop (default 8)")


class TdmaMedium(Strict):
    """Each attached device owns one slot per superframe; a frame waits for its slot."""

    kind: Literal["tdma"]
    slot_ms: float = Field(gt=0, le=60_000, description="slot length, ms (must hold one frame)")


class LoraMedium(Strict):
    """LoRa gateways: pure ALOHA access, LoRaSim reception (capture, quasi-orthogonal SFs); the gateways
    of one `network` hear one air and an uplink is delivered if any of them decodes it.

    Thresholds: `hw_profiles/reception/lora.yaml` (with sources)."""

    kind: Literal["lora"]
    capture: bool = Field(True, description="capture effect: a frame capture_db stronger survives an overlap "
                          "that misses its preamble lock; false: any same-SF overlap loses both (default true)")
    capture_db: float | None = Field(None, ge=0, le=60, description="capture threshold, dB (default: the "
                                     "profile's 6 dB, Bor et al. 2016)")
    sf_rejection: Literal["croce", "goursaud", "perfect"] = Field(
        "croce", description="inter-SF rejection thresholds: croce (Croce et al. 2018), goursaud "
        "(Goursaud & Gorce 2015) or perfect (orthogonal SFs, LoRaSim) (default croce)")
    network: str = Field("lora", description="gateways with the same network name share one air "
                         "(multi-gateway reception; default lora)")


Medium = Annotated[
    DedicatedMedium | AlohaMedium | CsmaMedium | TdmaMedium | LoraMedium, Field(discriminator="kind")
]


class OracleEstimate(Strict):
    """The receiver knows each frame's true BER."""

    kind: Literal["oracle"] = "oracle"


class PilotEstimate(Strict):
    """The receiver counts errors among `pilot_bits` known bits per frame."""

    kind: Literal["pilot"]
    pilot_bits: int = Field(64, ge=1, le=100_000, description="known bits per frame (default 64)")


BerEstimate = Annotated[OracleEstimate | PilotEstimate, Field(discriminator="kind")]


class EdgeServer(Strict):
    """An edge server: profile, workers, batching, queue and the medium its gateway uses."""

    name: str = Field("edge", min_length=1, max_length=200, description="server name")
    position_m: tuple[Coordinate, Coordinate] = Field(
        (0.0, 0.0), description="gateway position (x, y) on the site plan, m; used by `area` placements "
        "(default 0, 0)")
    profile: str = Field("rpi5", description="edge profile name or path (default rpi5)")
    workers: int = Field(1, ge=1, le=1024, description="parallel workers (default 1)")
    max_batch: int = Field(32, ge=1, le=4096, description="largest batch, samples (default 32)")
    max_wait_ms: float = Field(5.0, ge=0, le=60_000, description="longest wait to fill a batch, ms (default 5)")
    queue_limit: int = Field(10_000, ge=1, le=10_000_000, description="queued inferences before drops")
    medium: Medium = Field(default_factory=DedicatedMedium)
    channel: ChannelConfig | None = Field(None, description="channel of devices attached here")
    discipline: DISCIPLINES.union() = Field(  # type: ignore[valid-type]
        default_factory=FifoConfig, description="order in which waiting inferences are served: fifo "
        "(default), edf (earliest deadline first) or priority (per device group)")


class CompareVariant(Strict):
    """One alternative of a `compare:` scenario: a name and overrides (dotted paths, as for `--set`)."""

    name: str = Field(min_length=1, max_length=100, description="variant name, used in results")
    set: dict[str, Any] = Field(default_factory=dict, description="dotted path -> value, e.g. "
                                "{devices.0.strategy: split-int8} (default: none, the scenario as written)")


class Scenario(Strict):
    """One simulated deployment: devices, edge servers, channels and the codec."""

    name: str = Field("scenario", description="scenario name")
    seed: int = Field(0, ge=0, lt=2**63, description="root seed of every random stream (default 0)")
    duration_s: float = Field(gt=0, le=86_400 * 365, description="simulated sensing time, s")
    drain_limit_s: float = Field(
        86_400.0, gt=0, le=86_400 * 365, description="longest simulated time after duration_s to finish the "
        "inferences still in flight (backlogs, duty-cycle queues), s; those unfinished then are reported in "
        "summary `drain` (default 86400)")
    dataset: str = Field("digits", description="data set the devices sense (default digits)")
    dataset_root: str | None = Field(None, description="directory of file-based data sets")
    task: Literal[tuple(TASKS.names())] = Field(  # type: ignore[valid-type]  # the registered tasks
        DEFAULT_TASK, description="what the codec infers: classification (accuracy) or detection "
        "(mAP; needs a detection codec and a data set with boxes), or a plug-in task")
    codec: str = Field("builtin:digits", description="codec checkpoint path or builtin:NAME")
    deadline_ms: float = Field(1000.0, gt=0, le=86_400_000 * 365, description="end-to-end deadline, ms (default 1000)")
    warmup_s: float = Field(0.0, ge=0, le=86_400 * 365, description="transient excluded from the summary: "
                            "inferences sensed before it and frames sent before it, s (default 0)")
    ber_estimate: BerEstimate = Field(default_factory=OracleEstimate)
    codec_batch: int = Field(256, ge=1, le=65_536, description="decoder batch size, samples (default 256)")
    devices: list[DeviceGroup] = Field(min_length=1, max_length=MAX_GROUPS)
    edge: list[EdgeServer] = Field(min_length=1, max_length=MAX_SERVERS)
    compare: list[CompareVariant] = Field(
        default_factory=list, max_length=64, description="alternatives to run side by side on the same "
        "devices (common random numbers): one World per variant from the same seed, each alone on its "
        "media (default: none, one run)")

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        if self.warmup_s >= self.duration_s:
            raise ValueError(f"warmup_s: {self.warmup_s:g} must be shorter than duration_s={self.duration_s:g}")
        servers = [s.name for s in self.edge]
        if len(set(servers)) != len(servers):
            raise ValueError("edge server names must be unique")
        groups = [g.name for g in self.devices]
        if len(set(groups)) != len(groups):
            raise ValueError("device group names must be unique")
        if sum(g.count for g in self.devices) > MAX_DEVICES:
            raise ValueError(f"more than {MAX_DEVICES} devices in total")
        for i, s in enumerate(self.edge):
            try:
                s.discipline.make(tuple(groups), self.deadline_ms / 1000.0)
            except ValueError as exc:
                raise ValueError(f"edge.{i}.discipline.{exc}") from None
        for i, g in enumerate(self.devices):
            if g.server == "nearest":
                if g.placement.kind != "area":
                    raise ValueError(f"devices.{i}.server: `nearest` needs placement kind `area` "
                                     f"(devices need positions), got {g.placement.kind!r}")
            elif g.server is not None and g.server not in servers:
                raise ValueError(f"devices.{i}.server: no edge server named {g.server!r} (have {servers})")
            for server in self.servers_of(g):
                if g.channel is None and server.channel is None:
                    raise ValueError(f"devices.{i}: no channel, set devices.{i}.channel or "
                                     f"edge server {server.name!r}'s channel")
        names = [v.name for v in self.compare]
        if len(set(names)) != len(names):
            raise ValueError("compare: variant names must be unique")
        for i in range(len(self.compare)):
            self._variant(i)
        return self

    def variants(self) -> list[tuple[str | None, Scenario]]:
        """(name, resolved scenario) of every `compare:` variant, or [(None, self)] without variants."""
        if not self.compare:
            return [(None, self)]
        return [(v.name, self._variant(i)) for i, v in enumerate(self.compare)]

    def select(self, name: str) -> Scenario:
        """This scenario with only its variant `name` (ScenarioError if there is none of that name)."""
        names = [v.name for v in self.compare]
        if name not in names:
            raise ScenarioError(f"variant {name!r}: no such compare variant (have {names})")
        return self.model_copy(update={"compare": [self.compare[names.index(name)]]})

    def _variant(self, i: int) -> Scenario:
        """Variant i: this scenario's fields as set, its overrides applied, validated (ValueError naming
        `compare.i.set`). It must keep the same devices (group names and counts) and seed."""
        v = self.compare[i]
        where = f"compare.{i}.set"
        data = self.model_dump(mode="json", exclude_unset=True)
        data.pop("compare", None)
        for path, value in v.set.items():
            head = path.split(".")[0]
            if head == "seed":
                raise ValueError(f"{where}: {path}: a variant may not change 'seed' (variants share the "
                                 f"seed: that is what makes them comparable)")
            if head == "compare":
                raise ValueError(f"{where}: {path}: a variant may not change 'compare'")
            try:
                apply_override(data, path.split("."), copy.deepcopy(value), f"variant {v.name!r}")
            except ScenarioError as exc:
                raise ValueError(f"{where}: {exc}") from None
        try:
            variant = Scenario.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = _format_loc(err["loc"]) or "(top level)"
            raise ValueError(f"{where}: variant {v.name!r}: {field}: "
                             f"{err['msg'].removeprefix('Value error, ')}") from None
        same = [(g.name, g.count) for g in variant.devices] == [(g.name, g.count) for g in self.devices]
        if not same:
            raise ValueError(f"{where}: variant {v.name!r} changes the devices (group names or counts): "
                             f"variants are the same devices under alternatives; different devices are "
                             f"groups")
        return variant

    def servers_of(self, group: DeviceGroup) -> list[EdgeServer]:
        """The edge servers a group's devices may attach to (all of them for `nearest`)."""
        if group.server == "nearest":
            return list(self.edge)
        if group.server is None:
            return [self.edge[0]]
        return [next(s for s in self.edge if s.name == group.server)]


def _format_loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc if not (isinstance(p, str) and p in _UNION_TAGS))


def _union_tags(model: type[BaseModel], seen: set | None = None) -> set[str]:
    """Every `kind` tag of the discriminated unions reachable from `model`'s fields (pydantic puts the
    tag in an error's location; field paths shown to users leave it out)."""
    seen = set() if seen is None else seen
    if model in seen:
        return set()
    seen.add(model)
    tags: set[str] = set()
    for field in model.model_fields.values():
        for sub in _models_in(field.annotation):
            kind = sub.model_fields.get("kind")
            if kind is not None:
                tags.update(a for a in get_args(kind.annotation) if isinstance(a, str))
            tags |= _union_tags(sub, seen)
    return tags


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


_UNION_TAGS = _union_tags(Scenario)


def validate_scenario(data: object, source: str, lines: dict | None = None) -> Scenario:
    """Validate raw data into a Scenario; the first error names file, line and field."""
    if data is None:
        raise ScenarioError(f"{source}: empty file, expected a scenario mapping")
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError("; ".join(_describe(err, source, lines or {}) for err in exc.errors())) from None


# pydantic errors of a name outside a closed set -> (the name given, the allowed names as quoted text)
_NAME_CHOICES = {
    "union_tag_invalid": lambda err: (err["ctx"]["tag"], err["ctx"]["expected_tags"]),
    "literal_error": lambda err: (err["input"], err["ctx"]["expected"]),
}


def _describe(err: dict, source: str, lines: dict) -> str:
    """One validation error as `file:line: field: message` (an unknown key with a "did you mean")."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
    msg = err["msg"].removeprefix("Value error, ")
    named = re.match(r"((?:devices|edge|compare)\.\d+(?:\.[A-Za-z_]\w*)*): ", msg)
    if not loc and named:  # a cross-field check names its field: use it for the line too
        loc = tuple(int(p) if p.isdigit() else p for p in named.group(1).split("."))
        msg = msg[named.end():]
    if err["type"] == "extra_forbidden" and loc:
        msg += did_you_mean(loc[-1], _fields_at(loc[:-1]))
    elif err["type"] in _NAME_CHOICES:  # a mistyped `kind` (medium, channel, workload, ...) or named option
        word, choices = _NAME_CHOICES[err["type"]](err)
        msg += did_you_mean(word, re.findall(r"'([^']*)'", choices))
    field = _format_loc(loc) or "(top level)"
    line = line_for(lines, loc)
    where = f"{source}:{line}" if line else source
    return f"{where}: {field}: {msg}"


def _models_in(annotation) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through lists, unions, Annotated, Optional)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _fields_at(loc: tuple) -> set[str]:
    """Field names a mapping at `loc` in a scenario may have (all members of a union)."""
    models: list[type[BaseModel]] = [Scenario]
    for part in loc:
        if isinstance(part, int):
            continue
        models = [m for model in models if part in model.model_fields
                  for m in _models_in(model.model_fields[part].annotation)]
    return {name for m in models for name in m.model_fields}


def load_scenario(path: str | Path, overrides: list[str] = (), seed: int | None = None) -> Scenario:
    """Load, override (`--set a.b=v`, `--seed`) and validate a scenario file."""
    data, lines = load_yaml(path)
    if overrides or seed is not None:
        if not isinstance(data, dict):
            raise ScenarioError(f"{path}: expected a mapping at the top level")
        for text in overrides:
            parts, value = parse_override(text)
            apply_override(data, parts, value, str(path))
        if seed is not None:
            data["seed"] = seed
    scenario = validate_scenario(data, str(path), lines)
    return _resolve_paths(scenario, Path(path).parent)


def _resolve_paths(scenario: Scenario, base: Path) -> Scenario:
    """Make relative trace and codec paths relative to the scenario file, as a user expects."""
    def fix(p: str | None) -> str | None:
        if p is None or p.startswith("builtin:") or Path(p).is_absolute():
            return p
        candidate = Path(os.path.abspath(base / p))  # absolute: a manifest replays from any folder
        return str(candidate) if candidate.exists() else p

    def fix_channel(ch):
        if ch is not None and getattr(ch, "kind", None) == "trace":
            return ch.model_copy(update={"path": fix(str(ch.path))})
        return ch

    groups = [g.model_copy(update={"codec": fix(g.codec), "channel": fix_channel(g.channel)})
              for g in scenario.devices]
    servers = [s.model_copy(update={"channel": fix_channel(s.channel)}) for s in scenario.edge]
    return scenario.model_copy(update={"codec": fix(scenario.codec), "devices": groups, "edge": servers,
                                       "dataset_root": fix(scenario.dataset_root)})
