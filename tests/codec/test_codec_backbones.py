"""Standard backbones: torchvision layouts (parameter counts, key names), the split, weights loading."""

import pytest
import torch

from cosim.codec.backbones import BACKBONE_BUILDERS, load_weights_into
from cosim.codec.int8 import Int8Device, calibrate
from cosim.codec.model import CodecConfig, SplitModel, build_backbone
from cosim.errors import CheckpointError

torch.set_num_threads(1)

# torchvision's published parameter counts (1000 classes): resnet18 11,689,512; resnet50 25,557,032;
# mobilenet_v2 3,504,872 (torchvision.models documentation, "Table of all available weights").
TORCHVISION_PARAMS = {"resnet18": 11_689_512, "resnet50": 25_557_032, "mobilenet_v2": 3_504_872}
SOME_KEYS = {
    "resnet18": ("conv1.weight", "bn1.running_var", "layer1.0.conv2.weight", "layer2.0.downsample.0.weight",
                 "layer4.1.bn2.num_batches_tracked", "fc.bias"),
    "resnet50": ("layer1.0.conv3.weight", "layer1.0.downsample.1.running_mean", "layer4.2.bn3.weight"),
    "mobilenet_v2": ("features.0.0.weight", "features.0.1.running_mean", "features.1.conv.0.0.weight",
                     "features.1.conv.1.weight", "features.2.conv.3.running_var", "features.18.1.weight",
                     "classifier.1.weight"),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_torchvision_layout(name):
    tv, stem, tail = BACKBONE_BUILDERS.get(name)(3, 1000)
    assert sum(p.numel() for p in tv.parameters()) == TORCHVISION_PARAMS[name]
    keys = set(tv.state_dict())
    assert set(SOME_KEYS[name]) <= keys
    # the split is the same modules: stem + tail hold every weight exactly once
    split = list(stem.parameters()) + list(tail.parameters())
    assert {id(p) for p in split} == {id(p) for p in tv.parameters()} and len(split) == len(set(map(id, split)))


def test_split_after_the_stem():
    resnet = build_backbone("resnet18", (3, 64, 64), 6).eval()
    mobile = build_backbone("mobilenet_v2", (3, 64, 64), 6).eval()
    x = torch.rand(2, 3, 64, 64)
    assert resnet.stem(x).shape == (2, 64, 16, 16)  # conv 7x7/2 + max-pool /2: 64 channels at 1/4
    assert mobile.stem(x).shape == (2, 32, 32, 32)  # features[0]: 32 channels at 1/2
    assert resnet(x).shape == mobile(x).shape == (2, 6)


def test_torchvision_state_dict_file_loads_and_reproduces_outputs(tmp_path):
    torch.manual_seed(0)
    tv, _stem, _tail = BACKBONE_BUILDERS.get("resnet18")(3, 6)
    for m in tv.modules():  # non-trivial BN statistics so that a wrong mapping shows
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    path = tmp_path / "resnet18.pth"
    torch.save(tv.state_dict(), path)
    backbone = build_backbone("resnet18", (3, 32, 32), 6)
    assert load_weights_into("resnet18", backbone, 3, 6, path) == []
    x = torch.rand(2, 3, 32, 32)
    tv.eval(), backbone.eval()
    from cosim.codec.backbones import Normalize
    h = Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))(x)
    h = tv.maxpool(tv.relu(tv.bn1(tv.conv1(h))))
    for layer in (tv.layer1, tv.layer2, tv.layer3, tv.layer4):
        h = layer(h)
    expected = tv.fc(torch.flatten(tv.avgpool(h), 1))
    assert torch.allclose(backbone(x), expected, atol=1e-5)


def test_other_class_count_skips_only_the_head(tmp_path):
    tv, _, _ = BACKBONE_BUILDERS.get("mobilenet_v2")(3, 1000)
    path = tmp_path / "mnv2.pth"
    torch.save(tv.state_dict(), path)
    backbone = build_backbone("mobilenet_v2", (3, 32, 32), 10)
    assert load_weights_into("mobilenet_v2", backbone, 3, 10, path) == ["classifier.1.weight", "classifier.1.bias"]
    assert torch.equal(backbone.stem[1].weight, tv.features[0][0].weight)


def test_bad_weight_files_are_checkpoint_errors(tmp_path):
    backbone = build_backbone("resnet18", (3, 32, 32), 6)
    with pytest.raises(CheckpointError, match="no such weights file"):
        load_weights_into("resnet18", backbone, 3, 6, tmp_path / "none.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="not a readable torch weights file"):
        load_weights_into("resnet18", backbone, 3, 6, junk)
    tv, _, _ = BACKBONE_BUILDERS.get("mobilenet_v2")(3, 6)
    wrong = tmp_path / "wrong.pth"
    torch.save(tv.state_dict(), wrong)
    with pytest.raises(CheckpointError, match="lack 'conv1.weight'"):
        load_weights_into("resnet18", backbone, 3, 6, wrong)


def test_standard_backbone_codec_with_int8_device():
    torch.manual_seed(0)
    model = SplitModel(CodecConfig(name="m", dataset="scenes", backbone="mobilenet_v2", image_shape=(3, 64, 64),
                                   num_classes=6, channels=8, kernel=4, decoder_width=8)).eval()
    assert model.symbol_shape() == (8, 8, 8)
    x = torch.rand(16, 3, 64, 64)
    device = Int8Device(model.backbone.stem, model.encoder, calibrate(model.backbone.stem, model.encoder, x))
    with torch.no_grad():
        ref = model.encoder(model.backbone.stem(x))
        out = device(x)
    assert float((out - ref).pow(2).mean() / ref.pow(2).mean()) < 1e-2
