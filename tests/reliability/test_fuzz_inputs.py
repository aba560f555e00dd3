"""Bounded inputs, and property-based fuzzing beyond scenarios: hardware profiles, channel traces, sweep
files, data set files, checkpoint metadata, command-line options and output paths. Every case must end
with exit status 0 or 2 (one stderr line, no traceback, no hang); the hand-written cases are the ones the
issue reported (a radio header of 1e30 bytes, 1e8 overflowing int32, cycles-per-MAC 1e300, >32,767
groups, flipped checkpoint flags, a non-mapping `metrics`, a diverged training, ...).

Cases per kind in the default suite (derandomized): profiles 40, traces 40, sweep files 30, data set
files 30, checkpoint metadata 30, `cosim train` options 40, output paths 25.
"""

from __future__ import annotations

import gzip
import math
import shutil
import struct
from pathlib import Path

import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_fixtures import ROOT, cli

from cosim.codec.checkpoint import BUILTIN_DIR, load_codec
from cosim.errors import CheckpointError, CosimError, DataError, ProfileError

QUICKSTART = ROOT / "scenarios" / "quickstart-digits.yaml"
PROFILES = ROOT / "cosim" / "hw_profiles"
FUZZ = {"deadline": None, "database": None, "derandomize": True,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]}
NUMBERS = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([1e30, 1e8, 1e300, 2**31, 2**15, 0, -0.0, 1e-300, "1e9", None, True, [], {}]))


def _ok_or_one_line(o, *needles):
    assert "Traceback" not in o.err, o.err
    assert o.rc in (0, 2), (o.rc, o.err)
    if o.rc == 2:
        assert len(o.err_lines) == 1, o.err
        for n in needles:
            assert n in o.err, o.err
    return o


# -- hand-written cases of the issue --------------------------------------------------------------
@pytest.mark.parametrize("kind, name, field, value, expect", [
    ("radios", "ble-1m", "header_bytes", 1e30, "must be <= 1024"),
    ("radios", "ble-1m", "preamble_bytes", 1e8, "must be <= 1024"),
    ("boards", "stm32l476", "cycles_per_mac_conv", 1e300, "must be <= 10000"),
    ("edge", "rpi5", "batch_t1_ms", 1e300, "must be <="),
    ("radios", "ble-1m", "max_payload_bytes", 2**31, "must be <= 65535"),
])
def test_absurd_profile_numbers_refused_in_one_line(tmp_path, kind, name, field, value, expect):
    data = yaml.safe_load((PROFILES / kind / f"{name}.yaml").read_text())
    data[field]["value"] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    key = {"radios": "radio", "boards": "board", "edge": "profile"}[kind]
    where = "edge.0" if kind == "edge" else "devices.0"
    o = cli(["validate", str(QUICKSTART), "--set", f"{where}.{key}={path}"], timeout_s=60)
    assert o.rc == 2 and len(o.err_lines) == 1 and expect in o.err and field in o.err, o.err


def test_more_groups_than_the_int16_column_holds_refused():
    from pydantic import ValidationError

    from cosim.config.scenario import MAX_GROUPS, Scenario

    group = {"name": "g", "count": 1}
    data = {"duration_s": 1, "devices": [dict(group, name=f"g{i}") for i in range(MAX_GROUPS + 1)],
            "edge": [{"channel": {"kind": "constant", "ber": 0.0}}]}
    with pytest.raises(ValidationError, match="at most 32767"):
        Scenario.model_validate(data)
    assert MAX_GROUPS == 2**15 - 1


def _saved(tmp_path: Path, **changes) -> Path:
    raw = torch.load(BUILTIN_DIR / "digits.pt", weights_only=True)
    for key, value in changes.items():
        if key in ("gray", "ber_aware"):
            raw["config"] = dict(raw["config"], **{key: value})
        else:
            raw[key] = value
    path = tmp_path / "edited.pt"
    torch.save(raw, path)
    return path


@pytest.mark.parametrize("changes, expect", [
    ({"gray": True}, "settings do not match their SHA-256"),
    ({"ber_aware": False}, "settings do not match their SHA-256"),
    ({"metrics": [1, 2]}, "'metrics' must be a mapping"),
    ({"metrics": "accuracy 0.99"}, "'metrics' must be a mapping"),
    ({"train_config": {"x": object}}, None),  # torch refuses to save/load it or we refuse it
    ({"content_sha256": "0" * 64}, "settings do not match"),
])
def test_checkpoint_metadata_is_strict_and_hashed(tmp_path, changes, expect):
    try:
        path = _saved(tmp_path, **changes)
    except Exception:  # noqa: BLE001 - torch cannot even write it
        return
    with pytest.raises(CheckpointError) as err:
        load_codec(path)
    if expect:
        assert expect in str(err.value)


def test_builtins_carry_the_settings_hash():
    for p in BUILTIN_DIR.glob("*.pt"):
        assert "content_sha256" in torch.load(p, weights_only=True), p
        load_codec(f"builtin:{p.stem}")


