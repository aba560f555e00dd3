"""Trace channels: piecewise-constant replay, looping, SNR traces, and file errors with file:line."""

import random
from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from cosim.channel.modulation import ber_from_snr_db
from cosim.channel.processes import TraceChannel
from cosim.channel.trace import load_trace
from cosim.errors import ScenarioError


@dataclass(frozen=True)
class Radio:
    modulation: str = "qpsk"
    bitrate_bps: float = 250e3
    noise_bandwidth_hz: float = 500e3
    lora_sf: int | None = None
    lora_bw_hz: float | None = None


def write(tmp_path, text, name="trace.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_piecewise_constant_and_hold(tmp_path):
    path = write(tmp_path, "# recorded\ntime_s,ber\n1.0,0.001\n2.0,0.01\n\n4.0,0.0\n")
    link = TraceChannel(path=path).make_link(random.Random(0))
    got = [link.ber_at(t) for t in (0.0, 1.0, 1.99, 2.0, 3.5, 4.0, 100.0)]
    assert got == [0.001, 0.001, 0.001, 0.01, 0.01, 0.0, 0.0]
    assert link.snr_db_at(5.0) is None


def test_loop_period_is_span_plus_last_step(tmp_path):
    path = write(tmp_path, "time_s,ber\n0,0.1\n1,0.2\n3,0.3\n")  # period = 3 + 2 = 5
    cfg = TraceChannel(path=path, loop=True)
    link = cfg.make_link(random.Random(0))
    assert [link.ber_at(t) for t in (0.5, 2.0, 4.9, 5.0, 6.5, 9.0, 1000.2)] == [0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1]
    assert cfg.stationary_ber() == pytest.approx((0.1 * 1 + 0.2 * 2 + 0.3 * 2) / 5)


def test_random_offset_shifts_within_the_period(tmp_path):
    path = write(tmp_path, "time_s,ber\n0,0.1\n1,0.2\n")
    cfg = TraceChannel(path=path, loop=True, random_offset=True)
    phases = {cfg.make_link(random.Random(s)).ber_at(0.0) for s in range(50)}
    assert phases == {0.1, 0.2}
    with pytest.raises(ValidationError, match="random_offset needs loop"):
        TraceChannel(path=path, random_offset=True)


def test_snr_trace_goes_through_the_radio_curve(tmp_path):
    path = write(tmp_path, "time_s,snr_db\n0,3.0\n10,8.5\n")
    link = TraceChannel(path=path).make_link(random.Random(0), Radio())
    kw = {"bitrate_bps": 250e3, "noise_bandwidth_hz": 500e3}
    assert link.ber_at(1.0) == pytest.approx(ber_from_snr_db("qpsk", 3.0, **kw))
    assert link.snr_db_at(12.0) == 8.5
    assert link.ber_at(12.0) == pytest.approx(ber_from_snr_db("qpsk", 8.5, **kw))


def test_cached_and_shared(tmp_path):
    path = write(tmp_path, "time_s,ber\n0,0.5\n")
    assert load_trace(path) is load_trace(path)


@pytest.mark.parametrize(
    "text, where, what",
    [
        ("time_s,ber\n0,0.1\n2,0.2\n1,0.3\n", ":4:", "time_s"),  # non-monotonic
        ("time_s,ber\n0,0.1\n1,0.1\n1,0.2\n", ":4:", "does not increase"),  # repeated time
        ("time_s,ber\n0,0.1\n1,abc\n", ":3:", "column 'ber'"),  # junk value
        ("time_s,ber\nzero,0.1\n", ":2:", "column 'time_s'"),  # junk time
        ("time_s,ber\n0,1.5\n", ":2:", "outside [0, 0.5]"),
        ("time_s,ber\n0,nan\n", ":2:", "finite"),
        ("time_s,ber\n0,0.1,7\n", ":2:", "expected 2 columns"),
        ("time,value\n0,0.1\n", ":1:", "header"),
        ("", ":1:", "empty"),
        ("# only a comment\n\n", ":1:", "empty"),
        ("time_s,snr_db\n", "trace.csv", "no data rows"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, text, where, what):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as exc:
        TraceChannel(path=path).make_link(random.Random(0), Radio())
    msg = str(exc.value)
    assert msg.startswith(path)
    assert where in msg and what in msg


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        TraceChannel(path=str(tmp_path / "nope.csv")).load()
