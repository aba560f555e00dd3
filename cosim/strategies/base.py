"""Offloading strategies: what a device computes and sends, and how the edge turns it into a prediction.

A strategy is one registered class; the engine asks it for a `StrategySetup` per device group
(`setup(ctx, codec_spec, group)`) and never changes when a strategy is added.

| strategy | device computes | sends | ARQ default | edge computes |
| --- | --- | --- | --- | --- |
| `semanticnn` | stem + encoder | soft-quantised symbols | no | BER-aware decoder + tail |
| `semanticnn-nofal`, `semanticnn-berunaware` | same, with the shipped ablation checkpoint | | no | |
| `split-int8` | stem | int8 stem features (1 byte each) | yes | tail |
| `raw` | nothing | 8-bit pixels, or the JPEG file | yes | the whole model |
| `local` | the whole model | the class index (8 bits; a detector: 61-byte detections) | yes | nothing |
| `adaptive` | stem + encoder of the variant it picks | that variant's symbols | no | its decoder + tail |

Every payload is per sample and fixed by the data set, so each strategy gives the shared batched
evaluator (`cosim.strategies.evaluator.SemanticEvaluator`) a table of payloads indexed by sample id and a batched
decoder; payload errors of strategies without ARQ are applied to those bytes before decoding.
No strategy adds an application header: the radio's frames carry the PHY/MAC/link headers and CRC.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cosim.errors import CosimError, ScenarioError
from cosim.inference import Inference
from cosim.net.frames import fragment
from cosim.strategies.evaluator import SemanticEvaluator, quantise_ber

DEFAULT_MAX_RETRIES = 7
RESULT_BITS = 8  # `local` sends the class index as one byte (up to 256 classes)
MAX_SIZE_PLANS = 64  # `raw` + JPEG: at most this many distinct payload sizes (link plans) per group


class Evaluator(Protocol):
    """Turns delivered inferences into predictions (in batches) and passes them to a sink."""

    def submit(self, inf: Inference) -> None: ...

    def flush(self) -> None: ...


@dataclass(frozen=True)
class StrategySetup:
    """Everything the engine needs to simulate one group under one strategy."""

    payload_bits: int  # application bits sent per inference
    device_macs: float  # MACs the device runs per inference
    edge_macs: float  # MACs the edge runs per inference (scales the server's service time)
    arq: bool  # ACK and retransmission of frames the receiver does not accept
    evaluator_key: str  # groups with equal keys share one evaluator (and its cache)
    make_evaluator: Callable[[Callable[[Inference], None], int], Evaluator]
    max_retries: int = DEFAULT_MAX_RETRIES  # ARQ retransmissions per frame before the inference is lost
    # The receiver accepts a frame only if its payload is error-free (CRC over the payload). False for
    # SemanticNN: a frame whose header survived is accepted with its payload errors (the decoder's job).
    exact: bool = True
    # The payload is useless unless bit-exact (a JPEG stream): receiver policy `deliver` is refused.
    requires_exact: bool = False
    # Per-inference alternatives (adaptive codec variants; per-sample JPEG sizes), and the policy that
    # picks one from the latest BER estimate the gateway fed back (None before the first report) and
    # the sample id: `choose(ber_report, sample) -> index into variants`.
    variants: tuple[StrategySetup, ...] = ()
    choose: Callable[[float | None, int], int] | None = None

    def all_variants(self) -> tuple[StrategySetup, ...]:
        """The setups a device may use: the variants, or this setup alone."""
        return self.variants or (self,)


class StrategyContext(Protocol):
    """What strategies may ask of the world: the scenario, data set and codecs (loaded once)."""

    scenario: object
    dataset: object

    def codec(self, spec: str): ...

    def encoded(self, spec: str) -> np.ndarray: ...

    def cached(self, key: tuple, make: Callable[[], object]) -> object: ...


# -- helpers shared by the strategies ------------------------------------------------------------
def _where(group) -> str:
    return f"devices '{group.name}'"


def _options(group, name: str, accepts: frozenset[str]):
    """The group's strategy options; ScenarioError if one is set that strategy `name` does not use."""
    opts = group.strategy_options
    unused = sorted(set(opts.model_fields_set) - accepts)
    if unused:
        takes = ", ".join(sorted(accepts)) or "none"
        raise ScenarioError(f"{_where(group)}: strategy_options.{unused[0]}: not used by strategy {name!r} "
                            f"(it takes: {takes})")
    return opts


