"""Property-based fuzzing of the shipped scenarios through the real CLI (`cosim validate`, `cosim run`).

Each case mutates a shipped scenario: structure-aware edits at random key paths (wrong types, negative,
NaN/inf and huge numbers, BER > 0.5, 10^12 devices, unknown keys, deleted keys, unknown profile, codec,
data set and strategy names, random strategy options, trace channels whose CSV has gaps, non-monotonic
times, NaN or junk), then optionally breaks the YAML text (duplicate keys, truncation, stray
characters, Python object tags, empty file, random bytes). Every case must end with exit status 0, or
exit status 2 and exactly one stderr line naming the scenario file: never a traceback, a hang, or a
warning. Some cases that validate are also run (half, at most 6, in the default suite; a third in the
slow one; shortened to 2 s and at most 8 devices per group): a scenario `validate` accepts must run.

100 cases in the default suite (derandomized: the same cases every time), 1,000 with `-m slow`.
Set COSIM_FUZZ_LOG=FILE to append one JSON line per case (for counting outcomes).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reliability_fixtures import ROOT, assert_one_line_error, cli

from cosim.strategies.base import STRATEGIES

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SWEEPS = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))
_COUNTER = itertools.count()

# -- values ---------------------------------------------------------------------------------------
ODD = [10**12, -1, 0, 0.5000001, 0.7, 1.0, 1e308, -1e-300, 2**63, 2**64, 10**400, "", " ", "nosuch",
       "builtin:nope", "missing.pt", "/dev/zero", "/", "../../../etc/passwd", "nan", ".inf", "1e12",
       "\x00", "é\u202e", "periodic", "poisson", "constant", "trace", "tdma", "nearest", [], {}, [[]], {"kind": None}]
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(ODD), st.text(max_size=12), st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(-5, 5), max_size=2),
)
OPTIONS = st.fixed_dictionaries({}, optional={
    "arq": st.one_of(st.booleans(), JUNK), "max_retries": st.integers(-2, 300),
    "jpeg_quality": st.integers(-1, 101), "accuracy_target": st.floats(-0.2, 1.2),
    "variants": st.lists(st.sampled_from(["builtin:digits-b1", "builtin:digits-b4", "builtin:nope",
                                          "builtin:shapes", "builtin:digits"]), max_size=3),
    "bogus": JUNK,
})
CHANNELS = st.one_of(
    st.builds(lambda b: {"kind": "constant", "ber": b}, st.floats(-0.1, 0.9)),
    st.builds(lambda g, b, mg, mb: {"kind": "gilbert-elliott", "ber_good": g, "ber_bad": b,
                                    "mean_good_s": mg, "mean_bad_s": mb},
              st.floats(0, 0.6), st.floats(0, 0.9), st.floats(-1, 1e3), st.floats(-1, 1e3)),
    st.builds(lambda e, s, f: {"kind": "snr", "exponent": e, "sigma_db": s, "fading": f},
              st.floats(0, 9), st.floats(-1, 40), st.sampled_from(["none", "rayleigh", "rician", "bogus"])),
    st.just({"kind": "bogus"}),
)
MEDIA = st.one_of(
    st.builds(lambda s: {"kind": "tdma", "slot_ms": s}, st.floats(-1, 50)),
    st.builds(lambda b, a: {"kind": "csma", "backoff_max_ms": b, "max_attempts": a}, st.floats(-1, 100),
              st.integers(-1, 70)),
    st.sampled_from([{"kind": "aloha"}, {"kind": "dedicated"}, {"kind": "token-ring"}]),
)
# field paths worth aiming at ("*" is any group or server index), with values that probe their meaning
TARGETED = [
    (("devices", "*", "count"), st.sampled_from([10**12, 0, -5, 1, 1_000_001, 3.5, "10"])),
    (("devices", "*", "board"), st.sampled_from(["nosuch", "stm32u575", "ble-1m", "", "/dev/null"])),
    (("devices", "*", "radio"), st.sampled_from(["nosuch", "lora-sf12", "ieee802154", "stm32l476", ""])),
    (("edge", "*", "profile"), st.sampled_from(["nosuch", "rpi5", "stm32l476"])),
    (("devices", "*", "strategy"), st.sampled_from([*STRATEGIES, "nosuch", "SemanticNN", ""])),
    (("devices", "*", "strategy_options"), OPTIONS),
    (("devices", "*", "codec"), st.sampled_from(["builtin:nope", "builtin:shapes", "builtin:digits-b2",
                                                 "missing.pt", "/etc/hostname", "builtin:", "builtin:../x"])),
    (("codec",), st.sampled_from(["builtin:nope", "builtin:shapes", "missing.pt", "/etc/hostname"])),
    (("dataset",), st.sampled_from(["nosuch", "shapes", "mnist", "cifar10", "DIGITS"])),
    (("duration_s",), st.sampled_from([1e12, 0, -1, math.nan, math.inf, 1e-9, "60"])),
    (("deadline_ms",), st.sampled_from([0, -1, math.inf, math.nan, 1e-12])),
    (("seed",), st.sampled_from([-1, 2**63, 2**64, 1.5, "x"])),
    (("codec_batch",), st.sampled_from([0, 1, 256, 10**9, -3])),
    (("devices", "*", "workload"), st.one_of(
        st.builds(lambda p, j: {"kind": "periodic", "period_s": p, "jitter_s": j}, st.floats(-1, 1e9), st.floats(-1, 10)),
        st.builds(lambda r: {"kind": "poisson", "rate_hz": r}, st.floats(-1, 2000)))),
    (("devices", "*", "placement"), st.one_of(
        st.builds(lambda a, b: {"kind": "uniform", "min_m": a, "max_m": b}, st.floats(-1, 1e7), st.floats(-1, 1e7)),
        st.builds(lambda r: {"kind": "disc", "radius_m": r}, st.floats(-1, 1e7)),
        st.just({"kind": "area", "x_m": [5, 1], "y_m": [0, 1]}))),
    (("devices", "*", "channel"), CHANNELS),
    (("edge", "*", "channel"), CHANNELS),
    (("edge", "*", "medium"), MEDIA),
    (("devices", "*", "server"), st.sampled_from(["nearest", "nosuch", None])),
    (("ber_estimate",), st.one_of(st.builds(lambda b: {"kind": "pilot", "pilot_bits": b}, st.integers(-1, 200_000)),
                                  st.just({"kind": "oracle"}), st.just({"kind": "genie"}))),
    (("edge", "*", "max_batch"), st.sampled_from([0, 1, 5000])),
    (("edge", "*", "workers"), st.sampled_from([0, 1, 2000])),
]


# -- structure-aware mutations -------------------------------------------------------------------
def _paths(node, loc=()):
    yield loc
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, loc + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, loc + (i,))


def _get(node, loc):
    for p in loc:
        node = node[p]
    return node


def _set(data, loc, value):
    """Set `loc` (creating mappings on the way); returns False if the path cannot exist."""
    node = data
    for p in loc[:-1]:
        if isinstance(node, dict):
            if not isinstance(node.get(p), (dict, list)):
                node[p] = {}
            node = node[p]
        elif isinstance(node, list) and isinstance(p, int) and p < len(node):
            node = node[p]
        else:
            return False
    if isinstance(node, dict) or (isinstance(node, list) and isinstance(loc[-1], int) and loc[-1] < len(node)):
        node[loc[-1]] = value
        return True
    return False


def _concrete(draw, data, pattern):
    loc = []
    node = data
    for p in pattern:
        if p == "*":
            n = len(node) if isinstance(node, list) else 0
            p = draw(st.integers(0, max(n - 1, 0)))
        loc.append(p)
        node = node[p] if isinstance(node, (dict, list)) and _has(node, p) else None
    return tuple(loc)


def _has(node, p):
    return p in node if isinstance(node, dict) else isinstance(p, int) and p < len(node)


def _trace_text(draw) -> str:
    header = draw(st.sampled_from(["time_s,ber", "time_s,snr_db", "time,ber", "", "# recorded\ntime_s,ber",
                                   "time_s,ber,extra"]))
    n = draw(st.integers(0, 8))
    times = draw(st.lists(st.one_of(st.floats(-1, 100), st.sampled_from([math.nan, math.inf])), min_size=n, max_size=n))
    if draw(st.booleans()):
        times = sorted(t for t in times if not math.isnan(t)) + [t for t in times if math.isnan(t)]
    values = draw(st.lists(st.one_of(st.floats(-0.1, 0.7), st.floats(-20, 60), st.just(math.nan)),
                           min_size=n, max_size=n))
    rows = [f"{t!r},{v!r}".replace("nan", "NaN") for t, v in zip(times, values)]
    if rows and draw(st.booleans()):  # a gap: a missing cell, a blank line, a junk row
        i = draw(st.integers(0, len(rows) - 1))
        rows[i] = draw(st.sampled_from(["", "1.0,", ",0.1", "1.0", "a,b", "1,2,3", "\x00", "  ,  "]))
    return "\n".join([header, *rows]) + "\n"


def _mutate_data(draw, data, folder: Path, extra_names: list[str]):
    """1-3 structural mutations of `data` in place."""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["targeted", "targeted", "replace", "delete", "unknown", "rename", "trace"]))
        event(f"mutation: {kind}")
        if kind == "targeted":
            pattern, values = draw(st.sampled_from(TARGETED))
            _set(data, _concrete(draw, data, pattern), draw(st.one_of(values, JUNK) if draw(st.booleans()) else values))
            continue
        if kind == "trace":
            name = f"trace{draw(st.integers(0, 9))}.csv"
            (folder / name).write_text(_trace_text(draw))
            extra_names.append(name)
            where = draw(st.sampled_from([("edge", "*", "channel"), ("devices", "*", "channel")]))
            chan = {"kind": "trace", "path": name, "loop": draw(st.booleans())}
            if draw(st.booleans()):
                chan["random_offset"] = draw(st.booleans())
            _set(data, _concrete(draw, data, where), chan)
            continue
        paths = list(_paths(data))
        loc = draw(st.sampled_from(paths))
        if kind == "replace":
            if loc:
                _set(data, loc, draw(JUNK))
            else:
                data.clear()
                data.update({"junk": draw(JUNK)})
        elif kind == "delete" and loc:
            parent = _get(data, loc[:-1])
            del parent[loc[-1]]
        elif kind in ("unknown", "rename"):
            node = _get(data, loc)
            if isinstance(node, dict):
                key = draw(st.one_of(st.sampled_from(["unknown_key", "Count", "kind", "devices", "<<"]),
                                     st.text(max_size=8)))
                if kind == "rename" and node:
                    old = draw(st.sampled_from(list(node)))
                    node[key] = node.pop(old)
                else:
                    node[key] = draw(JUNK)


def _mutate_text(draw, text: str, marker: Path) -> str | bytes:
    kind = draw(st.sampled_from(["none"] * 6 + ["truncate", "insert", "duplicate", "tag", "whole"]))
    event(f"text: {kind}")
    if kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if kind == "insert":
        pos = draw(st.integers(0, len(text)))
        return text[:pos] + draw(st.text(alphabet=":-[]{}&*!|>'\"#%@`\t\n ,?<", min_size=1, max_size=4)) + text[pos:]
    lines = text.splitlines()
    if kind == "duplicate":
        keyed = [i for i, ln in enumerate(lines) if re.match(r"^\s*[\w-]+:", ln)]
        if keyed:
            i = draw(st.sampled_from(keyed))
            lines.insert(i + 1, lines[i])
        return "\n".join(lines) + "\n"
    if kind == "tag":
        payload = draw(st.sampled_from([
            f"!!python/object/apply:os.system ['touch {marker}']",
            f"!!python/object/apply:subprocess.call [['touch', '{marker}']]",
            "!!python/name:os.system", "!!python/object:cosim.config.scenario.Scenario {}",
            "!!binary aGVsbG8=", "!!set {a, b}", "!!float nonsense", "!!timestamp 2001-13-99",
            "!!int 0xZZ", "&a [*a]",
        ]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        lines.insert(i, f"{'injected' if not lines else lines[i].split(':')[0] or 'x'}: {payload}")
        return "\n".join(lines) + "\n"
    if kind == "whole":
        return draw(st.one_of(st.sampled_from(["", "   \n", "---\n---\n", "[]", "42", "~", "\ufeffname: x",
                                               "a: &x [*x]", "[" * 200, "a:\n  - b\n - c"]),
                              st.binary(max_size=64)))
    return text


@st.composite
def cases(draw, folder_root: Path):
    """(scenario path, extra file names, marker path) of one mutated scenario written to disk."""
    folder = folder_root / f"case{next(_COUNTER)}"
    folder.mkdir(parents=True)
    source = draw(st.sampled_from(SCENARIOS))
    event(f"scenario: {source.stem}")
    marker = folder / "PWNED"
    extra: list[str] = []
    if draw(st.integers(0, 4)) == 0:
        text = source.read_text()  # comments, anchors and aliases as shipped
    else:
        data = yaml.safe_load(source.read_text())
        _mutate_data(draw, data, folder, extra)
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans()))
    text = _mutate_text(draw, text, marker)
    path = folder / "scenario.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path, extra, marker


def _log(record: dict) -> None:
    log = os.environ.get("COSIM_FUZZ_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps(record) + "\n")


def _check(o, path: Path) -> None:
    if o.rc == 0:
        assert "Traceback" not in o.err and not o.err_lines, o.err
        return
    line = assert_one_line_error(o, str(path))
    m = re.match(rf"cosim: error: {re.escape(str(path))}:(\d+):", line)
    if m and path.stat().st_size:  # a line number must point into the file
        n_lines = path.read_bytes().count(b"\n") + 1
        assert 1 <= int(m.group(1)) <= n_lines, line


def _shortened(path: Path) -> list[str]:
    """--set overrides for a quick run: 2 s of sensing, at most 8 devices per group."""
    data = yaml.safe_load(path.read_text())
    sets = ["--set", "duration_s=2"]
    for i, g in enumerate(data["devices"]):
        sets += ["--set", f"devices.{i}.count={min(int(g.get('count', 1)), 8)}"]
    return sets


def _fuzz_one(case, run_it) -> None:
    path, _extra, marker = case
    t0 = time.perf_counter()
    o = cli(["validate", str(path)])
    _check(o, path)
    assert not marker.exists(), "code from a YAML tag ran"
    record = {"case": str(path), "validate": o.rc, "error": o.err_lines[0] if o.err_lines else None}
    event(f"validate exit {o.rc}")
    if o.rc == 0 and run_it():
        sets = _shortened(path)
        v = cli(["validate", str(path), *sets])
        _check(v, path)
        if v.rc == 0:
            out = path.parent / "out"
            r = cli(["run", str(path), "-o", str(out), "--quiet", *sets], timeout_s=300)
            _check(r, path)
            assert r.rc == 0, f"validate accepted {path} but run refused it: {r.err}"
            assert (out / "summary.json").is_file()
            record["run"] = r.rc
            event("ran")
    record["wall_s"] = round(time.perf_counter() - t0, 3)
    _log(record)


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


DEFAULT_MAX_RUNS = 6  # keeps the default suite fast: a run with figures costs 0.6-4 s
COMMON = {"deadline": None, "database": None, "print_blob": True,
          "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                    HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much]}


def _runner(every: int, limit: int | None):
    """A property: validate the case; also run every `every`-th case that validates, up to `limit` runs."""
    seen = {"valid": 0, "runs": 0}

    def prop(case):
        def run_it() -> bool:
            seen["valid"] += 1
            go = seen["valid"] % every == 1 % every and (limit is None or seen["runs"] < limit)
            seen["runs"] += go
            return go

        _fuzz_one(case, run_it)

    return prop


def test_fuzz_scenarios_default(fuzz_root):
    given(case=cases(fuzz_root))(settings(max_examples=100, derandomize=True, **COMMON)(
        _runner(2, DEFAULT_MAX_RUNS)))()


@pytest.mark.slow
def test_fuzz_scenarios_slow(fuzz_root):
    given(case=cases(fuzz_root))(settings(max_examples=1000, **COMMON)(_runner(3, None)))()


# -- sweep files: loading (expanding and validating every run) never crashes --------------------------
@st.composite
def sweep_cases(draw, folder_root: Path):
    folder = folder_root / f"sweep{next(_COUNTER)}"
    folder.mkdir(parents=True)
    source = draw(st.sampled_from(SWEEPS))
    data = yaml.safe_load(source.read_text())
    # the bases a shipped sweep names (base-fleet.yaml beside it, ../quickstart.yaml above it)
    (folder / "base-fleet.yaml").write_text((ROOT / "scenarios" / "sweeps" / "base-fleet.yaml").read_text())
    (folder.parent / "quickstart.yaml").write_text((ROOT / "scenarios" / "quickstart.yaml").read_text())
    for _ in range(draw(st.integers(1, 3))):
        loc = draw(st.sampled_from(list(_paths(data))))
        op = draw(st.sampled_from(["replace", "delete", "unknown"]))
        if op == "replace" and loc:
            _set(data, loc, draw(JUNK))
        elif op == "delete" and loc:
            del _get(data, loc[:-1])[loc[-1]]
        elif op == "unknown" and isinstance(_get(data, loc), dict):
            _get(data, loc)[draw(st.sampled_from(["bogus", "devices.0.count", "seed", "zip", "grid"]))] = draw(JUNK)
    text = _mutate_text(draw, yaml.safe_dump(data, sort_keys=False), folder / "PWNED")
    path = folder / "sweep.yaml"
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return path


def _fuzz_sweep(path: Path) -> None:
    from cosim.errors import CosimError
    from cosim.sweep.execute import load_sweep

    try:
        sweep = load_sweep(path)
    except CosimError as exc:
        message = str(exc)
        assert "\n" not in message and str(path) in message, message
        event("sweep refused")
        return
    assert sweep.runs
    event("sweep loads")


def test_fuzz_sweep_files(fuzz_root):
    @settings(max_examples=40, derandomize=True, **COMMON)
    @given(path=sweep_cases(fuzz_root))
    def prop(path):
        _fuzz_sweep(path)

    prop()


@pytest.mark.slow
def test_fuzz_sweep_files_slow(fuzz_root):
    @settings(max_examples=300, **COMMON)
    @given(path=sweep_cases(fuzz_root))
    def prop(path):
        _fuzz_sweep(path)

    prop()

