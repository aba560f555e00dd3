"""Standard backbones, split after the stem as SemanticNN does: ResNet-18, ResNet-50, MobileNetV2.

The definitions follow torchvision's (`torchvision.models.resnet18/resnet50/mobilenet_v2`, v0.13+)
layer for layer and name for name, so the state dict of a torchvision model (a weights file the user
gives; nothing is downloaded, torchvision is not needed) loads into them: `load_torchvision_weights`
reads it with `torch.load(weights_only=True)` and maps each torchvision key onto the split model.

Split points (the device runs the stem): ResNet: conv1, bn1, relu, maxpool (64 channels at 1/4 of
the input side, as the authors split ResNet-50); MobileNetV2: features[0] (3x3 stride-2 conv, BN,
ReLU6; 32 channels at 1/2). The stem starts with the ImageNet mean/std normalisation torchvision's
weights expect (no parameters; the int8 device side quantises its output, see `int8.py`).

`BACKBONE_BUILDERS` is the `cosim.registry.Registry("backbone")` of these definitions: a plug-in
package adds one under the `cosim.backbones` entry-point group (a builder (in_channels, num_classes) ->
(torchvision-layout module, stem, tail)).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from cosim.errors import CheckpointError
from cosim.registry import Registry

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Builder = Callable[[int, int], "tuple[nn.Module, nn.Sequential, nn.Sequential]"]
BACKBONE_BUILDERS: Registry[Builder] = Registry("backbone")
register = BACKBONE_BUILDERS.register


class Normalize(nn.Module):
    """(x - mean) / std per channel; constants, not weights (kept out of the state dict)."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised images."""
        return (x - self.mean) / self.std


def _imagenet_normalize(in_channels: int) -> Normalize:
    if in_channels == 3:
        return Normalize(IMAGENET_MEAN, IMAGENET_STD)
    return Normalize((0.5,) * in_channels, (0.25,) * in_channels)


# --- ResNet (torchvision.models.resnet) -----------------------------------------------------------

