"""The data set registry (`list_datasets`, `load_dataset` errors) and the `cosim data` command."""

import argparse

import pytest

from cosim.commands import data as data_command
from cosim.data import DatasetInfo, list_datasets, load_dataset
from cosim.errors import DataError


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cosim")
    data_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_list_datasets_covers_builtins_and_file_sets():
    infos = {i.name: i for i in list_datasets()}
    assert {"digits", "shapes", "mnist", "fashion-mnist", "cifar10"} <= set(infos)
    assert all(isinstance(i, DatasetInfo) for i in infos.values())
    assert not infos["digits"].needs_root and not infos["shapes"].needs_root
    assert infos["mnist"].needs_root and infos["cifar10"].needs_root
    digits = load_dataset("digits")
    assert infos["digits"].image_shape == digits.image_shape
    sizes = (infos["digits"].train_size, infos["digits"].test_size)
    assert sizes == (len(digits.y_train), len(digits.y_test))
    assert infos["digits"].num_classes == digits.num_classes


def test_unknown_name_lists_known_ones():
    with pytest.raises(DataError, match="unknown data set 'nope'; known: digits"):
        load_dataset("nope")


def test_cli_list_prints_table(capsys):
    assert _run(["data", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["name", "shape", "classes"]
    assert any(line.split()[:3] == ["digits", "1x8x8", "10"] for line in lines)
    assert any(line.startswith("cifar10") and " yes " in line for line in lines)


def test_cli_show_digits(capsys):
    assert _run(["data", "show", "digits"]) == 0
    assert "train 1347, test 450" in capsys.readouterr().out


def test_cli_show_file_set_without_root_is_a_data_error():
    with pytest.raises(DataError, match="root"):
        _run(["data", "show", "mnist"])


def test_name_aliases():
    assert load_dataset("Digits") is load_dataset("digits")
    with pytest.raises(DataError, match="'fashion-mnist' is read from files"):
        load_dataset("fashion_mnist")