def _arq(group, opts, default: bool) -> tuple[bool, int]:
    """(ARQ on?, retry limit) from the options and the strategy's default."""
    arq = default if opts.arq is None else bool(opts.arq)
    if opts.max_retries is not None and not arq:
        raise ScenarioError(f"{_where(group)}: strategy_options.max_retries: needs arq: true")
    return arq, DEFAULT_MAX_RETRIES if opts.max_retries is None else int(opts.max_retries)


def _evaluator(payloads: np.ndarray, decode, uses_ber: bool):
    """Factory of the shared batched evaluator over a per-sample payload table."""
    return lambda sink, batch: SemanticEvaluator(payloads, decode, sink, batch, uses_ber=uses_ber)


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


def full_model_footprint(codec) -> tuple[int, int]:
    """(flash bytes, peak activation RAM bytes) of the whole uncompressed model deployed int8.

    Counted from the torch modules like the codec's own device-side figures (`cosim.codec.costs`).
    """
    import torch

    from cosim.codec import costs

    backbone = codec.model.backbone
    x = torch.zeros(1, *codec.meta.image_shape)
    flash = costs.flash_bytes_int8([backbone])
    peak = costs.peak_activation_bytes(backbone, lambda: backbone(x))
    return int(flash), int(peak)


def _classification_only(name: str, meta, group, why: str) -> None:
    """ScenarioError naming the strategy field if the codec is not a classifier."""
    task = getattr(meta, "task", "classification")
    if task != "classification":
        raise ScenarioError(f"{_where(group)}: strategy: {name!r} does not support task {task} ({why}); "
                            f"use semanticnn, split-int8 or raw")


def _load(ctx: StrategyContext, spec: str, group, why: str):
    """ctx.codec(spec), with the group and the reason in the message if it cannot be loaded."""
    try:
        return ctx.codec(spec)
    except ScenarioError:
        raise
    except CosimError as exc:
        raise ScenarioError(f"{_where(group)}: {why}: {exc}") from None


# -- SemanticNN and its ablations ----------------------------------------------------------------
def semantic_setup(ctx: StrategyContext, spec: str, arq: bool = False,
                   max_retries: int = DEFAULT_MAX_RETRIES) -> StrategySetup:
    """A SemanticNN codec's setup: its symbols sent (by default without ARQ), decoded at the edge."""
    codec = ctx.codec(spec)
    meta = codec.meta
    return StrategySetup(
        payload_bits=int(meta.payload_bits),
        device_macs=float(meta.device_macs),
        edge_macs=float(meta.edge_macs),
        arq=arq,
        max_retries=max_retries,
        exact=False,
        evaluator_key=f"semantic:{spec}",
        # a BER-unaware decoder ignores the estimate: cache error-free payloads per sample
        make_evaluator=_evaluator(ctx.encoded(spec), codec.decode_classify, bool(meta.ber_aware)),
    )


class SemanticNN:
    """The SemanticNN codec: soft-quantised symbols sent without ARQ, decoded by the BER-aware decoder.

    Option `arq: true` retransmits frames whose header was lost (no ACK); a frame whose header
    survived is acknowledged with its payload errors, which the decoder tolerates.
    """

    name = "semanticnn"
    accepts = frozenset({"arq", "max_retries"})
    ablation: tuple[str, str] | None = None  # (codec meta flag that must be False, checkpoint suffix)

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        opts = _options(group, self.name, self.accepts)
        arq, retries = _arq(group, opts, default=False)
        return semantic_setup(ctx, self.codec_spec(ctx, codec_spec, group), arq, retries)

    def codec_spec(self, ctx: StrategyContext, codec_spec: str, group) -> str:
        """The checkpoint this strategy runs: the group's codec if it already is the ablation, else
        the shipped ablation of the same data set, `builtin:<dataset>-<suffix>`."""
        if self.ablation is None:
            return codec_spec
        flag, suffix = self.ablation
        meta = _load(ctx, codec_spec, group, "codec").meta
        if not getattr(meta, flag):
            return codec_spec
        spec = f"builtin:{meta.dataset}-{suffix}"
        if getattr(_load(ctx, spec, group, f"strategy {self.name!r} needs its ablation checkpoint").meta, flag):
            raise ScenarioError(f"{_where(group)}: strategy {self.name!r}: codec {spec} has {flag}=true, "
                                f"it is not the ablation")
        return spec


