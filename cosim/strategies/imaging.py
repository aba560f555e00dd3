"""The raw image: 8-bit pixels or a JPEG file sent bit-exact, the whole model on the edge."""

from __future__ import annotations

import dataclasses
import io

import numpy as np

from cosim.errors import ScenarioError
from cosim.strategies.base import (
    StrategyContext,
    StrategySetup,
    bit_exact_start,
    evaluator,
    register,
    where,
)

MAX_SIZE_PLANS = 64  # `raw` + JPEG: at most this many distinct payload sizes (link plans) per group


def pixels_uint8(x: np.ndarray) -> np.ndarray:
    """Images float32 (N, C, H, W) in [0, 1] as 8-bit pixels uint8 (N, C*H*W), planar C order."""
    return np.clip(np.rint(np.asarray(x, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8).reshape(len(x), -1)


def images_from_pixels(packed: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """8-bit pixels (B, C*H*W) back to float32 images (B, C, H, W) in [0, 1]."""
    return (np.asarray(packed, dtype=np.float32) / np.float32(255.0)).reshape(-1, *shape)


def jpeg_roundtrip(pixels: np.ndarray, shape: tuple[int, int, int], quality: int) -> tuple[np.ndarray, np.ndarray]:
    """(file sizes in bytes (N,), decoded pixels uint8 (N, C*H*W)) of each image as a Pillow JPEG.

    Grey images are saved as mode L, 3-channel ones as RGB (Pillow's default 4:2:0 chroma subsampling);
    `optimize=True` (Huffman tables fitted to the image: the smallest baseline JFIF Pillow writes).
    """
    from PIL import Image

    c, h, w = shape
    if c not in (1, 3):
        raise ValueError(f"JPEG needs 1 or 3 channels, images have {c}")
    sizes = np.empty(len(pixels), dtype=np.int64)
    decoded = np.empty_like(pixels)
    for i, row in enumerate(pixels):
        img = row.reshape(c, h, w)
        pil = Image.fromarray(img[0], "L") if c == 1 else Image.fromarray(img.transpose(1, 2, 0), "RGB")
        buf = io.BytesIO()
        pil.save(buf, format="JPEG", quality=int(quality), optimize=True)
        sizes[i] = buf.tell()
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert(pil.mode), dtype=np.uint8)
        decoded[i] = (back[None] if c == 1 else back.transpose(2, 0, 1)).reshape(-1)
    return sizes, decoded


def bucket_sizes(nbytes: np.ndarray, max_plans: int = MAX_SIZE_PLANS) -> np.ndarray:
    """Sizes rounded up to the smallest multiple g (bytes) giving at most `max_plans` distinct sizes
    (g = 1, i.e. exact, whenever the sizes already take few values). Padding wastes < g bytes."""
    nbytes = np.asarray(nbytes, dtype=np.int64)
    g = 1
    while len(np.unique(-(-nbytes // g))) > max_plans:
        g += 1
    return -(-nbytes // g) * g


@register("raw")
class Raw:
    """The raw image: 8-bit pixels (or a JPEG file, option `jpeg_quality`) sent bit-exact with ARQ;
    the whole uncompressed model runs on the edge.

    JPEG files differ in size per sample: each inference sends its own sample's file. Distinct sizes
    become per-sample variants (one link plan each), rounded up to at most 64 distinct sizes
    (`bucket_sizes`; exact for the bundled data sets' grey 8x8 digits). A corrupted JPEG stream cannot be
    decoded meaningfully, so JPEG requires ARQ; 8-bit pixels may be sent with `arq: false`.
    """

    accepts = frozenset({"arq", "max_retries", "jpeg_quality"})

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        opts, arq, retries, codec = bit_exact_start(self, ctx, codec_spec, group)
        meta = codec.meta
        shape = tuple(meta.image_shape)
        pixels = ctx.cached(("pixels-uint8",), lambda: pixels_uint8(ctx.dataset.x_test))

        def decode(packed: np.ndarray, ber) -> np.ndarray:
            return codec.classify_full(images_from_pixels(packed, shape))

        quality = opts.jpeg_quality
        if quality is None:
            return StrategySetup(
                payload_bits=8 * int(pixels.shape[1]), device_macs=0.0, edge_macs=float(meta.full_model_macs),
                arq=arq, max_retries=retries, evaluator_key=f"raw:{codec_spec}",
                make_evaluator=evaluator(pixels, decode, False),
            )
        if not arq:
            raise ScenarioError(f"{where(group)}: strategy_options.arq: raw with jpeg_quality needs ARQ "
                                f"(a corrupted JPEG stream cannot be decoded)")
        try:
            sizes, decoded = ctx.cached(("jpeg", quality), lambda: jpeg_roundtrip(pixels, shape, quality))
        except ValueError as exc:
            raise ScenarioError(f"{where(group)}: strategy_options.jpeg_quality: {exc}") from None
        # the edge receives the file bit-exact, so what it classifies is the decoded JPEG image
        make = evaluator(decoded, decode, False)
        key = f"raw-jpeg{quality}:{codec_spec}"
        padded = bucket_sizes(sizes)
        levels, variant_of = np.unique(padded, return_inverse=True)
        variants = tuple(StrategySetup(
            payload_bits=8 * int(n), device_macs=0.0, edge_macs=float(meta.full_model_macs), arq=True,
            max_retries=retries, evaluator_key=key, make_evaluator=make, requires_exact=True) for n in levels)
        of_sample = variant_of.astype(np.int64).tolist()
        return dataclasses.replace(
            variants[0], payload_bits=round(8 * float(sizes.mean())), variants=variants,
            choose=lambda ber, sample: of_sample[sample])