def test_diverged_training_is_not_saved(tmp_path, monkeypatch):
    from cosim.codec import train
    from cosim.codec.model import CodecConfig, SplitModel

    def diverged(cfg, progress=None, backbone_state=None):
        model = SplitModel(CodecConfig(name="x", dataset="digits", backbone="small-cnn", image_shape=(1, 8, 8),
                                       num_classes=10))
        with torch.no_grad():
            next(model.parameters()).fill_(float("nan"))
        return type("R", (), {"model": model, "backbone_test_accuracy": float("nan")})()

    monkeypatch.setattr(train, "train_codec", diverged)
    out = tmp_path / "nan.pt"
    o = cli(["train", "--dataset", "digits", "--backbone", "small-cnn", "--out", str(out), "--no-progress"])
    assert o.rc == 2 and len(o.err_lines) == 1 and "diverged" in o.err, o.err
    assert not out.exists()


def test_adaptive_pilot_bits_that_do_not_fit_a_frame():
    o = cli(["validate", str(QUICKSTART), "--set", "devices.0.strategy=adaptive",
             "--set", "devices.0.strategy_options.accuracy_target=0.9", "--set", "ber_estimate.kind=pilot",
             "--set", "ber_estimate.pilot_bits=5000"], timeout_s=120)
    assert o.rc == 2 and len(o.err_lines) == 1 and "pilot bits" in o.err, o.err


def test_drain_limit_counts_unfinished(tmp_path):
    import json

    slow = tmp_path / "slow.yaml"
    data = yaml.safe_load((PROFILES / "edge" / "rpi5.yaml").read_text())
    data["batch_t0_ms"]["value"] = 500
    slow.write_text(yaml.safe_dump(data))
    out = tmp_path / "o"
    o = cli(["run", str(QUICKSTART), "-q", "-o", str(out), "--set", "duration_s=10", "--set", "edge.0.max_batch=1",
             "--set", f"edge.0.profile={slow}", "--set", "drain_limit_s=2"])
    assert o.rc == 0, o.err
    s = json.loads((out / "summary.json").read_text())
    assert s["drain"]["limit_reached"] and s["drain"]["unfinished"] > 0
    assert s["drain"]["unfinished"] + s["inferences"] > s["inferences"]


def test_gzip_idx_announcing_too_much_is_refused_before_decompressing(tmp_path):
    from cosim.data.idx import IMAGES_MAGIC, read_idx

    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:  # a few bytes on disk, announcing 60000 x 4096 x 4096
        f.write(struct.pack(">IIII", IMAGES_MAGIC, 60000, 4096, 4096) + b"\0" * 1000)
    with pytest.raises(DataError, match="more than the 256 MiB"):
        read_idx(path, IMAGES_MAGIC, 3)


# -- property-based fuzzing -------------------------------------------------------------------------
_PROFILE_FILES = sorted(PROFILES.glob("*/*.yaml"))


@settings(max_examples=40, **FUZZ)
@given(index=st.integers(0, len(_PROFILE_FILES) - 1), field_pick=st.integers(0, 40), value=NUMBERS,
       sub=st.sampled_from(["value", "source", "estimate", "bogus"]))
def test_fuzz_profiles(tmp_path, index, field_pick, value, sub):
    from cosim.config.profiles import clear_cache, load_profile

    src = _PROFILE_FILES[index]
    data = yaml.safe_load(src.read_text())
    keys = sorted(k for k, v in data.items() if isinstance(v, dict))
    key = keys[field_pick % len(keys)]
    data[key][sub] = value
    path = tmp_path / f"p{index}.yaml"
    path.write_text(yaml.safe_dump(data))
    clear_cache()
    try:
        prof = load_profile(path)
    except ProfileError as exc:
        assert "\n" not in str(exc) and str(path.name) in str(exc)
        return
    for k, v in vars(prof).items():  # accepted: every number finite and within its bound
        if isinstance(v, float):
            assert math.isfinite(v) and abs(v) < 1e19, (k, v)


TRACE_LINES = st.lists(st.one_of(
    st.tuples(st.floats(-1, 1e4), st.floats(-0.5, 1.5)).map(lambda t: f"{t[0]},{t[1]}"),
    st.sampled_from(["", "nan,0.1", "1,", "x,y", "1,2,3", "1e999,0.1", "\x00", "0,0.5", "2,1e-9"])),
    max_size=12)


@settings(max_examples=40, **FUZZ)
@given(header=st.sampled_from(["time_s,ber", "time_s,snr_db", "t,ber", ""]), lines=TRACE_LINES)
def test_fuzz_traces(tmp_path, header, lines):
    from cosim.channel.trace import load_trace
    from cosim.errors import ScenarioError

    path = tmp_path / "trace.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    try:
        load_trace(path)
    except ScenarioError as exc:
        assert "\n" not in str(exc)


SWEEP_VALUES = st.one_of(NUMBERS, st.text(max_size=8), st.lists(NUMBERS, max_size=3))


