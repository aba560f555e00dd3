"""Checkpoints: round trip; corrupt, truncated, foreign or tampered files give CheckpointError / exit 2."""

import fractions

import numpy as np
import pytest
import torch

from cosim.cli import main
from cosim.codec.checkpoint import load_codec, read_checkpoint, save_checkpoint
from cosim.codec.model import CodecConfig, SplitModel
from cosim.errors import CheckpointError

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    torch.manual_seed(0)
    model = SplitModel(CodecConfig(name="tiny", dataset="digits", backbone="small-cnn",
                                   image_shape=(1, 8, 8), num_classes=10, decoder_width=8)).eval()
    path = tmp_path_factory.mktemp("ck") / "tiny.pt"
    save_checkpoint(path, model, {"epochs": 1}, {"test_accuracy_by_ber": {"0": 0.1}})
    return path, model


def test_round_trip(ckpt):
    path, model = ckpt
    data = read_checkpoint(path)
    assert data.config == model.config
    assert data.train_config == {"epochs": 1}
    for k, v in model.state_dict().items():
        assert torch.equal(data.state_dict[k], v)
    codec = load_codec(path)
    assert codec.meta.name == "tiny" and len(codec.meta.sha256) == 64
    x = np.random.default_rng(0).random((10, 1, 8, 8), dtype=np.float32)
    packed = codec.encode(x)
    assert packed.shape == (10, codec.meta.payload_bytes)
    assert np.array_equal(packed, load_codec(path).encode(x))  # deterministic across loads
    preds = codec.decode_classify(packed, np.zeros(10))
    per_sample = [codec.decode_classify(packed[i:i + 1], 0.0)[0] for i in range(10)]
    assert preds.dtype == np.int64 and np.array_equal(preds, per_sample)


def _bad_files(tmp_path, good):
    raw = good.read_bytes()
    files = {
        "truncated": raw[: len(raw) // 2],
        "corrupt": raw[:100] + bytes(256) + raw[356:],
        "text": b"hello, I am not a checkpoint\n",
        "empty": b"",
    }
    out = {}
    for name, content in files.items():
        p = tmp_path / f"{name}.pt"
        p.write_bytes(content)
        out[name] = p
    objects = tmp_path / "objects.pt"
    torch.save({"format": "cosim-semanticnn-codec", "x": fractions.Fraction(1, 3)}, objects)
    out["objects"] = objects  # a pickle with arbitrary globals is refused, never unpickled
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    out["foreign"] = foreign
    tampered = tmp_path / "tampered.pt"
    payload = torch.load(good, weights_only=True)
    key = next(iter(payload["state_dict"]))
    payload["state_dict"][key] = payload["state_dict"][key] + 1
    torch.save(payload, tampered)
    out["tampered"] = tampered
    return out


def test_bad_files_raise_checkpoint_error_naming_the_file(ckpt, tmp_path):
    for name, path in _bad_files(tmp_path, ckpt[0]).items():
        with pytest.raises(CheckpointError) as err:
            load_codec(path)
        assert str(path) in str(err.value), name
    with pytest.raises(CheckpointError, match="no such"):
        load_codec(tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match="builtin:nope"):
        load_codec("builtin:nope")


def test_cli_eval_bad_checkpoint_exit_2_one_line(ckpt, tmp_path, capsys):
    for name, path in _bad_files(tmp_path, ckpt[0]).items():
        assert main(["codec", "eval", str(path)]) == 2, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("cosim: error:") and str(path) in err
