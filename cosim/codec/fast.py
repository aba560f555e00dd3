"""Inference-only rewrites of transposed convolutions into faster, mathematically equal forms.

CPU kernels for transposed convolutions are slow per MAC. A stride-1 transposed conv equals a conv with
the kernel flipped and in/out channels swapped; a k x k stride-k one (non-overlapping) equals a matmul to
k*k*Cout channels followed by a pixel shuffle. MACs are always counted on the original modules.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PatchUpsample(nn.Module):
    """Equivalent of ConvTranspose2d(cin, cout, k, stride=k): per-pixel matmul then pixel shuffle."""

    def __init__(self, deconv: nn.ConvTranspose2d) -> None:
        super().__init__()
        k = deconv.kernel_size[0]
        cin, cout = deconv.in_channels, deconv.out_channels
        # weight (cin, cout, a, b) -> rows ordered (a, b, cout), so outputs land channels-last
        self.register_buffer("weight", deconv.weight.detach().permute(2, 3, 1, 0).reshape(k * k * cout, cin)
                             .contiguous())
        bias = deconv.bias.detach() if deconv.bias is not None else torch.zeros(cout)
        self.register_buffer("bias", bias.repeat(k * k).contiguous())
        self.k = k
        self.cout = cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upsampled output (B, cout, k*H, k*W) in channels_last memory format."""
        n, _, h, w = x.shape
        k = self.k
        y = F.linear(x.permute(0, 2, 3, 1), self.weight, self.bias)  # (n, h, w, k*k*cout)
        y = y.view(n, h, w, k, k, self.cout).permute(0, 1, 3, 2, 4, 5).reshape(n, h * k, w * k, self.cout)
        return y.permute(0, 3, 1, 2)


def conv_from_deconv(deconv: nn.ConvTranspose2d) -> nn.Conv2d:
    """The Conv2d equal to a stride-1, dilation-1, groups-1 transposed conv."""
    k = deconv.kernel_size
    pad = (k[0] - 1 - deconv.padding[0], k[1] - 1 - deconv.padding[1])
    conv = nn.Conv2d(deconv.in_channels, deconv.out_channels, k, 1, pad, bias=deconv.bias is not None)
    with torch.no_grad():
        conv.weight.copy_(deconv.weight.transpose(0, 1).flip(2, 3))
        if deconv.bias is not None:
            conv.bias.copy_(deconv.bias)
    return conv.eval()


def _fast(deconv: nn.ConvTranspose2d) -> nn.Module:
    """The fastest equal replacement of one transposed conv (itself if no rewrite applies)."""
    plain = deconv.groups == 1 and deconv.dilation == (1, 1) and deconv.output_padding == (0, 0)
    k, s, p = deconv.kernel_size, deconv.stride, deconv.padding
    if plain and s == (1, 1) and p[0] <= k[0] - 1 and p[1] <= k[1] - 1:
        return conv_from_deconv(deconv)
    if plain and k[0] == k[1] == s[0] == s[1] and p == (0, 0):
        return PatchUpsample(deconv).eval()
    return deconv


def optimise_for_inference(root: nn.Module) -> nn.Module:
    """Replace, in place, every transposed conv under `root` by its fast equivalent, and put the
    weights in channels_last memory format (feed it channels_last inputs); returns `root`."""
    _replace(root)
    return root.to(memory_format=torch.channels_last)


def _replace(root: nn.Module) -> None:
    for name, child in list(root.named_children()):
        if isinstance(child, nn.ConvTranspose2d):
            setattr(root, name, _fast(child))
        else:
            _replace(child)