@settings(max_examples=30, **FUZZ)
@given(grid=st.dictionaries(st.sampled_from(["devices.0.count", "duration_s", "seed", "devices.9.count",
                                             "", "edge.0.workers", "devices.0.bogus", "name"]),
                            st.one_of(st.lists(SWEEP_VALUES, max_size=3), SWEEP_VALUES), max_size=2),
       extra=st.dictionaries(st.sampled_from(["replications", "seed", "set", "zip", "bogus", "base"]),
                             SWEEP_VALUES, max_size=2))
def test_fuzz_sweep_files(tmp_path, grid, extra):
    from cosim.sweep.execute import load_sweep

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"base": str(QUICKSTART), "grid": grid, **extra}))
    try:
        load_sweep(path)
    except CosimError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=30, **FUZZ)
@given(magic=st.sampled_from([0x803, 0x801, 0x0, 0xFFFFFFFF]), dims=st.lists(st.integers(0, 2**32 - 1), min_size=0,
                                                                           max_size=3),
       body=st.binary(max_size=64), gz=st.booleans())
def test_fuzz_dataset_files(tmp_path, magic, dims, body, gz):
    from cosim.data.idx import IMAGES_MAGIC, read_idx

    raw = struct.pack(f">I{len(dims)}I", magic, *dims) + body
    path = tmp_path / "f.idx"
    path.write_bytes(gzip.compress(raw) if gz else raw)
    try:
        read_idx(path, IMAGES_MAGIC, 3)
    except DataError as exc:
        assert "\n" not in str(exc)


META = st.one_of(NUMBERS, st.text(max_size=5), st.lists(NUMBERS, max_size=3),
                 st.dictionaries(st.text(max_size=4), NUMBERS, max_size=3))


@settings(max_examples=30, **FUZZ)
@given(key=st.sampled_from(["metrics", "train_config", "config", "weights_sha256", "content_sha256", "version"]),
       value=META)
def test_fuzz_checkpoint_metadata(tmp_path, key, value):
    raw = torch.load(BUILTIN_DIR / "digits.pt", weights_only=True)
    raw[key] = value
    path = tmp_path / "c.pt"
    torch.save(raw, path)
    with pytest.raises(CheckpointError) as err:  # every edit changes what the hashes cover
        load_codec(path)
    assert "\n" not in str(err.value)


TRAIN_OPTS = st.lists(st.sampled_from([
    ["--epochs", "0"], ["--epochs", "-3"], ["--channels", "5000"], ["--lr", "nan"], ["--lr", "inf"],
    ["--lr", "-1"], ["--batch-size", "0"], ["--kernel", "0"], ["--decoder-width", "99999"],
    ["--pretrain-epochs", "-1"], ["--threads", "0"], ["--anneal", "0"], ["--seed", "-5"], ["--bits", "9"],
    ["--backbone", "vgg"], ["--epochs", "x"], ["--out", ""], ["--out", "/proc/no/x.pt"], ["--name", "n" * 300],
    ["--centre-lr-scale", "1e9"], ["--stage2-lr", "0"]]), min_size=1, max_size=3)


@settings(max_examples=40, **FUZZ)
@given(opts=TRAIN_OPTS)
def test_fuzz_train_options_refused_before_training(tmp_path, opts):
    from cosim.codec import train

    calls = []
    original = train.train_codec
    train.train_codec = lambda *a, **k: calls.append(1) or (_ for _ in ()).throw(AssertionError("trained"))
    try:
        argv = ["train", "--dataset", "digits", "--backbone", "small-cnn", "--out", str(tmp_path / "c.pt"),
                "--no-progress"] + [a for o in opts for a in o]
        o = cli(argv, timeout_s=60)
    finally:
        train.train_codec = original
    assert "Traceback" not in o.err and o.rc == 2, o.err
    assert o.err_lines[-1].startswith(("cosim: error:", "cosim train: error:")), o.err  # argparse adds its usage
    assert not calls, "trained with an option out of range"


PATHS = st.one_of(st.sampled_from(["", " ", "\x00", "a\x00b", "x" * 300, "/proc/self/x", "/dev/null", ".",
                                   "..", "/", "ok", "sub/dir/ok", "é\u202e", "file", "file/below"]),
                  st.text(alphabet="ab/._-\x00é", min_size=1, max_size=12))


@settings(max_examples=25, **FUZZ)
@given(path=PATHS)
def test_fuzz_output_paths(tmp_path, path):
    import os

    here = os.getcwd()
    work = tmp_path / f"w{abs(hash(path)) % 10**8}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    (work / "file").write_text("mine")
    (work / "keep").mkdir()
    (work / "keep" / "thesis.tex").write_text("mine")
    os.chdir(work)
    try:
        target = path if not path.startswith("/") or path.startswith(("/proc", "/dev")) else str(work / path.lstrip("/"))
        o = cli(["run", str(QUICKSTART), "-q", f"--out={target}", "--set", "duration_s=1", "--set", "devices.0.count=2"],
                timeout_s=60)
    finally:
        os.chdir(here)
    _ok_or_one_line(o)
    assert (work / "file").read_text() == "mine" and (work / "keep" / "thesis.tex").read_text() == "mine"
