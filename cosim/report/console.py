"""The console summary table printed at the end of `cosim run`."""

from __future__ import annotations

from cosim.results.summary import Metrics, RunSummary


def _fmt(value, spec: str = ".3g") -> str:
    return "-" if value is None else format(value, spec)


def summary_rows(summary: RunSummary) -> list[list[str]]:
    """One row per group plus the total: the figures a user checks first (detection: mAP@0.5). A
    `compare:` run: the rows of each variant (`variant/group`, and `variant` for its total)."""
    if summary.variants:
        rows = []
        for vname, vs in summary.variants.items():
            for row in summary_rows(vs)[-1 if len(vs.groups) == 1 else 0:]:
                row[0] = vname if row[0] == "ALL" else f"{vname}/{row[0]}"
                rows.append(row)
        return rows
    detection = summary.primary_metric == "map50"

    def headline(m: Metrics) -> tuple[float | None, float | None]:
        if detection:
            return m.task.get("map50"), m.task.get("delivered_map50")
        return m.accuracy, m.delivered_accuracy

    rows = []
    for name, m in [*summary.groups.items(), ("ALL", summary.overall)]:
        first, second = headline(m)
        rows.append([
            name, str(m.inferences), _fmt(first, ".3f"), _fmt(second, ".3f"),
            _fmt(m.latency_ms.p50), _fmt(m.latency_ms.p95), _fmt(m.deadline_miss_ratio, ".3f"),
            _fmt(m.device_energy_mj_per_inference), _fmt(m.bits_on_air_per_inference, ".0f"),
            _fmt(m.battery_life_days, ".1f"),
        ])
    return rows


HEADER = ["group", "inferences", "accuracy", "deliv.acc", "p50 ms", "p95 ms", "miss", "mJ/inf",
          "bits/inf", "battery d"]


def print_summary(summary: RunSummary | dict) -> None:
    """Print the table with aligned columns (latencies are of delivered inferences)."""
    if isinstance(summary, dict):
        summary = RunSummary.from_dict(summary)
    first = next(iter(summary.variants.values()), summary)
    header = HEADER if first.primary_metric != "map50" else ["group", "inferences", "mAP@.5", "deliv.mAP",
                                                              *HEADER[4:]]
    if summary.variants:
        header = ["variant/group", *header[1:]]
    rows = [header, *summary_rows(summary)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    for k, row in enumerate(rows):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    util = ", ".join(f"{k} {v:.1%}" for k, v in summary.edge_utilization.items())
    if summary.variants:
        util = "; ".join(f"{name}: " + ", ".join(f"{k} {v:.1%}" for k, v in vs.edge_utilization.items())
                         for name, vs in summary.variants.items())
    overall = summary.overall
    print(f"delivered {_fmt(overall.delivery_ratio, '.1%')} (latencies of delivered only; lost "
          f"{_fmt(overall.lost_ratio, '.1%')}, late {_fmt(overall.late_ratio, '.1%')})")
    print(f"edge utilisation: {util}; simulated {summary.sim_time_s:.1f} s in "
          f"{summary.wall_time_s or 0.0:.1f} s wall, {summary.events} events")
