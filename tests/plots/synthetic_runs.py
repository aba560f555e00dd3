"""Synthetic run folders for the figure and report tests: packets.parquet in the old form (-1 sentinels,
integer codes) or the tidy one (nulls, dictionary-encoded names, latency_s, positions, variants, extra
energy phases), with a summary.json and manifest.json whose numbers agree with the records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DEADLINE_S = 0.2
DURATION_S = 60.0


def write_run(folder: Path, groups: int = 3, devices_per_group: int = 12, per_device: int = 20,
              tidy: bool = True, variants: tuple[str, ...] = (), detection: bool = False,
              positions: bool = True, seed: int = 0, prefix: str = "group") -> Path:
    """A run folder with consistent packets, summary and manifest; returns the folder."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"{prefix}-{i:02d}" for i in range(groups)]
    vnames = list(variants) or [None]
    rows: dict[str, list] = {k: [] for k in (
        "device", "group", "variant", "sample", "label", "pred", "lost", "t_sense_s", "t_done_s", "ber",
        "tx_attempts", "sense_mj", "compute_mj", "tx_mj", "rx_mj", "wake_mj", "x_m", "y_m", "distance_m")}
    dev = 0
    for vi, vname in enumerate(vnames):
        for gi in range(groups):
            for _ in range(devices_per_group):
                x, y = rng.uniform(-100, 100, 2)
                dist = float(np.hypot(x, y))
                p_loss = min(0.9, dist / 200 + 0.05 * vi)
                for k in range(per_device):
                    t = k * DURATION_S / per_device + rng.uniform(0, 0.5)
                    bad = (t // 10) % 3 == 2  # a Gilbert-Elliott bad spell every third 10 s
                    lost = rng.random() < (p_loss if not bad else min(0.95, p_loss + 0.3))
                    lat = rng.lognormal(np.log(0.05 + 0.02 * gi), 0.6)
                    label = int(rng.integers(1, 4)) if detection else int(rng.integers(0, 10))
                    if detection:
                        pred = int(rng.integers(0, label + 1))
                    else:
                        pred = label if rng.random() < 0.9 else (label + 1) % 10
                    rows["device"].append(dev)
                    rows["group"].append(gi)
                    rows["variant"].append(vname)
                    rows["sample"].append(k)
                    rows["label"].append(label)
                    rows["pred"].append(None if lost else pred)
                    rows["lost"].append(1 if lost else 0)
                    rows["t_sense_s"].append(t)
                    rows["t_done_s"].append(None if lost else t + lat)
                    rows["ber"].append(1e-2 if bad else 1e-5)
                    rows["tx_attempts"].append(int(rng.integers(1, 3)))
                    rows["sense_mj"].append(0.06)
                    rows["compute_mj"].append(0.013)
                    rows["tx_mj"].append(0.01 * (1 + gi % 3))
                    rows["rx_mj"].append(0.0)
                    rows["wake_mj"].append(0.004)
                    rows["x_m"].append(float(x))
                    rows["y_m"].append(float(y))
                    rows["distance_m"].append(dist)
                dev += 1
    n = len(rows["device"])
    lost = np.array(rows["lost"], dtype=bool)
    t_sense = np.array(rows["t_sense_s"])
    t_done = np.array([np.nan if v is None else v for v in rows["t_done_s"]])
    latency = t_done - t_sense
    on_time = ~lost & (latency <= DEADLINE_S)
    pred = np.array([-1 if v is None else v for v in rows["pred"]])
    label = np.array(rows["label"])
    correct = on_time & (pred == label)
    reasons = np.array(["header" if x else "delivered" for x in lost], dtype=object)
    if tidy:
        cols = {
            "device": pa.array(rows["device"], pa.int32()),
            "group": pa.array([names[g] for g in rows["group"]]).dictionary_encode(),
            "sample": pa.array(rows["sample"], pa.int32()),
            "label": pa.array(rows["label"], pa.int16()),
            "pred": pa.array(rows["pred"], pa.int16()),
            "lost": pa.array(list(reasons)).dictionary_encode(),
            "t_sense_s": pa.array(t_sense),
            "t_done_s": pa.array(rows["t_done_s"], pa.float64()),
            "latency_s": pa.array([None if np.isnan(v) else float(v) for v in latency], pa.float64()),
            "ber": pa.array(rows["ber"]),
            "tx_attempts": pa.array(rows["tx_attempts"], pa.int16()),
            **{c: pa.array(rows[c]) for c in ("sense_mj", "compute_mj", "tx_mj", "rx_mj", "wake_mj")},
            "correct": pa.array(correct),
        }
        if positions:
            cols.update({c: pa.array(rows[c]) for c in ("x_m", "y_m", "distance_m")})
        if variants:
            cols["variant"] = pa.array(rows["variant"]).dictionary_encode()
    else:
        cols = {
            "device": pa.array(rows["device"], pa.int32()), "group": pa.array(rows["group"], pa.int16()),
            "sample": pa.array(rows["sample"], pa.int32()), "label": pa.array(label, pa.int16()),
            "pred": pa.array(pred, pa.int16()), "lost": pa.array(lost.astype(np.int8)),
            "t_sense_s": pa.array(t_sense), "t_done_s": pa.array(np.nan_to_num(t_done, nan=-1.0)),
            "ber": pa.array(rows["ber"]), "tx_attempts": pa.array(rows["tx_attempts"], pa.int16()),
            **{c: pa.array(rows[c]) for c in ("sense_mj", "compute_mj", "tx_mj", "rx_mj")},
            "variant": pa.array(np.zeros(n, dtype=np.int8)), "correct": pa.array(correct),
        }
    pq.write_table(pa.table(cols), folder / "packets.parquet")
    group_of = np.array(rows["group"])

    def entry(m: np.ndarray) -> dict:
        k = int(m.sum())
        lat = latency[m & ~lost] * 1000
        out = {
            "devices": devices_per_group, "inferences": k, "delivered": int((m & ~lost).sum()),
            "lost": {"header": int((m & lost).sum()), "collision": 0},
            "accuracy": float(correct[m].sum() / k), "delivered_accuracy": 0.9,
            "latency_ms": {"mean": float(lat.mean()), "p50": float(np.percentile(lat, 50)),
                           "p95": float(np.percentile(lat, 95)), "p99": float(np.percentile(lat, 99))},
            "deadline_miss_ratio": float(1 - on_time[m].sum() / k),
            "device_energy_mj_per_inference": 0.1,
            "device_energy_mj_by_phase": {"sense": 0.06, "compute": 0.013, "tx": 0.02, "rx": 0.0,
                                          "sleep": 0.007},
            "device_avg_power_mw": 0.05, "battery_life_days": 2400.0, "bits_on_air_per_inference": 512.0,
            "frames_per_inference": 1.0, "mean_ber": 0.003,
        }
        if detection:
            out.update({"map50": 0.61, "delivered_map50": 0.7, "box_recall50": 0.5})
        return out

    summary = {"scenario": "synthetic", "seed": 1, **entry(np.ones(n, dtype=bool))}
    summary["groups"] = {name: entry(group_of == gi) for gi, name in enumerate(names)}
    if variants:  # as cosim.engine.run pools a compare: run: each variant's own summary with its groups
        variant_of = np.array(rows["variant"], dtype=object)
        summary["variants"] = {
            v: {**entry(variant_of == v), "device_energy_mj_per_inference": (0.2, 0.3, 0.4)[vi],
                "groups": {name: {**entry((variant_of == v) & (group_of == gi)),
                                  "device_energy_mj_per_inference": (0.2, 0.3, 0.4)[vi]}
                           for gi, name in enumerate(names)}}
            for vi, v in enumerate(variants)}
    summary.update({"edge_utilization": {"gw-a": 0.97, "gw-b": 0.2}, "edge_energy_j": {"gw-a": 10.0},
                    "collisions": {}, "sim_time_s": DURATION_S + 40.0, "events": 10, "wall_time_s": 1.0})
    (folder / "summary.json").write_text(json.dumps(summary))
    manifest = {
        "scenario": {
            "name": "synthetic", "seed": 1, "duration_s": DURATION_S, "dataset": "digits",
            "task": "detection" if detection else "classification", "codec": "builtin:digits",
            "deadline_ms": DEADLINE_S * 1000,
            "devices": [{"name": nm, "count": devices_per_group, "board": "stm32l476", "radio": "ble-1m",
                         "strategy": "semanticnn", "workload": {"kind": "periodic", "period_s": 3.0},
                         "placement": {"kind": "uniform", "min_m": 2, "max_m": 140}, "channel": None}
                        for nm in names],
            "edge": [{"name": "gw-a", "position_m": [0.0, 0.0], "profile": "rpi5", "workers": 1,
                      "medium": {"kind": "dedicated"},
                      "channel": {"kind": "gilbert-elliott", "ber_good": 1e-5, "ber_bad": 1e-2,
                                  "mean_good_s": 20.0, "mean_bad_s": 10.0}},
                     {"name": "gw-b", "position_m": [60.0, -40.0], "profile": "rpi5", "workers": 1,
                      "medium": {"kind": "dedicated"}, "channel": {"kind": "constant", "ber": 1e-5}}],
        },
        "seed": 1, "cosim_version": "test", "python": "3", "packages": {"numpy": np.__version__},
        "codecs": {"builtin:digits": {"sha256": "ab" * 32, "file_sha256": None}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder
