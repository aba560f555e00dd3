"""on_frame_loss end to end: `erase` turns the frames a payload lost into erased symbols at the decoder.

Digits payloads (128 symbols of 3 bits, 384 bits) on a BLE-like radio whose frames carry 20 bytes:
frames of 160, 160 and 64 bits. Frame 0 erases symbols 0-53 (symbol 53 = bits 159-161 straddles frames
0/1), frame 1 symbols 53-106 (106 = bits 318-320), frame 2 symbols 106-127: 54, 54, 22 symbols; two
frames 0+1: 107, 1+2: 75, 0+2: 76. At constant BER p every frame is lost (header hit, 128 header+CRC
bits) independently with q = 1-(1-p)^128: `drop` delivers (1-q)^3, `erase` 1-q^3.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import torch
from test_world_theory import scenario, within

from cosim.config.scenario import validate_scenario
from cosim.engine.world import World
from cosim.errors import ScenarioError
from cosim.report.warnings import run_warnings

torch.set_num_threads(1)

FRAME_BYTES = 20
ALLOWED = {0: {0}, 1: {54, 22}, 2: {107, 75, 76}}  # erased symbols by the number of frames lost


@pytest.fixture(scope="module")
def erasure_codec(tmp_path_factory) -> str:
    """A tiny digits codec trained with erasures (about 6 s on one thread)."""
    from cosim.codec.checkpoint import save_checkpoint
    from cosim.codec.train import TrainConfig, config_dict, train_codec

    cfg = TrainConfig(dataset="digits", pretrain_epochs=4, epochs=2, max_train_samples=400, augment=False,
                      decoder_width=8, xai=False, seed=1, erasure_frames=3)
    path = tmp_path_factory.mktemp("codec") / "digits-erasing.pt"
    save_checkpoint(path, train_codec(cfg).model, config_dict(cfg))
    return str(path)


@pytest.fixture(scope="module")
def small_radio(tmp_path_factory) -> str:
    """ble-1m with 20-byte frames (three frames per digits payload)."""
    from cosim.config.profiles import resolve

    text = resolve("ble-1m", "radio").read_text()
    text = re.sub(r"^name: ble-1m$", "name: ble-small", text, flags=re.MULTILINE)
    text = re.sub(r"(max_payload_bytes:\n  value: )244", rf"\g<1>{FRAME_BYTES}", text)
    path = tmp_path_factory.mktemp("radio") / "ble-small.yaml"
    path.write_text(text)
    return str(path)


def _lossy(codec: str, radio: str, policy: str, p: float, **group) -> dict:
    data = scenario(duration_s=40.0, codec=codec)
    data["devices"][0].update(count=40, radio=radio, on_frame_loss=policy, **group)
    data["edge"][0]["channel"] = {"kind": "constant", "ber": p}
    return data


def _by_sensing(c: dict) -> dict:
    """Columns in (device, sensing time) order; the erasure counts as ints with -1 for null."""
    order = np.lexsort((c["t_sense_s"], c["device"]))
    return {k: np.nan_to_num(v[order], nan=-1).astype(np.int64) if k.startswith("erased_") else v[order]
            for k, v in c.items()}


def test_erase_delivers_what_drop_loses_and_counts_the_erased_symbols(tmp_path, simulate, erasure_codec,
                                                                     small_radio):
    from cosim.config.profiles import load_radio
    from cosim.net.frames import fragment

    plan = fragment(384, load_radio(small_radio))
    assert plan.payload_bits == (160, 160, 64) and plan.header_bits == 128
    p = 2.8e-3
    q = 1 - (1 - p) ** plan.header_bits
    s_drop, drop = simulate(_lossy(erasure_codec, small_radio, "drop", p), tmp_path, "drop")
    s_erase, erase = simulate(_lossy(erasure_codec, small_radio, "erase", p), tmp_path, "erase")
    n = len(drop["lost"])
    assert n == len(erase["lost"]) > 1500
    # records come in end order (a lost inference ends at its arrival): align them by device and sensing
    drop, erase = (_by_sensing(c) for c in (drop, erase))
    # the same devices, samples and bit errors (no ARQ: every frame is sent once under both policies)
    assert (drop["sample"] == erase["sample"]).all() and (drop["tx_attempts"] == erase["tx_attempts"]).all()
    assert within(float((drop["lost"] == 0).mean()), (1 - q) ** 3, n)
    assert within(float((erase["lost"] == 0).mean()), 1 - q ** 3, n)
    assert s_erase["delivery_ratio"] > s_drop["delivery_ratio"] + 0.4
    assert s_erase["accuracy"] > s_drop["accuracy"]
    # drop: the columns are null; erase: a count for every decoded inference
    assert (drop["erased_frames"] == -1).all() and (drop["erased_symbols"] == -1).all()
    ok = erase["lost"] == 0
    ef, es = erase["erased_frames"][ok], erase["erased_symbols"][ok]
    assert (ef >= 0).all() and (erase["erased_frames"][~ok] == -1).all()
    assert (ef + erase["frames"][ok] == 3).all()  # every frame was received or erased
    assert all(int(s) in ALLOWED[int(f)] for f, s in zip(ef, es))  # the hand-worked symbol sets
    for k in (0, 1, 2):  # erased frames ~ Binomial(3, q) given fewer than 3 lost
        expect = math.comb(3, k) * q ** k * (1 - q) ** (3 - k) / (1 - q ** 3)
        assert within(float((ef == k).mean()), expect, int(ok.sum())), k
    # an inference drop delivered is the one erase delivered without erasures, with the same prediction
    whole = drop["lost"] == 0
    assert (whole == (ok & (erase["erased_frames"] == 0))).all()
    assert (drop["pred"][whole] == erase["pred"][whole]).all()
    # erase's losses are the inferences whose three frames were all lost (a header error each)
    assert (erase["lost"][~ok] == 1).all() and (erase["frames"][~ok] == 0).all()
    manifest = json.loads((tmp_path / "erase" / "manifest.json").read_text())
    assert manifest["erasure_codecs"] == {"g": {erasure_codec: True}}  # trained: no warning
    assert not [w for w in run_warnings(s_erase, manifest) if "erasures" in w]
    assert "erasure_codecs" not in json.loads((tmp_path / "drop" / "manifest.json").read_text())


def test_erase_on_a_shared_medium_with_arq(tmp_path, simulate, erasure_codec, small_radio):
    """ALOHA with ARQ at a heavy load: a frame ARQ gives up on is erased and the sender goes on."""
    data = _lossy(erasure_codec, small_radio, "erase", 1e-3, strategy_options={"arq": True, "max_retries": 1})
    data["devices"][0].update(count=60, workload={"kind": "poisson", "rate_hz": 40.0})
    data["duration_s"] = 3.0
    data["edge"][0]["medium"] = {"kind": "aloha"}
    summary, c = simulate(data, tmp_path)
    c = _by_sensing(c)
    ok = c["lost"] == 0
    assert summary["inferences"] > 3000 and ok.any()
    erased = c["erased_frames"][ok]
    assert (erased > 0).any() and (erased + c["frames"][ok] == 3).all()
    assert all(int(s) in ALLOWED[int(f)] for f, s in zip(erased, c["erased_symbols"][ok]))
    lost_on_air = (c["lost"] != 0) & (c["lost"] != 3)  # not the queue's
    assert lost_on_air.any() and (c["frames"][lost_on_air] == 0).all()  # only if every frame was lost
    assert set(np.unique(c["lost"][lost_on_air]).tolist()) <= {2, 4}  # collision, retries


def test_an_untrained_codec_erases_with_a_warning(tmp_path, simulate, small_radio):
    summary, c = simulate(_lossy("builtin:digits", small_radio, "erase", 2.8e-3), tmp_path)
    c = _by_sensing(c)
    assert (c["erased_frames"][c["lost"] == 0] > 0).any()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["erasure_codecs"] == {"g": {"builtin:digits": False}}
    warns = [w for w in run_warnings(summary, manifest) if "erasures" in w]
    assert len(warns) == 1 and "builtin:digits" in warns[0] and "not trained for erasures" in warns[0]


@pytest.mark.parametrize("group", [{"strategy": "raw"}, {"strategy": "raw", "strategy_options": {"jpeg_quality": 50}},
                                   {"strategy": "split-int8"}, {"strategy": "local"}])
def test_a_strategy_that_cannot_erase_refuses_it(tmp_path, group):
    data = scenario(duration_s=1.0)
    data["devices"][0].update(count=1, on_frame_loss="erase", **group)
    with pytest.raises(ScenarioError, match=r"^devices\.0\.on_frame_loss: strategy '[a-z0-9-]+' cannot decode"):
        World(validate_scenario(data, "test"), tmp_path)


def test_the_cli_refuses_it_in_one_line_with_exit_2(tmp_path, capsys):
    import yaml

    from cosim.cli import main

    data = scenario(duration_s=1.0)
    data["devices"][0].update(count=1, strategy="split-int8", on_frame_loss="erase")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["run", str(path), "-q", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "on_frame_loss" in err and "Traceback" not in err
    bad = dict(data)
    bad["devices"] = [dict(data["devices"][0], strategy="semanticnn", on_frame_loss="keep")]
    path.write_text(yaml.safe_dump(bad))
    assert main(["validate", str(path)]) == 2
    assert "on_frame_loss" in capsys.readouterr().err


def test_every_variant_must_erase_and_each_codec_is_reported():
    """Adaptive's variants are SemanticNN setups: all can erase; one that cannot refuses the group."""
    from types import SimpleNamespace

    from cosim.engine.world import frame_loss_policy
    from cosim.strategies.base import ErasureSupport

    def setup(*support):
        return SimpleNamespace(all_variants=lambda: tuple(SimpleNamespace(erasure=e) for e in support))

    group = SimpleNamespace(on_frame_loss="erase", strategy="adaptive")
    both = setup(ErasureSupport("a", True), ErasureSupport("b", False))
    assert frame_loss_policy(group, both, "devices.0") == {"a": True, "b": False}
    assert frame_loss_policy(SimpleNamespace(on_frame_loss="drop"), both, "devices.0") is None
    with pytest.raises(ScenarioError, match=r"devices\.0\.on_frame_loss"):
        frame_loss_policy(group, setup(ErasureSupport("a", True), None), "devices.0")