class SemanticNNNoFal(SemanticNN):
    """SemanticNN trained without Feature-augmentation Learning (clean bits only)."""

    name = "semanticnn-nofal"
    ablation = ("fal", "nofal")


class SemanticNNBerUnaware(SemanticNN):
    """SemanticNN whose decoder is not told the BER (a constant channel state)."""

    name = "semanticnn-berunaware"
    ablation = ("ber_aware", "berunaware")


# -- bit-exact baselines -------------------------------------------------------------------------
class SplitInt8:
    """Same split as SemanticNN: the stem's features as int8 bytes (per-tensor scale), bit-exact with ARQ.

    Option `arq: false` sends them unprotected: flipped bits corrupt the bytes the tail decodes.
    """

    name = "split-int8"
    accepts = frozenset({"arq", "max_retries"})

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        opts = _options(group, self.name, self.accepts)
        arq, retries = _arq(group, opts, default=True)
        codec = ctx.codec(codec_spec)
        meta = codec.meta
        feats = ctx.cached(("split-int8", codec_spec), lambda: codec.split_int8(ctx.dataset.x_test))
        return StrategySetup(
            payload_bits=8 * int(feats.shape[1]),
            device_macs=float(meta.full_model_macs - meta.split_int8_edge_macs),  # the stem
            edge_macs=float(meta.split_int8_edge_macs),  # the tail
            arq=arq,
            max_retries=retries,
            evaluator_key=f"split-int8:{codec_spec}",
            make_evaluator=_evaluator(feats, lambda packed, ber: codec.classify_split_int8(packed), False),
        )


class Raw:
    """The raw image: 8-bit pixels (or a JPEG file, option `jpeg_quality`) sent bit-exact with ARQ;
    the whole uncompressed model runs on the edge.

    JPEG files differ in size per sample: each inference sends its own sample's file. Distinct sizes
    become per-sample variants (one link plan each), rounded up to at most 64 distinct sizes
    (`bucket_sizes`; exact for the bundled data sets' grey 8x8 digits). A corrupted JPEG stream cannot be
    decoded meaningfully, so JPEG requires ARQ; 8-bit pixels may be sent with `arq: false`.
    """

    name = "raw"
    accepts = frozenset({"arq", "max_retries", "jpeg_quality"})

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        opts = _options(group, self.name, self.accepts)
        arq, retries = _arq(group, opts, default=True)
        codec = ctx.codec(codec_spec)
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
                make_evaluator=_evaluator(pixels, decode, False),
            )
        if not arq:
            raise ScenarioError(f"{_where(group)}: strategy_options.arq: raw with jpeg_quality needs ARQ "
                                f"(a corrupted JPEG stream cannot be decoded)")
        try:
            sizes, decoded = ctx.cached(("jpeg", quality), lambda: jpeg_roundtrip(pixels, shape, quality))
        except ValueError as exc:
            raise ScenarioError(f"{_where(group)}: strategy_options.jpeg_quality: {exc}") from None
        # the edge receives the file bit-exact, so what it classifies is the decoded JPEG image
        make = _evaluator(decoded, decode, False)
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


