"""Hardware profiles (boards, radios, edge servers) loaded from `hw_profiles/` YAML by name or path.

Every number in a profile file is written with its source, e.g.
`clock_mhz: {value: 80, source: "DS10198 ...", estimate: false, note: "..."}`; the loader checks each
field strictly (unknown, missing, wrong type, out of range → `ProfileError` naming file and field) and
returns frozen dataclasses with plain numbers plus a `sources` mapping for reports.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cosim.channel.modulation import MODULATIONS  # the names `ber_from_snr_db` knows
from cosim.config.yamlio import line_for, load_yaml
from cosim.errors import CosimError, ProfileError
from cosim.suggest import did_you_mean

KINDS = ("board", "radio", "edge", "battery")
_DIRS = {"board": "boards", "radio": "radios", "edge": "edge", "battery": "batteries"}
PHYS = ("ble", "ieee802154", "lora", "nbiot", "wifi")
LORA_PREAMBLE_SYMBOLS = 8  # LoRaWAN default preamble length, symbols
LORA_LDRO_SYMBOL_S = 16.38e-3  # Semtech: low data rate optimisation on when a symbol lasts >= 16 ms


@dataclass(frozen=True)
class Sourced:
    """One profile number and where it comes from."""

    value: float
    source: str
    estimate: bool = False
    note: str = ""


@dataclass(frozen=True)
class ProfileInfo:
    """A profile file found under a profile root (not yet validated)."""

    kind: str
    name: str
    path: Path


def _sources_field() -> Any:
    return field(default_factory=lambda: MappingProxyType({}), compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class BoardProfile:
    """An MCU board: clock, memories, currents and int8 cycles per MAC.

    `run_current_ma` is the board-level current while running a network, calibrated to MLPerf Tiny's
    measured energy per inference (or a measured sibling's, as `calibration` says); the datasheet's
    core-only run current is kept apart as `core_current_ma`.
    """

    name: str
    description: str
    core: str
    calibration: str
    clock_mhz: float
    max_clock_mhz: float
    sram_kb: int
    flash_kb: int
    run_current_ma: float
    core_current_ma: float
    sleep_current_ua: float
    wakeup_us: float
    supply_v: float
    cycles_per_mac_conv: float
    cycles_per_mac_fc: float
    sources: Mapping[str, Sourced] = _sources_field()
    path: Path | None = None

    def compute_time_s(self, macs: float, kind: str = "conv") -> float:
        """Time to run `macs` int8 multiply-accumulates of `kind` ("conv" or "fc"), s."""
        if kind == "conv":
            cpm = self.cycles_per_mac_conv
        elif kind == "fc":
            cpm = self.cycles_per_mac_fc
        else:
            raise ValueError(f"kind must be 'conv' or 'fc', got {kind!r}")
        return float(macs) * cpm / (self.clock_mhz * 1e6)

    def compute_energy_mj(self, macs: float, kind: str = "conv") -> float:
        """Energy of `compute_time_s(macs, kind)` at the run current, mJ (V · mA · s)."""
        return self.run_power_mw * self.compute_time_s(macs, kind)

    @property
    def run_power_mw(self) -> float:
        """Power while running at `clock_mhz`, mW."""
        return self.supply_v * self.run_current_ma

    @property
    def sleep_power_mw(self) -> float:
        """Power in stop mode with SRAM retained, mW."""
        return self.supply_v * self.sleep_current_ua / 1000.0

    @property
    def wake_mj(self) -> float:
        """Energy to wake from the stop mode once: `wakeup_us` at the core-only run current, mJ."""
        return self.supply_v * self.core_current_ma * self.wakeup_us / 1e6


@dataclass(frozen=True)
class RadioProfile:
    """A radio PHY/MAC: framing, timing, currents, RF front end; LoRa fields only for `phy == "lora"`."""

    name: str
    description: str
    phy: str
    modulation: str
    bitrate_bps: float
    max_payload_bytes: int
    preamble_bytes: int
    header_bytes: int
    crc_bytes: int
    ifs_us: float
    ack_bytes: int
    turnaround_us: float
    tx_current_ma: float
    rx_current_ma: float
    sleep_current_ua: float
    supply_v: float
    tx_power_dbm: float
    noise_bandwidth_hz: float
    noise_figure_db: float
    frequency_mhz: float
    duty_cycle: float
    lora_sf: int | None = None
    lora_bw_hz: float | None = None
    lora_cr: int | None = None
    protocol: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}), compare=False, hash=False)
    sources: Mapping[str, Sourced] = _sources_field()
    path: Path | None = None

    def airtime_s(self, payload_bytes: int) -> float:
        """Airtime of one frame carrying `payload_bytes` application bytes, s.

        Non-LoRa: (preamble + header + payload + CRC) bytes at `bitrate_bps`. LoRa: Semtech SX1262
        §6.1.4 with PL = header + payload, 8-symbol preamble, explicit header, CRC on.
        """
        n = int(payload_bytes)
        if n < 0 or n > self.max_payload_bytes:
            raise ValueError(f"radio {self.name!r}: payload_bytes must be in 0..{self.max_payload_bytes}, got {n}")
        if self.phy == "lora":
            return lora_airtime_s(self.header_bytes + n, self.lora_sf, self.lora_bw_hz, self.lora_cr, crc=True)
        return 8 * (self.preamble_bytes + self.header_bytes + n + self.crc_bytes) / self.bitrate_bps

    def ack_airtime_s(self) -> float:
        """Airtime of the link-layer ACK frame, s (0 when the radio has none).

        Non-LoRa: (preamble + ack + CRC) bytes at `bitrate_bps`. LoRa: a LoRaWAN downlink of
        `ack_bytes` (no payload CRC on downlinks).
        """
        if self.ack_bytes == 0:
            return 0.0
        if self.phy == "lora":
            return lora_airtime_s(self.ack_bytes, self.lora_sf, self.lora_bw_hz, self.lora_cr, crc=False)
        return 8 * (self.preamble_bytes + self.ack_bytes + self.crc_bytes) / self.bitrate_bps

    @property
    def frame_overhead_bits(self) -> int:
        """Header and CRC bits of a frame: if any is hit, the frame is lost."""
        return 8 * (self.header_bytes + self.crc_bytes)

    @property
    def tx_supply_mw(self) -> float:
        """Electrical power drawn while transmitting, mW."""
        return self.supply_v * self.tx_current_ma

    @property
    def rx_supply_mw(self) -> float:
        """Electrical power drawn while receiving, mW."""
        return self.supply_v * self.rx_current_ma

    @property
    def sleep_supply_mw(self) -> float:
        """Electrical power drawn asleep, mW."""
        return self.supply_v * self.sleep_current_ua / 1000.0


@dataclass(frozen=True)
class EdgeProfile:
    """An edge server: batch service time t(b) = t0 + b·t1 for a reference model, and power."""

    name: str
    description: str
    batch_t0_ms: float
    batch_t1_ms: float
    reference_macs: float
    idle_power_w: float
    active_power_w: float
    sources: Mapping[str, Sourced] = _sources_field()
    path: Path | None = None

    def service_time_s(self, batch: int, macs_per_sample: float | None = None) -> float:
        """Time to serve a batch of `batch` samples, s; t1 scales by macs_per_sample / reference_macs."""
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        scale = 1.0 if macs_per_sample is None else float(macs_per_sample) / self.reference_macs
        return (self.batch_t0_ms + batch * self.batch_t1_ms * scale) / 1000.0


@dataclass(frozen=True)
class BatteryProfile:
    """A battery: rated capacity to its cut-off voltage, self-discharge, shelf life, pulse derating.

    Usable energy = capacity x nominal voltage x pulse_derating (the fraction of the rated capacity a
    cell delivers under the device's pulse loads: Li-SOCl2 bobbin cells and coin cells lose capacity
    to high pulse currents). Self-discharge drains `self_discharge_per_year` of the rated energy per
    year whatever the load; no cell outlives `shelf_life_years`.
    """

    name: str
    description: str
    chemistry: str
    capacity_mah: float
    nominal_v: float
    cutoff_v: float
    self_discharge_per_year: float
    shelf_life_years: float
    pulse_derating: float
    sources: Mapping[str, Sourced] = _sources_field()
    path: Path | None = None

    @property
    def usable_mwh(self) -> float:
        """Energy the device can draw, mWh."""
        return self.capacity_mah * self.nominal_v * self.pulse_derating

    @property
    def self_discharge_mw(self) -> float:
        """Self-discharge as a constant drain, mW (fraction of the rated energy per year / hours per year)."""
        return self.self_discharge_per_year * self.capacity_mah * self.nominal_v / HOURS_PER_YEAR

    def life_days(self, avg_power_mw: float) -> float:
        """Days until the usable energy is spent at `avg_power_mw` plus self-discharge, capped by shelf life."""
        drain_mw = avg_power_mw + self.self_discharge_mw
        days = self.usable_mwh / drain_mw / 24.0 if drain_mw > 0 else math.inf
        return min(days, self.shelf_life_years * DAYS_PER_YEAR)


HOURS_PER_YEAR = 8766.0  # 365.25 days
DAYS_PER_YEAR = 365.25


def lora_airtime_s(pl_bytes: int, sf: int, bw_hz: float, cr: int, crc: bool = True,
                   explicit_header: bool = True, preamble_symbols: int = LORA_PREAMBLE_SYMBOLS) -> float:
    """LoRa time on air, s (Semtech SX1261/2 datasheet §6.1.4); cr = 1..4 for 4/5..4/8.

    Low data rate optimisation is on when a symbol lasts >= 16.38 ms (SF11 and SF12 at 125 kHz).
    """
    t_sym = 2.0**sf / bw_hz
    n_crc = 16 if crc else 0
    n_hdr = 20 if explicit_header else 0
    if sf <= 6:
        bits = 8 * pl_bytes + n_crc - 4 * sf + n_hdr
        n_sym = preamble_symbols + 6.25 + 8 + math.ceil(max(bits, 0) / (4 * sf)) * (cr + 4)
    else:
        de = 2 if t_sym >= LORA_LDRO_SYMBOL_S else 0
        bits = 8 * pl_bytes + n_crc - 4 * sf + 8 + n_hdr
        n_sym = preamble_symbols + 4.25 + 8 + math.ceil(max(bits, 0) / (4 * (sf - de))) * (cr + 4)
    return n_sym * t_sym


# -- field specifications ---------------------------------------------------------------------------
def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class _Num:
    """A sourced numeric field: unit, integer or not, and its allowed range."""

    unit: str
    integer: bool = False
    minimum: float | None = 0.0  # None: any finite number
    strict: bool = True  # minimum excluded (value must be > minimum)
    maximum: float | None = None

    def problem(self, v: Any) -> str | None:
        if isinstance(v, str) and _is_float(v):
            return f"must be a number, got the text {v!r} (YAML reads 1.5e9 as text: write 1.5e+9)"
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"must be a number, got {type(v).__name__} {v!r}"
        if not math.isfinite(v):
            return f"must be a finite number, got {v!r}"
        if self.integer and v != int(v):
            return f"must be a whole number, got {v!r}"
        if self.minimum is not None:
            if self.strict and v <= self.minimum:
                return "must be a positive number" if self.minimum == 0 else f"must be > {self.minimum:g}"
            if not self.strict and v < self.minimum:
                return "must be >= 0" if self.minimum == 0 else f"must be >= {self.minimum:g}"
        if self.maximum is not None and v > self.maximum:
            return f"must be <= {self.maximum:g}, got {v!r}"
        return None


_BOARD_FIELDS: dict[str, _Num] = {
    "clock_mhz": _Num("MHz", maximum=5_000),
    "max_clock_mhz": _Num("MHz", maximum=5_000),
    "sram_kb": _Num("KiB", integer=True, maximum=16 * 2**20),
    "flash_kb": _Num("KiB", integer=True, maximum=16 * 2**20),
    "run_current_ma": _Num("mA", maximum=10_000),
    "core_current_ma": _Num("mA", maximum=10_000),
    "sleep_current_ua": _Num("µA", maximum=1e6),
    "wakeup_us": _Num("µs", strict=False, maximum=1e7),
    "supply_v": _Num("V", maximum=48),
    "cycles_per_mac_conv": _Num("cycles/MAC", maximum=10_000),
    "cycles_per_mac_fc": _Num("cycles/MAC", maximum=10_000),
}
_RADIO_FIELDS: dict[str, _Num] = {
    "bitrate_bps": _Num("bit/s", maximum=1e11),
    "max_payload_bytes": _Num("B", integer=True, maximum=65_535),
    "preamble_bytes": _Num("B", integer=True, strict=False, maximum=1_024),
    "header_bytes": _Num("B", integer=True, strict=False, maximum=1_024),
    "crc_bytes": _Num("B", integer=True, strict=False, maximum=64),
    "ifs_us": _Num("µs", strict=False, maximum=1e7),
    "ack_bytes": _Num("B", integer=True, strict=False, maximum=1_024),
    "turnaround_us": _Num("µs", strict=False, maximum=1e7),
    "tx_current_ma": _Num("mA", maximum=10_000),
    "rx_current_ma": _Num("mA", maximum=10_000),
    "sleep_current_ua": _Num("µA", maximum=1e6),
    "supply_v": _Num("V", maximum=48),
    "tx_power_dbm": _Num("dBm", minimum=-60, strict=False, maximum=60),
    "noise_bandwidth_hz": _Num("Hz", maximum=1e11),
    "noise_figure_db": _Num("dB", strict=False, maximum=60),
    "frequency_mhz": _Num("MHz", maximum=1e6),
    "duty_cycle": _Num("fraction", maximum=1.0),
}
_LORA_FIELDS: dict[str, _Num] = {
    "lora_sf": _Num("", integer=True, minimum=5, strict=False, maximum=12),
    "lora_bw_hz": _Num("Hz", maximum=1e7),
    "lora_cr": _Num("", integer=True, minimum=1, strict=False, maximum=4),
}
_EDGE_FIELDS: dict[str, _Num] = {
    "batch_t0_ms": _Num("ms", strict=False, maximum=1e6),
    "batch_t1_ms": _Num("ms", maximum=1e6),
    "reference_macs": _Num("MAC", maximum=1e18),
    "idle_power_w": _Num("W", strict=False, maximum=1e5),
    "active_power_w": _Num("W", maximum=1e5),
}
_BATTERY_FIELDS: dict[str, _Num] = {
    "capacity_mah": _Num("mAh", maximum=1e7),
    "nominal_v": _Num("V", maximum=48),
    "cutoff_v": _Num("V", maximum=48),
    "self_discharge_per_year": _Num("fraction/year", strict=False, maximum=1.0),
    "shelf_life_years": _Num("years", maximum=100),
    "pulse_derating": _Num("fraction", maximum=1.0),
}
_TEXT_FIELDS = {"board": ("core", "calibration"), "radio": ("phy", "modulation"), "edge": (),
                "battery": ("chemistry",)}
_NUM_FIELDS = {"board": _BOARD_FIELDS, "radio": {**_RADIO_FIELDS, **_LORA_FIELDS}, "edge": _EDGE_FIELDS,
               "battery": _BATTERY_FIELDS}
_CLASSES = {"board": BoardProfile, "radio": RadioProfile, "edge": EdgeProfile, "battery": BatteryProfile}
_SOURCED_KEYS = ("value", "source", "estimate", "note")


def _protocol_specs(phy: str | None) -> dict[str, _Num]:
    """The numeric fields the protocol of `phy` adds to a radio profile (>= 0; levels in dB may be negative)."""
    from cosim.net.protocols import protocol_fields

    return {k: _Num(unit, minimum=None if unit == "dB" else 0.0, strict=False, maximum=1e9)
            for k, unit in protocol_fields(phy or "").items()}


def unit_of(kind: str, field_name: str, phy: str | None = None) -> str:
    """The unit of a numeric profile field ("" when dimensionless or unknown)."""
    spec = _NUM_FIELDS.get(kind, {}).get(field_name) or _protocol_specs(phy).get(field_name)
    return spec.unit if spec else ""


# -- locating files -----------------------------------------------------------------------------------
def profiles_root() -> Path:
    """The profile root: $COSIM_HW_PROFILES, else the profiles shipped inside the package (`cosim/hw_profiles`)."""
    env = os.environ.get("COSIM_HW_PROFILES")
    if env:
        return Path(env)
    from importlib.resources import files

    return Path(str(files("cosim") / "hw_profiles"))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or os.sep in spec or spec.endswith((".yaml", ".yml"))


def _natural(path: Path) -> list:
    """Sort key putting lora-sf7 before lora-sf10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.stem)]


