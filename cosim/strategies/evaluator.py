"""Batched semantic evaluation: corrupt delivered payloads with their recorded errors, decode, classify.

Timing never depends on predictions, so delivered inferences wait here and are decoded in batches.
The BER estimate given to the decoder is quantised to 20 steps per decade (like a channel-quality
report); with it, an error-free payload of sample s always gets the same prediction, which is cached
exactly. Any payload-per-sample strategy uses the same evaluator (split int8 features, raw pixels, an
on-device result byte): decoders that ignore the BER estimate set `uses_ber=False`, so their cache is
keyed by the sample alone. A payload that lost frames (on_frame_loss: erase) is decoded with the
symbols those frames carried marked erased (`cosim.codec.erasure`), and never cached.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from cosim.channel.errors import apply_errors
from cosim.codec.erasure import erased_symbols_of_bits
from cosim.inference import Inference

BER_FLOOR = 1e-6
STEPS_PER_DECADE = 20


def quantise_ber(ber: float) -> int:
    """Index of the quantised BER (log10 grid); the decoder sees `dequantise_ber(index)`."""
    return round(math.log10(max(ber, BER_FLOOR)) * STEPS_PER_DECADE)


def dequantise_ber(index: int | np.ndarray) -> float | np.ndarray:
    """BER value of a quantisation index."""
    return np.power(10.0, np.asarray(index, dtype=np.float64) / STEPS_PER_DECADE)


class SemanticEvaluator:
    """Decodes payloads of one codec in batches; hands finished inferences to `sink`.

    `payloads` holds the encoder's packed bits of every sample (encoded once, indexed by sample id);
    `decode(packed, ber_estimate) -> predictions` is the codec's batched decoder + classifier.
    `uses_ber=False`: the decoder ignores the estimate, so error-free payloads are cached per sample.
    `symbols`: (number, bits each) of the payload's symbols, for payloads with lost frames, decoded as
    `decode(packed, ber_estimate, erased=mask)`; None: the decoder cannot take erasures.
    """

    def __init__(
        self,
        payloads: np.ndarray,
        decode: Callable[[np.ndarray, np.ndarray], np.ndarray],
        sink: Callable[[Inference], None],
        batch: int = 256,
        uses_ber: bool = True,
        hold: int = 16_384,
        symbols: tuple[int, int] | None = None,
    ) -> None:
        self.payloads = payloads
        self.decode = decode
        self.sink = sink
        self.batch = batch
        self.uses_ber = uses_ber
        self.symbols = symbols
        self.hold = max(hold, batch)  # most inferences held back for the sink (memory bound at low BER)
        self.pending: list[Inference] = []  # submitted, handed to the sink in this order at a flush
        self.todo: list[Inference] = []  # of which those that need the decoder
        self.todo_q: list[int] = []  # their quantised BER estimates
        self.todo_keys: list[tuple[int, int] | None] = []  # their cache keys (None: corrupted payload)
        self.waiting: dict[tuple[int, int], list[Inference]] = {}  # key in `todo`: later equal payloads
        self.cache: dict[tuple[int, int], int] = {}
        self.decoded = 0
        self.cache_hits = 0

    def submit(self, inf: Inference) -> None:
        """Queue a delivered inference; decode when `batch` payloads miss the cache.

        A cache hit costs a dict lookup, so the decoder only ever sees full batches of payloads it
        has not decoded yet (corrupted ones, and the first error-free one of each sample and BER).
        """
        self.pending.append(inf)
        q = quantise_ber(inf.ber_est)
        if inf.erased_frames == 0:  # on_frame_loss `erase`, no frame lost
            inf.erased_symbols = 0
        if inf.positions is None and inf.erased is None:
            key = (inf.sample, q if self.uses_ber else 0)
            hit = self.cache.get(key)
            if hit is not None:
                inf.pred = hit
                self.cache_hits += 1
            else:
                same = self.waiting.get(key)
                if same is not None:
                    same.append(inf)
                else:
                    self.waiting[key] = []
                    self._need(inf, q, key)
        else:
            self._need(inf, q, None)  # corrupted or partial payloads are never cached
        if len(self.todo) >= self.batch or len(self.pending) >= self.hold:
            self.flush()

    def _need(self, inf: Inference, q: int, key: tuple[int, int] | None) -> None:
        self.todo.append(inf)
        self.todo_q.append(q)
        self.todo_keys.append(key)

    def flush(self) -> None:
        """Decode everything pending and hand it to the sink in submission order."""
        if self.todo:
            todo, keys, qs = self.todo, self.todo_keys, self.todo_q
            self.todo, self.todo_keys, self.todo_q = [], [], []
            samples = np.fromiter((inf.sample for inf in todo), dtype=np.int64, count=len(todo))
            packed = self.payloads[samples]
            rows = [i for i, inf in enumerate(todo) if inf.positions is not None]
            if rows:
                row_of = np.repeat(np.asarray(rows), [len(todo[i].positions) for i in rows])
                pos = np.fromiter((p for i in rows for p in todo[i].positions), dtype=np.int64)
                apply_errors(packed, row_of, pos)
            ber = dequantise_ber(np.asarray(qs, dtype=np.int64))
            erased = self._erased(todo)
            preds = self.decode(packed, ber) if erased is None else self.decode(packed, ber, erased=erased)
            self.decoded += len(todo)
            waiting = self.waiting
            for inf, key, pred in zip(todo, keys, preds.tolist()):
                inf.pred = pred
                if key is not None:
                    self.cache[key] = pred
                    for same in waiting[key]:
                        same.pred = pred
                        self.cache_hits += 1
            waiting.clear()
        if self.pending:
            batch, self.pending = self.pending, []
            sink = self.sink
            for inf in batch:
                sink(inf)

    def _erased(self, todo: list[Inference]) -> np.ndarray | None:
        """The erased-symbol mask (B, num_symbols) of a batch, None if no payload in it lost a frame;
        books each partial payload's `erased_symbols`."""
        rows = [i for i, inf in enumerate(todo) if inf.erased is not None]
        if not rows:
            return None
        if self.symbols is None:
            raise ValueError("payloads with lost frames reached a decoder that cannot take erasures")
        num_symbols, bits = self.symbols
        mask = np.zeros((len(todo), num_symbols), dtype=bool)
        for i in rows:
            mask[i] = erased_symbols_of_bits(num_symbols, bits, todo[i].erased)
            todo[i].erased_symbols = int(mask[i].sum())
        return mask
