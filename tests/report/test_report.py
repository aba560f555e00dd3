"""`cosim report` and `cosim run --report`: one self-contained page with the scenario, warnings, summary
with intervals, every figure, energy, manifest; opened in headless Chromium without console errors and
with every figure decoded."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plots"))
from browser import chromium, load, screenshot
from synthetic_runs import write_run

from cosim.cli import main
from cosim.errors import CosimError
from cosim.report.html import write_report
from cosim.report.warnings import run_warnings

needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="headless Chromium not installed (apt-get install -y chromium; .ci/run does)")

TINY = """name: tiny
seed: 2
duration_s: 6
dataset: digits
codec: builtin:digits
deadline_ms: 200
devices:
  - {name: sensors, count: 6, board: stm32l476, radio: ble-1m, strategy: semanticnn,
     workload: {kind: periodic, period_s: 1.0, jitter_s: 0.1}, placement: {kind: fixed, distance_m: 5}}
  - {name: raw, count: 6, board: stm32l476, radio: ble-1m, strategy: raw,
     workload: {kind: periodic, period_s: 1.0, jitter_s: 0.1}, placement: {kind: fixed, distance_m: 5}}
edge:
  - {name: gateway, profile: rpi5, workers: 1, max_batch: 16, max_wait_ms: 5, medium: {kind: dedicated},
     channel: {kind: gilbert-elliott, ber_good: 1.0e-5, ber_bad: 1.0e-2, mean_good_s: 2.0, mean_bad_s: 1.0}}
