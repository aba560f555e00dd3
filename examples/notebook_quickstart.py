"""A notebook-style tour of the Python API: run a scenario, load it back, analyse and plot with pandas.

Run it as a script (`python examples/notebook_quickstart.py [OUTDIR] [DURATION_S]`) or cell by cell
(`# %%` markers) in Jupyter / VS Code. Writes OUTDIR (default out/api-quickstart) and a figure beside it.
"""

# %% Run the quickstart scenario, shortened and with fewer devices
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import cosim

ROOT = Path(__file__).resolve().parents[1]
outdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/api-quickstart")
duration_s = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
run = cosim.run(ROOT / "scenarios" / "quickstart.yaml",
                overrides={"duration_s": duration_s, "devices.0.count": 50}, outdir=outdir)
s = run.summary
print(f"accuracy {s.accuracy:.3f} (95 % CI {s.wilson95['accuracy'].low:.3f}-{s.wilson95['accuracy'].high:.3f}), "
      f"delivered {s.delivery_ratio:.1%}, p95 latency of delivered {s.latency_ms.p95:.1f} ms, "
      f"{s.device_energy_mj_per_correct_inference:.3f} mJ per correct inference")

# %% Load the finished run again (as a later notebook session would) and analyse its records
again = cosim.load_run(outdir)
packets = again.packets  # pandas DataFrame: categoricals, nullable ints, NaN where not applicable
print(packets["lost"].value_counts())
per_device = packets.groupby("device")["correct"].mean()
print(f"per-device accuracy: min {per_device.min():.2f}, median {per_device.median():.2f}; "
      f"Jain fairness {again.summary.jain_fairness_accuracy:.3f}")

# %% Plot latency of delivered inferences against distance to the gateway
delivered = packets.dropna(subset=["latency_s"])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.hist(delivered["latency_s"] * 1000.0, bins=40)
ax1.set_xlabel("latency of delivered inferences (ms)")
ax1.set_ylabel("inferences")
by_distance = packets.groupby(packets["distance_m"].round(0))["correct"].mean()
ax2.plot(by_distance.index, by_distance.values, marker="o")
ax2.set_xlabel("distance to gateway (m)")
ax2.set_ylabel("accuracy")
fig.tight_layout()
figure = outdir.with_name(f"{outdir.name}-latency.png")  # beside the run folder, which cosim owns
fig.savefig(figure, dpi=100)
print(f"figure in {figure}")