class Local:
    """The whole model on the device (int8 flash and peak RAM checked against the board); only the
    predicted class (8 bits) is sent, bit-exact with ARQ. The edge computes nothing.

    A detector sends its detections instead: a fixed 61-byte record (`cosim.detection.wire`)."""

    name = "local"
    accepts = frozenset({"arq", "max_retries"})

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        from cosim.config.profiles import load_board

        opts = _options(group, self.name, self.accepts)
        arq, retries = _arq(group, opts, default=True)
        codec = ctx.codec(codec_spec)
        meta = codec.meta
        if meta.num_classes > 2 ** RESULT_BITS:
            raise ScenarioError(f"{_where(group)}: strategy 'local' sends the class in {RESULT_BITS} bits, "
                                f"codec {codec_spec} has {meta.num_classes} classes")
        board = load_board(group.board)
        flash, peak = ctx.cached(("full-footprint", codec_spec), lambda: full_model_footprint(codec))
        short = []
        if flash > board.flash_kb * 1024:
            short.append(f"flash {flash / 1024:.1f} KiB > {board.flash_kb:g} KiB "
                         f"(short by {flash / 1024 - board.flash_kb:.1f} KiB)")
        if peak > board.sram_kb * 1024:
            short.append(f"peak RAM {peak / 1024:.1f} KiB > {board.sram_kb:g} KiB "
                         f"(short by {peak / 1024 - board.sram_kb:.1f} KiB)")
        if short:
            raise ScenarioError(f"{_where(group)}: strategy 'local': the int8 model of {codec_spec} does not "
                                f"fit board {board.name!r}: {'; '.join(short)}")
        preds = ctx.cached(("full-preds", codec_spec), lambda: codec.classify_full(ctx.dataset.x_test))
        if getattr(meta, "task", "classification") == "detection":
            return _local_detections(codec, codec_spec, preds, arq, retries)
        result = np.asarray(preds, dtype=np.uint8).reshape(-1, 1)  # the byte the device sends

        def decode(packed: np.ndarray, ber) -> np.ndarray:
            return packed[:, 0].astype(np.int64)  # a corrupted byte is a wrong (or invalid) class

        return StrategySetup(
            payload_bits=RESULT_BITS, device_macs=float(meta.full_model_macs), edge_macs=0.0, arq=arq,
            max_retries=retries, evaluator_key=f"local:{codec_spec}", make_evaluator=_evaluator(result, decode, False),
        )


def _local_detections(codec, codec_spec: str, dets: np.ndarray, arq: bool, retries: int) -> StrategySetup:
    """`local` for a detector: the device's detections as fixed-size records, decoded by the edge."""
    from cosim.detection.wire import pack_detections, unpack_detections

    meta = codec.meta
    hw = tuple(meta.image_shape[1:])
    payloads = pack_detections(dets, hw)

    def decode(packed: np.ndarray, ber) -> np.ndarray:
        return unpack_detections(packed, hw, meta.num_classes)

    return StrategySetup(
        payload_bits=8 * int(payloads.shape[1]), device_macs=float(meta.full_model_macs), edge_macs=0.0, arq=arq,
        max_retries=retries, evaluator_key=f"local:{codec_spec}", make_evaluator=_evaluator(payloads, decode, False),
    )


# -- BER-adaptive choice among codec variants ----------------------------------------------------
ADAPTIVE_BERS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)  # grid of the accuracy tables
ADAPTIVE_REALISATIONS = 3  # error draws per grid BER
ADAPTIVE_SEED = 0
_TABLES: dict[tuple, tuple[float, ...]] = {}  # exact memo across runs: keyed by the checkpoint's hash


def accuracy_table(ctx: StrategyContext, spec: str, bers: tuple[float, ...] = ADAPTIVE_BERS) -> tuple[float, ...]:
    """Accuracy of codec `spec` on the test split at each BER (payload bit flips, the decoder told the
    BER), mean over `ADAPTIVE_REALISATIONS` seeded draws; measured once per checkpoint and process."""
    from cosim.codec.evaluate import accuracy_under_errors

    codec = ctx.codec(spec)
    y = np.asarray(ctx.dataset.y_test, dtype=np.int64)
    key = (spec, codec.meta.sha256, ctx.dataset.name, len(y), bers, ADAPTIVE_REALISATIONS, ADAPTIVE_SEED)
    if key not in _TABLES:
        payloads = ctx.encoded(spec)
        _TABLES[key] = tuple(
            accuracy_under_errors(codec.decode_classify, payloads, y, codec.meta.payload_bits, b,
                                  ADAPTIVE_REALISATIONS, ADAPTIVE_SEED, stream=0).mean
            for b in bers)
    return _TABLES[key]