"""


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    (folder / "tiny.yaml").write_text(TINY)
    assert main(["run", str(folder / "tiny.yaml"), "-o", str(folder / "out"), "--quiet", "--report"]) == 0
    return folder / "out"


@pytest.fixture(scope="module")
def placed_run(tmp_path_factory):
    folder = write_run(tmp_path_factory.mktemp("placed") / "run", groups=3)
    write_report(folder)
    return folder


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    base = folder / "tiny.yaml"
    base.write_text(TINY)
    (folder / "s.yaml").write_text(f"name: s\nbase: {base}\nreplications: 2\nset:\n  duration_s: 3\n"
                                   "grid:\n  devices.0.strategy: [semanticnn, raw]\n")
    assert main(["sweep", str(folder / "s.yaml"), "-o", str(folder / "out"), "--serial", "--quiet",
                 "--report", "--format", "svg"]) == 0
    assert (folder / "out" / "report.html").is_file()
    assert main(["report", str(folder / "out")]) == 0  # replaces its own report
    return folder / "out"


def _figures(text: str) -> int:
    return len(re.findall(r"<figure>", text))


def test_run_report_has_every_section(real_run):
    text = (real_run / "report.html").read_text()
    for heading in ("Scenario", "Warnings", "Summary", "Figures", "Energy and battery", "Manifest"):
        assert f"<h2>{heading}</h2>" in text
    assert "Group sensors: 6 × stm32l476 with a ble-1m radio, strategy semanticnn" in text
    assert "accuracy [95 % Wilson]" in text and "<b>all</b>" in text  # two groups + the total
    assert _figures(text) == len(list((real_run / "figures").iterdir())) == 5  # + group comparison
    assert "<td>codec builtin:digits</td>" in text  # the manifest's codec hash row
    assert re.search(r"<td>seed</td><td>2</td>", text)


def test_report_is_self_contained(real_run, placed_run):
    """No URL is fetched: every src/href is a data URI or an in-page anchor (SVG xmlns is a name)."""
    for folder in (real_run, placed_run):
        text = (folder / "report.html").read_text()
        refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', text)
        assert refs and all(r.startswith(("data:", "#")) for r in refs), refs[:5]
        assert "<link" not in text and "@import" not in text and "url(" not in text


def test_warnings_are_derived_from_the_summary(placed_run):
    text = (placed_run / "report.html").read_text()
    assert "Edge server gw-a was busy 97% of the time" in text
    assert "Backlog never drained: sensing stopped at 60 s" in text
    assert "site map" in text  # positions recorded: the map is in the report
    summary = {"inferences": 100, "lost": {"collision": 20, "access": 0}, "edge_utilization": {"g": 0.3},
               "sim_time_s": 10.2, "deadline_miss_ratio": 0.2}
    warns = run_warnings(summary, {"scenario": {"duration_s": 10, "deadline_ms": 200, "devices": []}})
    assert len(warns) == 1 and warns[0].startswith("Shared channel overloaded: 20.0%")


def test_duty_cycle_budget_warning():
    """LoRa at 1 % duty cycle: a device sending 10 kbit every 10 s needs far more airtime than that."""
    from cosim.config.profiles import load_radio

    radio = load_radio("lora-sf7")
    assert radio.duty_cycle < 1
    payload = 40
    bits = 8 * (radio.header_bytes + payload + radio.crc_bytes)
    # 6 devices x 10 inferences in 100 s: each on air 10 x airtime / 100 s
    share = 10 * radio.airtime_s(payload) / 100
    assert share > radio.duty_cycle
    summary = {"inferences": 60, "groups": {"farm": {"bits_on_air_per_inference": bits, "inferences": 60,
                                                     "frames_per_inference": 1.0}}}
    scenario = {"duration_s": 100, "deadline_ms": 1000,
                "devices": [{"name": "farm", "count": 6, "radio": "lora-sf7"}]}
    warns = run_warnings(summary, {"scenario": scenario})
    assert any(w.startswith(f"Group farm: each device needs about {share:.2%} of the time on air") for w in warns)
    scenario["duration_s"] = 100_000  # the same traffic over a long run: well under the budget
    assert not any(w.startswith("Group farm") for w in run_warnings(summary, {"scenario": scenario}))


def test_report_never_overwrites_a_foreign_file(tmp_path):
    folder = write_run(tmp_path / "run", groups=1)
    (folder / "report.html").write_text("<html>my notes</html>")
    with pytest.raises(CosimError, match="not written by cosim"):
        write_report(folder)
    assert (folder / "report.html").read_text() == "<html>my notes</html>"


def test_report_of_a_non_run_folder_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "neither a run folder" in capsys.readouterr().err


def test_sweep_report(sweep_dir):
    text = (sweep_dir / "report.html").read_text()
    assert "<h2>Results per parameter point</h2>" in text
    assert _figures(text) == len(list((sweep_dir / "figures").iterdir())) >= 3


@needs_chromium
def test_browser_checker_catches_errors(tmp_path):
    """The browser check can fail: a console error and an undecodable image are both seen."""
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><html><body><figure><img src="data:image/png;base64,AAAA"></figure>'
                    '<script>console.error("boom");</script></body></html>')
    from cosim.report.html import SCRIPT

    page.write_text(page.read_text().replace("</body>", f"<script>{SCRIPT}</script></body>"))
    loaded = load(page)
    assert any("boom" in m for m in loaded.console)
    assert 'data-broken-figures="1"' in loaded.dom and 'data-loaded="no"' in loaded.dom


@needs_chromium
@pytest.mark.parametrize("which", ["real_run", "placed_run", "sweep_dir"])
def test_report_renders_in_chromium(which, request, tmp_path):
    folder = request.getfixturevalue(which)
    page = folder / "report.html"
    loaded = load(page)
    assert loaded.returncode == 0
    assert loaded.console == []  # no errors, no warnings, nothing logged
    images = len(re.findall(r"<img ", loaded.dom))
    assert images == _figures(page.read_text()) > 0
    assert 'data-broken-figures="0"' in loaded.dom
    assert loaded.dom.count('data-loaded="yes"') == images  # complete, naturalWidth > 0
    shot = screenshot(page, tmp_path / f"{which}.png")
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000


@needs_chromium
def test_svg_report_renders_in_chromium(tmp_path):
    """--format svg inlines the figures as markup: they render, and nothing is logged."""
    from cosim.report.html import report_format

    folder = write_run(tmp_path / "run", groups=2)
    page = write_report(folder, report_format("svg", None))
    text = page.read_text()
    assert "<img " not in text and text.count("<svg") == _figures(text) > 0
    loaded = load(page)
    assert loaded.returncode == 0 and loaded.console == []
    assert 'data-broken-figures="0"' in loaded.dom