def list_profiles(root: str | Path | None = None, kind: str | None = None) -> list[ProfileInfo]:
    """Every `<root>/{boards,radios,edge}/*.yaml`, sorted by kind then name (files are not validated)."""
    base = Path(root) if root is not None else profiles_root()
    out = []
    for k in KINDS:
        if kind is not None and k != kind:
            continue
        folder = base / _DIRS[k]
        if folder.is_dir():
            out.extend(ProfileInfo(k, p.stem, p) for p in sorted(folder.glob("*.yaml"), key=_natural))
    return out


def resolve(spec: str | Path, kind: str | None = None) -> Path:
    """The file a spec names: a path as given, or `<root>/<kind dir>/<name>.yaml` for a profile name."""
    spec_s = str(spec)
    if isinstance(spec, Path) or _looks_like_path(spec_s):
        return Path(spec_s)
    matches = [i for i in list_profiles(kind=kind) if i.name == spec_s]
    if len(matches) == 1:
        return matches[0].path
    what = f"{kind} profile" if kind else "profile"
    if not matches:
        known = ", ".join(i.name for i in list_profiles(kind=kind)) or "none"
        hint = did_you_mean(spec_s, [i.name for i in list_profiles(kind=kind)])
        raise ProfileError(f"unknown {what} {spec_s!r}{hint} (known: {known}; or give a path to a YAML file)")
    kinds = ", ".join(i.kind for i in matches)
    raise ProfileError(f"profile name {spec_s!r} is ambiguous ({kinds}); say which kind")