class AdaptivePolicy:
    """Cheapest variant whose predicted accuracy at the reported BER meets the target.

    Predicted accuracy of variant v at BER b = P(no frame lost to a header error) x codec accuracy:
    (1 - b)^(header bits x frames of v) x table_v(b), the table interpolated linearly in log10(BER)
    between grid points (BER 0 placed at 1e-6, the estimate's floor; clamped at the ends). Cost = the
    device energy of one error-free transmission (`cosim.node.energy.EnergyModel.error_free_mj`, the
    engine's own per-inference costs). No variant meets
    the target: the one with the highest predicted accuracy at b. No report yet: the most robust one
    (highest predicted accuracy at the grid's largest BER). The choice is precomputed for every BER
    estimate quantisation step (`cosim.strategies.evaluator.quantise_ber`), so a device's choice costs one lookup.
    """

    def __init__(self, bers: tuple[float, ...], tables: list[tuple[float, ...]], header_bits: list[int],
                 energy_mj: list[float], target: float) -> None:
        self.bers = bers
        self.tables = [np.asarray(t, dtype=np.float64) for t in tables]
        self.header_bits = header_bits
        self.energy_mj = energy_mj
        self.target = target
        self._log_grid = np.log10(np.maximum(np.asarray(bers, dtype=np.float64), 1e-6))
        self.order = sorted(range(len(tables)), key=lambda v: (energy_mj[v], v))  # cheapest first
        self.robust = self._best(bers[-1])
        lo, hi = quantise_ber(0.0), quantise_ber(0.5)
        self._lo = lo
        self._lookup = [self.choice(10.0 ** (q / 20.0)) for q in range(lo, hi + 1)]

    def predicted_accuracy(self, v: int, ber: float) -> float:
        """Expected accuracy of variant v at `ber`: header survival x interpolated codec accuracy."""
        acc = float(np.interp(np.log10(max(ber, 1e-6)), self._log_grid, self.tables[v]))
        return (1.0 - min(ber, 1.0)) ** self.header_bits[v] * acc

    def _best(self, ber: float) -> int:
        return max(self.order, key=lambda v: (self.predicted_accuracy(v, ber), -self.order.index(v)))

    def choice(self, ber: float) -> int:
        """The variant for a reported BER (exact, not via the lookup)."""
        for v in self.order:
            if self.predicted_accuracy(v, ber) >= self.target:
                return v
        return self._best(ber)

    def choose(self, ber: float | None, sample: int) -> int:
        """The engine's per-inference hook: the precomputed choice at the quantised reported BER."""
        if ber is None:
            return self.robust
        q = min(max(quantise_ber(ber), self._lo), self._lo + len(self._lookup) - 1)
        return self._lookup[q - self._lo]


class Adaptive:
    """Per inference, the device picks a SemanticNN variant (e.g. 1, 2, 3, 4 bits per symbol) from the
    BER the gateway last fed back, minimising energy subject to `accuracy_target` (`AdaptivePolicy`).

    Options: `accuracy_target` (required), `variants` (codec specs; default builtin:<dataset>-b1, -b2,
    the group's codec, -b4). Sent without ARQ (the policy trades bits for robustness instead).
    """

    name = "adaptive"
    accepts = frozenset({"accuracy_target", "variants"})

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        from cosim.config.profiles import load_board, load_radio
        from cosim.node.energy import EnergyModel

        opts = _options(group, self.name, self.accepts)
        _classification_only(self.name, _load(ctx, codec_spec, group, "codec").meta, group,
                             "its policy is built on accuracy tables")
        if opts.accuracy_target is None:
            raise ScenarioError(f"{_where(group)}: strategy_options.accuracy_target: required by strategy "
                                f"'adaptive'")
        specs = opts.variants
        if specs is None:
            ds = ctx.dataset.name
            specs = (f"builtin:{ds}-b1", f"builtin:{ds}-b2", codec_spec, f"builtin:{ds}-b4")
        for spec in specs:
            _load(ctx, spec, group, "strategy_options.variants")
        setups = [semantic_setup(ctx, spec) for spec in specs]
        board, radio = load_board(group.board), load_radio(group.radio)
        est = ctx.scenario.ber_estimate
        pilot_bits = est.pilot_bits if est.kind == "pilot" else 0
        plans = [fragment(s.payload_bits, radio, pilot_bits) for s in setups]
        model = EnergyModel.of(board, radio, group.sense, arq=False)
        energy = [model.error_free_mj(s.device_macs, p.airtime_s) for s, p in zip(setups, plans)]
        policy = AdaptivePolicy(ADAPTIVE_BERS, [accuracy_table(ctx, spec) for spec in specs],
                                [p.header_bits * p.n_frames for p in plans], energy, float(opts.accuracy_target))
        return dataclasses.replace(setups[policy.robust], variants=tuple(setups), choose=policy.choose)


STRATEGIES: dict[str, type] = {
    cls.name: cls for cls in (SemanticNN, SemanticNNNoFal, SemanticNNBerUnaware, SplitInt8, Raw, Local, Adaptive)
}


def get_strategy(name: str):
    """An instance of the registered strategy `name` (KeyError lists the known names)."""
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}") from None