class TVBasicBlock(nn.Module):
    """torchvision's BasicBlock: conv1, bn1, relu, conv2, bn2, optional downsample."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual forward pass."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class TVBottleneck(nn.Module):
    """torchvision's Bottleneck (stride on the 3x3 conv, "ResNet v1.5"): 1x1, 3x3, 1x1 (x4)."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual forward pass."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class TVResNet(nn.Module):
    """torchvision's ResNet with its attribute names (conv1, bn1, relu, maxpool, layer1-4, avgpool, fc)."""

    def __init__(self, block: type, layers: tuple[int, int, int, int], in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._layer(block, 64, layers[0], 1)
        self.layer2 = self._layer(block, 128, layers[1], 2)
        self.layer3 = self._layer(block, 256, layers[2], 2)
        self.layer4 = self._layer(block, 512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _layer(self, block: type, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        out = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        out += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*out)


def _split_resnet(tv: TVResNet, in_channels: int) -> tuple[nn.Module, nn.Sequential, nn.Sequential]:
    stem = nn.Sequential(_imagenet_normalize(in_channels), tv.conv1, tv.bn1, nn.ReLU(), tv.maxpool)
    tail = nn.Sequential(tv.layer1, tv.layer2, tv.layer3, tv.layer4, tv.avgpool, nn.Flatten(), tv.fc)
    return tv, stem, tail


@register("resnet18")
def resnet18(in_channels: int, num_classes: int) -> tuple[nn.Module, nn.Sequential, nn.Sequential]:
    """torchvision ResNet-18 (BasicBlock x [2, 2, 2, 2])."""
    return _split_resnet(TVResNet(TVBasicBlock, (2, 2, 2, 2), in_channels, num_classes), in_channels)


@register("resnet50")
def resnet50(in_channels: int, num_classes: int) -> tuple[nn.Module, nn.Sequential, nn.Sequential]:
    """torchvision ResNet-50 (Bottleneck x [3, 4, 6, 3])."""
    return _split_resnet(TVResNet(TVBottleneck, (3, 4, 6, 3), in_channels, num_classes), in_channels)


# --- MobileNetV2 (torchvision.models.mobilenetv2) -------------------------------------------------

def _conv_bn_relu6(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """torchvision's Conv2dNormActivation(norm=BatchNorm2d, activation=ReLU6): keys 0 (conv), 1 (bn)."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class TVInvertedResidual(nn.Module):
    """torchvision's InvertedResidual: `conv` = [expand 1x1] + depthwise 3x3 + linear 1x1 + BN."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = round(cin * expand)
        self.use_res_connect = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn_relu6(cin, hidden, 1))
        layers += [_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Inverted residual forward pass."""
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class TVMobileNetV2(nn.Module):
    """torchvision's MobileNetV2 (width 1.0): `features` (19 blocks) and `classifier` (dropout, linear)."""

    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1))

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        features: list[nn.Module] = [_conv_bn_relu6(in_channels, 32, 3, 2)]
        cin = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                features.append(TVInvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        features.append(_conv_bn_relu6(cin, 1280, 1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)


@register("mobilenet_v2")
def mobilenet_v2(in_channels: int, num_classes: int) -> tuple[nn.Module, nn.Sequential, nn.Sequential]:
    """torchvision MobileNetV2, split after features[0]."""
    tv = TVMobileNetV2(in_channels, num_classes)
    first = tv.features[0]
    stem = nn.Sequential(_imagenet_normalize(in_channels), first[0], first[1], nn.ReLU6())
    tail = nn.Sequential(*tv.features[1:], nn.AdaptiveAvgPool2d(1), nn.Flatten(), tv.classifier)
    return tv, stem, tail


# --- weights --------------------------------------------------------------------------------------

def torchvision_key_map(tv: nn.Module, split: nn.Module) -> dict[str, str]:
    """torchvision state-dict key -> key in `split` (matched by tensor identity: the same modules)."""
    by_id = {id(t): k for k, t in split.state_dict(keep_vars=True).items()}
    return {k: by_id[id(t)] for k, t in tv.state_dict(keep_vars=True).items() if id(t) in by_id}


def load_torchvision_weights(name: str, split: nn.Module, tv: nn.Module, path: str | Path) -> list[str]:
    """Load a torchvision state dict file into `split` (built with `tv`); returns the keys skipped.

    Read with `torch.load(weights_only=True)`. Every key must exist with the same shape, except the
    classifier (`fc.*` / `classifier.1.*`), which is skipped when the class count differs (the caller
    trains a new one). CheckpointError naming the file otherwise.
    """
    path = Path(path).expanduser()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such weights file") from None
    except Exception as exc:  # noqa: BLE001 - corrupt/foreign files raise many types
        raise CheckpointError(f"{path}: not a readable torch weights file (plain tensors only): "
                              f"{str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__}"
                              ) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a state dict of tensors ({name} weights)")
    mapping = torchvision_key_map(tv, split)
    target = split.state_dict()
    head = ("fc.", "classifier.1.")
    skipped, converted = [], {}
    for key, mapped in mapping.items():
        if key not in state:
            raise CheckpointError(f"{path}: {name} weights lack {key!r} (not a torchvision {name} state dict?)")
        value = state[key]
        if value.shape != target[mapped].shape:
            if key.startswith(head):
                skipped.append(key)
                continue
            raise CheckpointError(f"{path}: {key!r} has shape {tuple(value.shape)}, {name} needs "
                                  f"{tuple(target[mapped].shape)}")
        converted[mapped] = value
    extra = sorted(set(state) - set(mapping))
    if extra:
        raise CheckpointError(f"{path}: keys foreign to torchvision {name}: {', '.join(extra[:3])}")
    split.load_state_dict(converted, strict=False)
    return skipped


class _Split(nn.Module):
    """Container with the `stem` / `tail` attribute names of `cosim.codec.model.Backbone`."""

    def __init__(self, stem: nn.Sequential, tail: nn.Sequential) -> None:
        super().__init__()
        self.stem = stem
        self.tail = tail


def build_split(name: str, in_channels: int, num_classes: int) -> tuple[nn.Sequential, nn.Sequential]:
    """(stem, tail) of registered backbone `name`."""
    _, stem, tail = BACKBONE_BUILDERS.get(name, "backbone")(in_channels, num_classes)
    return stem, tail


def load_weights_into(name: str, backbone: nn.Module, in_channels: int, num_classes: int,
                      path: str | Path) -> list[str]:
    """Load torchvision weights file `path` into `backbone` (a `Backbone` of `name`); keys skipped."""
    tv, stem, tail = BACKBONE_BUILDERS.get(name, "backbone")(in_channels, num_classes)
    split = _Split(stem, tail)
    skipped = load_torchvision_weights(name, split, tv, path)
    kept = {k: v for k, v in split.state_dict().items()}
    if skipped:  # a new classifier: keep the backbone's own (freshly initialised) head
        own = backbone.state_dict()
        for key in skipped:
            mapped = torchvision_key_map(tv, split)[key]
            kept[mapped] = own[mapped]
    backbone.load_state_dict(kept)
    return skipped
