"""The engine with `task: detection`: per-inference matched boxes, exact mAP in the summary, strategies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cosim.codec.checkpoint import load_codec
from cosim.data import load_dataset
from cosim.detection.evaluate import tally_of
from cosim.errors import ScenarioError
from cosim.config.scenario import validate_scenario
from cosim.strategies.evaluator import dequantise_ber, quantise_ber
from cosim.engine.run import run_scenario
from cosim.results.records import read_columns

torch.set_num_threads(1)
CODEC = "builtin:shapes-det"


def scenario(groups: list[dict], channel: dict | None = None, **over) -> dict:
    data = {"name": "det", "seed": 4, "duration_s": 20.0, "dataset": "shapes", "task": "detection",
            "codec": CODEC, "deadline_ms": 10_000, "devices": groups,
            "edge": [{"name": "e", "profile": "jetson-orin-nano", "max_batch": 64, "max_wait_ms": 1,
                      "channel": channel or {"kind": "constant", "ber": 0.0}}]}
    data.update(over)
    return data


def group(name: str, strategy: str = "semanticnn", count: int = 10, **extra) -> dict:
    g = {"name": name, "count": count, "board": "stm32h743", "radio": "ble-2m", "strategy": strategy,
         "workload": {"kind": "poisson", "rate_hz": 2.0}}
    g.update(extra)
    return g


def run(data: dict, tmp_path, name: str = "out"):
    res = run_scenario(validate_scenario(data, "test"), tmp_path / name)
    return res.summary, read_columns(tmp_path / name / "packets.parquet")


def test_summary_map_equals_an_offline_tally_of_the_same_inferences(tmp_path):
    summary, c = run(scenario([group("cams")]), tmp_path)
    data = load_dataset("shapes")
    codec = load_codec(CODEC)
    assert summary["inferences"] > 300 and (c["lost"] == 0).all()
    # record label = ground-truth boxes of the sample; pred = boxes found (<= label)
    boxes = data.boxes_test
    assert c["label"].tolist() == [len(boxes[s]) for s in c["sample"]]
    assert (c["pred"] >= 0).all() and (c["pred"] <= c["label"]).all()
    # the same samples decoded offline with the same (quantised) BER estimate give the same mAP, exactly
    samples = c["sample"].astype(np.int64)
    ber = dequantise_ber(np.array([quantise_ber(b) for b in c["ber_est"]]))
    dets = codec.decode_classify(codec.encode(data.x_test[samples]), ber)
    offline = tally_of(dets, [boxes[s] for s in samples], codec.meta.num_classes)
    assert summary["delivered_map50"] == pytest.approx(offline.map50(), abs=1e-12)
    assert summary["delivered_map50_95"] == pytest.approx(offline.map50_95(), abs=1e-12)
    # everything on time and delivered: the fleet's mAP is the delivered one
    assert summary["map50"] == pytest.approx(summary["delivered_map50"], abs=1e-12)
    assert summary["map50"] > 0.6
    g = summary["groups"]["cams"]
    assert g["map50"] == summary["map50"] and g["gt_boxes"] == int(c["label"].sum())
    assert summary["box_recall50"] == pytest.approx(c["pred"].sum() / c["label"].sum())


def test_lost_and_late_inferences_count_as_missed_objects(tmp_path):
    # a header-killing channel loses many inferences; a deadline shorter than some latencies makes late ones
    data = scenario([group("cams")], channel={"kind": "constant", "ber": 2e-3}, deadline_ms=25)
    summary, c = run(data, tmp_path)
    lost = c["lost"] != 0
    assert lost.any()
    assert summary["map50"] < summary["delivered_map50"]
    assert summary["gt_boxes"] == int(c["label"].sum())


def test_every_strategy_works_or_is_refused_in_one_line(tmp_path):
    groups = [group("sem"), group("int8", "split-int8"), group("raw", "raw"), group("loc", "local")]
    summary, c = run(scenario(groups, duration_s=10.0), tmp_path)
    for name in ("sem", "int8", "raw", "loc"):
        assert summary["groups"][name]["map50"] > 0.6
    bits = {name: c["bits_on_air"][c["group"] == i].min() for i, name in enumerate(("sem", "int8", "raw", "loc"))}
    assert bits["loc"] < bits["sem"] < bits["raw"] < bits["int8"]  # 61-byte detections < symbols < pixels
    with pytest.raises(ScenarioError, match="strategy: 'adaptive' does not support task detection"):
        run(scenario([group("ad", "adaptive", strategy_options={"accuracy_target": 0.5})]), tmp_path, "ad")


def test_task_and_codec_must_agree(tmp_path):
    with pytest.raises(ScenarioError, match="codec 'builtin:shapes' is a classification codec, but the scenario's task is detection"):
        run(scenario([group("cams")], codec="builtin:shapes"), tmp_path)
    with pytest.raises(ScenarioError, match="dataset: data set 'digits' has no boxes"):
        run(scenario([group("cams")], dataset="digits"), tmp_path)
    with pytest.raises(ScenarioError, match="is a detection codec"):
        run(scenario([group("cams")], task="classification"), tmp_path)
