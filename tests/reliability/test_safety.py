"""Nothing untrusted executes: YAML is read without object construction, checkpoints load with
`weights_only=True` and are verified; a tampered, truncated or foreign file gives one line, exit 2.

Each malicious file here carries a payload that would create a marker file if it ever ran; the tests
check the marker is absent.
"""

from __future__ import annotations

import datetime
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_fixtures import ROOT, assert_one_line_error, cli

from cosim.codec.checkpoint import BUILTIN_DIR, load_codec
from cosim.errors import CheckpointError

torch.set_num_threads(1)
GOOD = BUILTIN_DIR / "digits.pt"


class _Payload:
    """Unpickling this runs `os.system(command)`."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _malicious_files(folder: Path, marker: Path) -> dict[str, Path]:
    """Checkpoints that would run code, or are damaged, truncated, tampered with or foreign."""
    raw = GOOD.read_bytes()
    good = torch.load(GOOD, weights_only=True)
    files: dict[str, bytes | None] = {
        "torch-zip-with-code": None,
        "plain-pickle-with-code": pickle.dumps({"format": "cosim-semanticnn-codec",
                                                "x": _Payload(f"touch {marker}")}),
        "truncated-half": raw[: len(raw) // 2],
        "truncated-header": raw[:3],
        "flipped-bytes": raw[:200] + bytes(b ^ 0xFF for b in raw[200:400]) + raw[400:],
        "empty": b"",
        "text": b"format: cosim-semanticnn-codec\n",
        "random-zip": None,
        "tampered-weights": None,
        "tampered-hash": None,
        "wrong-version": None,
        "foreign-state-dict": None,
        "config-does-not-fit": None,
    }
    out: dict[str, Path] = {}
    for name, content in files.items():
        path = folder / f"{name}.pt"
        if content is not None:
            path.write_bytes(content)
        out[name] = path
    torch.save({"format": "cosim-semanticnn-codec", "version": 1, "x": _Payload(f"touch {marker}")},
               out["torch-zip-with-code"])
    with zipfile.ZipFile(out["random-zip"], "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x04junk")
    tampered = dict(good, state_dict=dict(good["state_dict"]))
    key = min(tampered["state_dict"])
    tampered["state_dict"][key] = tampered["state_dict"][key] * 1.001
    torch.save(tampered, out["tampered-weights"])
    torch.save(dict(good, weights_sha256="0" * 64), out["tampered-hash"])
    torch.save(dict(good, version=99), out["wrong-version"])
    torch.save({"model": good["state_dict"]}, out["foreign-state-dict"])
    torch.save(dict(good, config=dict(good["config"], channels=good["config"]["channels"] * 2)),
               out["config-does-not-fit"])
    return out


def test_bad_checkpoints_refused_in_one_line_and_never_run(tmp_path):
    marker = tmp_path / "PWNED"
    files = _malicious_files(tmp_path, marker)
    for name, path in files.items():
        with pytest.raises(CheckpointError) as err:
            load_codec(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value), name
        o = cli(["codec", "info", str(path)])
        assert_one_line_error(o, str(path))
    assert not marker.exists(), "unpickling ran code from a checkpoint"
    # the same files named by a scenario: one line naming the scenario, its line, the field and the file
    scenario = (ROOT / "scenarios" / "quickstart-digits.yaml").read_text()
    for name in ("torch-zip-with-code", "tampered-weights", "truncated-half"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(scenario.replace("codec: builtin:digits", f"codec: {files[name]}"))
        for argv in (["validate", str(path)], ["run", str(path), "-o", str(tmp_path / "o"), "--quiet"]):
            line = assert_one_line_error(cli(argv), str(path))
            assert f"{path}:8: codec: {files[name]}" in line, line
    assert not marker.exists()
    assert not (tmp_path / "o").exists()


CONFIG_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**7), st.floats(allow_nan=True),
                          st.text(max_size=6), st.lists(st.integers(-2, 10**6), max_size=4))


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(["image_shape", "num_classes", "bits", "channels", "kernel",
                                                "decoder_width", "power_rms", "backbone", "gray", "task",
                                                "ber_aware", "name", "dataset", "extra"]),
                               CONFIG_VALUES, min_size=1, max_size=2))
def test_checkpoint_config_fuzz_never_crashes(tmp_path, changes):
    """The weights' hash does not cover the config: nonsense there must still give CheckpointError."""
    good = torch.load(GOOD, weights_only=True)
    path = tmp_path / "edited.pt"
    torch.save(dict(good, config={**good["config"], **changes}), path)
    try:
        codec = load_codec(path)
    except CheckpointError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
    else:
        assert codec.meta.payload_bits > 0


def test_yaml_object_tags_are_refused_everywhere(tmp_path):
    marker = tmp_path / "PWNED"
    payloads = [
        f"!!python/object/apply:os.system ['touch {marker}']",
        f"!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/object:cosim.config.scenario.Scenario {}",
    ]
    quickstart = (ROOT / "scenarios" / "quickstart-digits.yaml").read_text()
    sweep = (ROOT / "scenarios" / "sweeps" / "ber-robustness.yaml").read_text()
    board = (ROOT / "hw_profiles" / "boards" / "stm32l476.yaml").read_text()
    for i, payload in enumerate(payloads):
        scen = tmp_path / f"s{i}.yaml"
        scen.write_text(quickstart.replace("name: quickstart-digits", f"name: {payload}"))
        line = assert_one_line_error(cli(["validate", str(scen)]), str(scen))
        assert f"{scen}:4: invalid YAML: tag " in line and "not allowed" in line, line
        # in a --set value
        o = cli(["validate", str(ROOT / "scenarios" / "quickstart-digits.yaml"), "--set", f"name={payload}"])
        assert_one_line_error(o, "--set")
        # in a sweep file
        sw = tmp_path / f"w{i}.yaml"
        sw.write_text(sweep.replace("replications: 3", f"replications: {payload}")
                      .replace("../quickstart.yaml", str(ROOT / "scenarios" / "quickstart-digits.yaml")))
        assert_one_line_error(cli(["sweep", str(sw), "-o", str(tmp_path / "sw"), "--quiet"]), str(sw))
        # in a hardware profile given by path
        prof = tmp_path / f"b{i}.yaml"
        prof.write_text(board.replace("name: stm32l476", f"name: {payload}", 1))
        assert_one_line_error(cli(["hw", "show", str(prof)]), prof.name)
    assert not marker.exists(), "a YAML tag ran code"
    assert not (tmp_path / "sw").exists() or not (tmp_path / "sw" / "results.parquet").exists()


def test_yaml_safe_load_never_builds_objects():
    """What the loader returns is plain data only, whatever tags the text tries."""
    from cosim.config.yamlio import _parse

    data, _ = _parse("a: !!binary aGk=\nb: !!set {x, y}\nc: 2001-12-14\nd: [1, {e: .nan}]\n")
    allowed = (dict, list, str, int, float, bool, bytes, set, type(None))
    stack = [data]
    while stack:
        v = stack.pop()
        assert isinstance(v, (*allowed, datetime.date)), type(v)
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, set)):
            stack.extend(v)