# -- loading -------------------------------------------------------------------------------------------
_CACHE: dict[tuple[str, str, int], Any] = {}


def load_board(spec: str | Path) -> BoardProfile:
    """A board profile by name (hw_profiles/boards/NAME.yaml) or path; cached."""
    return load_profile(spec, "board")


def load_radio(spec: str | Path) -> RadioProfile:
    """A radio profile by name (hw_profiles/radios/NAME.yaml) or path; cached."""
    return load_profile(spec, "radio")


def load_edge(spec: str | Path) -> EdgeProfile:
    """An edge server profile by name (hw_profiles/edge/NAME.yaml) or path; cached."""
    return load_profile(spec, "edge")


def load_battery(spec: str | Path) -> BatteryProfile:
    """A battery profile by name (hw_profiles/batteries/NAME.yaml) or path; cached."""
    return load_profile(spec, "battery")


def load_profile(spec: str | Path, kind: str | None = None
                 ) -> BoardProfile | RadioProfile | EdgeProfile | BatteryProfile:
    """Any profile by name or path; `kind` (if given) must match the file's `kind`. Cached per file version."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    path = resolve(spec, kind)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ProfileError(f"{_display(path)}: file not found") from None
    except OSError as exc:
        raise ProfileError(f"{_display(path)}: cannot read ({exc.strerror})") from None
    key = (kind or "", str(path.resolve()), stat.st_mtime_ns)
    if key not in _CACHE:
        _CACHE[key] = _parse(path, kind)
    return _CACHE[key]


def _parse(path: Path, want: str | None) -> BoardProfile | RadioProfile | EdgeProfile:
    shown = _display(path)
    try:
        data, lines = load_yaml(path)
    except CosimError as exc:
        raise ProfileError(str(exc).replace(str(path), shown, 1)) from None

    def fail(loc: tuple, msg: str) -> ProfileError:
        # The line of the field itself, else of its parent mapping (a missing sub-field); none for a missing top field.
        line = lines.get(loc) or (line_for(lines, loc[:-1]) if len(loc) > 1 else None)
        where = f"{shown}:{line}" if line else shown
        if loc:
            return ProfileError(f"{where}: field {'.'.join(map(str, loc))!r}: {msg}")
        return ProfileError(f"{where}: {msg}")

    if not isinstance(data, dict):
        raise fail((), "expected a mapping of profile fields (kind, name, description, ...)")
    kind = data.get("kind")
    if kind not in KINDS:
        raise fail(("kind",), f"must be one of {', '.join(KINDS)}, got {kind!r}")
    if want is not None and kind != want:
        raise fail(("kind",), f"this is a {kind} profile, expected a {want} profile")
    num_fields = dict(_NUM_FIELDS[kind])
    protocol_keys: set[str] = set()
    if kind == "radio" and data.get("phy") not in PHYS:
        raise fail(("phy",), f"must be one of {', '.join(PHYS)}, got {data.get('phy')!r}")
    if kind == "radio":
        protocol = _protocol_specs(data["phy"])
        protocol_keys = set(protocol)
        num_fields.update(protocol)
    text_fields = ("name", "description") + _TEXT_FIELDS[kind]
    lora = kind == "radio" and data.get("phy") == "lora"
    optional = set(_LORA_FIELDS) if kind == "radio" and not lora else set()
    for key in data:
        if key != "kind" and key not in text_fields and key not in num_fields:
            raise fail((key,), "unknown field" + did_you_mean(key, (*text_fields, *num_fields)))
    for key in text_fields + tuple(num_fields):
        if key not in data and key not in optional:
            raise fail((key,), "missing field")

    values: dict[str, Any] = {}
    for key in text_fields:
        v = data[key]
        if not isinstance(v, str) or not v.strip():
            raise fail((key,), f"must be a non-empty string, got {v!r}")
        values[key] = v.strip()
    if kind == "radio":
        if values["phy"] not in PHYS:
            raise fail(("phy",), f"must be one of {', '.join(PHYS)}, got {values['phy']!r}")
        if values["modulation"] not in MODULATIONS:
            raise fail(("modulation",), f"must be one of {', '.join(MODULATIONS)}, got {values['modulation']!r}")

    sources: dict[str, Sourced] = {}
    for key, spec in num_fields.items():
        if key not in data:
            continue
        raw = data[key]
        if raw is None and key in optional:
            continue
        if not isinstance(raw, dict):
            raise fail((key,), f"expected {{value: NUMBER, source: TEXT, estimate: BOOL, note: TEXT}}, got {raw!r}")
        for sub in raw:
            if sub not in _SOURCED_KEYS:
                raise fail((key, sub), f"unknown field{did_you_mean(sub, _SOURCED_KEYS)} (allowed: "
                           f"{', '.join(_SOURCED_KEYS)})")
        for sub in ("value", "source"):
            if sub not in raw:
                raise fail((key, sub), "missing field")
        problem = spec.problem(raw["value"])
        if problem:
            raise fail((key, "value"), problem)
        if not isinstance(raw["source"], str) or not raw["source"].strip():
            raise fail((key, "source"), "must be a non-empty string naming where the number comes from")
        estimate = raw.get("estimate", False)
        if not isinstance(estimate, bool):
            raise fail((key, "estimate"), f"must be true or false, got {estimate!r}")
        note = raw.get("note", "")
        if not isinstance(note, str):
            raise fail((key, "note"), f"must be a string, got {note!r}")
        value = int(raw["value"]) if spec.integer else float(raw["value"])
        values[key] = value
        sources[key] = Sourced(value, raw["source"].strip(), estimate, note.strip())

    if kind == "board" and values["clock_mhz"] > values["max_clock_mhz"]:
        raise fail(("clock_mhz",), f"{values['clock_mhz']:g} MHz exceeds max_clock_mhz {values['max_clock_mhz']:g}")
    if kind == "battery" and values["cutoff_v"] >= values["nominal_v"]:
        raise fail(("cutoff_v",), f"{values['cutoff_v']:g} V must be below nominal_v {values['nominal_v']:g} V")
    if protocol_keys:
        values["protocol"] = MappingProxyType({k: values.pop(k) for k in sorted(protocol_keys)})
    if kind == "edge" and values["active_power_w"] < values["idle_power_w"]:
        raise fail(("active_power_w",), "must be >= idle_power_w")
    if kind == "radio":
        if lora and values["modulation"] != "lora":
            raise fail(("modulation",), "must be 'lora' when phy is 'lora'")
        if not lora:
            for key in _LORA_FIELDS:
                if values.get(key) is not None:
                    raise fail((key,), "only allowed when phy is 'lora'")
    cls = _CLASSES[kind]
    return cls(**values, sources=MappingProxyType(sources), path=path)


def clear_cache() -> None:
    """Forget every loaded profile (tests; files are also re-read when their mtime changes)."""
    _CACHE.clear()
