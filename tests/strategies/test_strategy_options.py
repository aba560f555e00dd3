"""Strategy options in the scenario: typed, rejected where unused, and errors that name board and field."""

from __future__ import annotations

import copy

import pytest
import torch
import yaml
from strategy_fixtures import group, scenario, world

from cosim.cli import main
from cosim.config.profiles import load_board
from cosim.config.scenario import load_scenario, validate_scenario
from cosim.errors import ScenarioError

torch.set_num_threads(1)


def build(tmp_path, **g):
    strategy = g.pop("strategy")
    return world(scenario([group("g", strategy, count=1, **g)]), tmp_path)


def test_unknown_option_is_rejected_by_the_schema():
    data = scenario([group("g", "split-int8", strategy_options={"arq": False, "retries": 3})])
    with pytest.raises(ScenarioError, match=r"devices\.0\.strategy_options\.retries"):
        validate_scenario(data, "test")


@pytest.mark.parametrize("strategy, options, message", [
    ("split-int8", {"jpeg_quality": 50}, r"strategy_options\.jpeg_quality: not used by strategy 'split-int8'"),
    ("semanticnn", {"accuracy_target": 0.9}, r"accuracy_target: not used by strategy 'semanticnn'"),
    ("adaptive", {"arq": True, "accuracy_target": 0.9}, r"arq: not used by strategy 'adaptive'"),
    ("raw", {"arq": False, "max_retries": 3}, r"max_retries: needs arq: true"),
    ("raw", {"arq": False, "jpeg_quality": 50}, r"raw with jpeg_quality needs ARQ"),
    ("adaptive", {}, r"accuracy_target: required by strategy 'adaptive'"),
    ("adaptive", {"accuracy_target": 0.9, "variants": ["builtin:no-such"]}, r"strategy_options\.variants"),
])
def test_misused_options_name_the_group_and_field(tmp_path, strategy, options, message):
    with pytest.raises(ScenarioError, match=message):
        build(tmp_path, strategy=strategy, strategy_options=options)


def test_ablations_use_the_shipped_checkpoints(tmp_path):
    ctx = build(tmp_path, strategy="semanticnn-nofal").services
    assert "builtin:digits-nofal" in ctx._codecs
    assert not ctx.codec("builtin:digits-nofal").meta.fal
    ctx = build(tmp_path / "b", strategy="semanticnn-berunaware").services
    assert not ctx.codec("builtin:digits-berunaware").meta.ber_aware
    # a group whose codec already is the ablation keeps it
    built = build(tmp_path / "c", strategy="semanticnn-nofal", codec="builtin:digits-nofal")
    assert built.evaluators.keys() == {"semantic:builtin:digits-nofal"}


def test_options_can_be_set_from_the_command_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario([group("g", "split-int8")])))
    sc = load_scenario(path, ["devices.0.strategy_options.arq=false"])
    assert sc.devices[0].strategy_options.arq is False


def test_local_on_a_board_too_small_exits_2_with_one_line(tmp_path, capsys):
    board = yaml.safe_load(load_board("stm32l476").path.read_text())
    tiny = copy.deepcopy(board)
    tiny["name"] = "tiny-mcu"
    tiny["sram_kb"]["value"] = 1
    tiny["flash_kb"]["value"] = 16
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    data = scenario([group("g", "local", count=2, board=str(tmp_path / "tiny.yaml"))])
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    assert main(["run", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "tiny-mcu" in err and "flash" in err and "peak RAM" in err and "short by" in err
    assert not (tmp_path / "out" / "summary.json").exists()
