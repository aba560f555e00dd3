"""`cosim hw list|show`: the hardware profiles (boards, radios, edge servers) with values, units, sources."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "hw"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `cosim hw list` and `cosim hw show`."""
    p = subparsers.add_parser(NAME, help="list and show hardware profiles (boards, radios, edge servers)")
    sub = p.add_subparsers(dest="hw_command", metavar="ACTION")
    pl = sub.add_parser("list", help="table of profiles with their key figures")
    pl.add_argument("paths", nargs="*", metavar="PATH",
                    help="profile YAML files or profile roots (with boards/, radios/, edge/); default: shipped")
    pl.set_defaults(func=_list)
    ps = sub.add_parser("show", help="every value of one profile with its unit and source")
    ps.add_argument("spec", metavar="NAME|PATH", help="profile name (e.g. stm32l476, ble-1m, rpi5) or YAML path")
    ps.add_argument("--kind", choices=("board", "radio", "edge", "battery"), help="kind, if NAME is ambiguous")
    ps.set_defaults(func=_show)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _profiles(paths: list[str]) -> list:
    from cosim.config.profiles import list_profiles, load_profile
    from cosim.errors import ProfileError

    if not paths:
        from cosim.config.profiles import profiles_root

        infos = list_profiles()
        if not infos:  # a broken install or a wrong $COSIM_HW_PROFILES: say so, never an empty table
            raise ProfileError(f"{profiles_root()}: no hardware profiles found (expected boards/, radios/, edge/ "
                               "with *.yaml; check the installation or $COSIM_HW_PROFILES)")
        return [load_profile(i.path, i.kind) for i in infos]
    out = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            infos = list_profiles(path)
            if not infos:
                raise ProfileError(f"{text}: no profiles found (expected boards/, radios/ or edge/ with *.yaml)")
            out.extend(load_profile(i.path, i.kind) for i in infos)
        else:
            out.append(load_profile(path))
    return out


def _kind(profile) -> str:
    from cosim.config.profiles import BatteryProfile, BoardProfile, RadioProfile

    for cls, kind in ((BoardProfile, "board"), (RadioProfile, "radio"), (BatteryProfile, "battery")):
        if isinstance(profile, cls):
            return kind
    return "edge"


def _figures(profile) -> str:
    kind = _kind(profile)
    if kind == "board":
        return (f"{profile.core}, {profile.clock_mhz:g} MHz, {profile.sram_kb} KiB SRAM, {profile.flash_kb} KiB flash, "
                f"run {profile.run_current_ma:g} mA (core {profile.core_current_ma:g}), stop {profile.sleep_current_ua:g} µA, "
                f"{profile.cycles_per_mac_conv:g}/{profile.cycles_per_mac_fc:g} cycles/MAC conv/fc")
    if kind == "radio":
        return (f"{profile.phy} {profile.modulation}, {_rate(profile.bitrate_bps)}, "
                f"{profile.max_payload_bytes} B/frame ({profile.airtime_s(profile.max_payload_bytes) * 1e3:.4g} ms), "
                f"TX {profile.tx_current_ma:g} mA @ {profile.tx_power_dbm:g} dBm, RX {profile.rx_current_ma:g} mA, "
                f"duty {profile.duty_cycle:g}")
    if kind == "battery":
        return (f"{profile.chemistry}, {profile.capacity_mah:g} mAh at {profile.nominal_v:g} V (cut-off "
                f"{profile.cutoff_v:g} V), self-discharge {profile.self_discharge_per_year:.0%}/year, "
                f"shelf {profile.shelf_life_years:g} years, pulse derating {profile.pulse_derating:g}")
    return (f"t(b) = {profile.batch_t0_ms:g} + b·{profile.batch_t1_ms:g} ms at {profile.reference_macs / 1e9:.3g} GMAC/sample, "
            f"{profile.idle_power_w:g}-{profile.active_power_w:g} W")


def _number(value: float) -> str:
    """A profile value as written: whole numbers in full, others to 6 significant digits."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _rate(bps: float) -> str:
    if bps >= 1e6:
        return f"{bps / 1e6:g} Mbit/s"
    if bps >= 1e3:
        return f"{bps / 1e3:.4g} kbit/s"
    return f"{bps:.4g} bit/s"


def _list(args: argparse.Namespace) -> int:
    profiles = _profiles(args.paths)
    rows = [("kind", "name", "key figures")] + [(_kind(p), p.name, _figures(p)) for p in profiles]
    w0, w1 = (max(len(r[i]) for r in rows) for i in (0, 1))
    lines = [f"{kind:<{w0}}  {name:<{w1}}  {figures}" for kind, name, figures in rows]
    lines.insert(1, f"{'-' * w0}  {'-' * w1}  {'-' * 11}")
    print("\n".join(lines))
    return 0


def _show(args: argparse.Namespace) -> int:
    from cosim.config.profiles import load_profile, unit_of

    profile = load_profile(args.spec, args.kind)
    kind = _kind(profile)
    print(f"{profile.name} ({kind}): {profile.description}")
    print(f"file: {profile.path}")
    for text_field in ("core", "phy", "modulation", "chemistry"):
        if hasattr(profile, text_field):
            print(f"{text_field}: {getattr(profile, text_field)}")
    if kind == "board":
        print(f"calibration: {profile.calibration}")
        run = profile.sources["run_current_ma"]
        print(f"  run_current_ma {_number(run.value)} mA (board-level, used) vs core_current_ma "
              f"{_number(profile.core_current_ma)} mA (datasheet core-only): source: {run.source}")
    width = max(len(k) for k in profile.sources)
    for key, src in profile.sources.items():
        unit = unit_of(kind, key, getattr(profile, "phy", None))
        flag = "  [estimate]" if src.estimate else ""
        print(f"{key:<{width}}  {_number(src.value)} {unit}{flag}".rstrip())
        print(f"{'':<{width}}    source: {src.source}")
        if src.note:
            print(f"{'':<{width}}    note: {src.note}")
    return 0
