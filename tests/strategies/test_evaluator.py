"""The batched evaluator: the decoder sees full batches of cache misses only; results stay exact."""

from __future__ import annotations

import random

import numpy as np

from cosim.inference import Inference
from cosim.strategies.evaluator import SemanticEvaluator, quantise_ber

PAYLOAD_BYTES = 4


def fake_decode(calls: list[int]):
    """A decoder whose prediction is a function of the payload bytes and the BER it is told."""

    def decode(packed: np.ndarray, ber: np.ndarray) -> np.ndarray:
        calls.append(len(packed))
        q = np.round(np.log10(ber) * 20).astype(np.int64)
        return (packed.astype(np.int64).sum(axis=1) * 7 + q) % 1000

    return decode


def stream(n: int, seed: int = 0) -> list[Inference]:
    """Inferences of 20 samples at 3 BER estimates, a fifth of them with payload errors."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        inf = Inference(0, 0, rng.randrange(20), 0, float(i))
        inf.ber_est = rng.choice([1e-5, 1e-3, 1e-2])
        if rng.random() < 0.2:
            inf.positions = sorted(rng.sample(range(PAYLOAD_BYTES * 8), rng.randint(1, 3)))
        out.append(inf)
    return out


def expected_pred(payloads: np.ndarray, inf: Inference) -> int:
    row = payloads[inf.sample].copy()
    for p in inf.positions or ():
        row[p // 8] ^= 0x80 >> (p % 8)
    q = quantise_ber(inf.ber_est)
    return (int(row.astype(np.int64).sum()) * 7 + q) % 1000


def test_decoder_sees_full_batches_of_misses_and_the_sink_gets_submission_order():
    payloads = np.random.default_rng(1).integers(0, 256, (20, PAYLOAD_BYTES), dtype=np.uint8)
    infs = stream(3000)
    calls: list[int] = []
    got: list[Inference] = []
    ev = SemanticEvaluator(payloads, fake_decode(calls), got.append, batch=16)
    for inf in infs:
        ev.submit(inf)
    ev.flush()
    assert got == infs  # same objects, same order
    assert [inf.pred for inf in got] == [expected_pred(payloads, inf) for inf in infs]
    assert all(c == 16 for c in calls[:-1]) and 0 < calls[-1] <= 16
    corrupted = sum(inf.positions is not None for inf in infs)
    clean_keys = {(inf.sample, quantise_ber(inf.ber_est)) for inf in infs if inf.positions is None}
    assert ev.decoded == sum(calls) == corrupted + len(clean_keys)  # each clean payload decoded once
    assert ev.cache_hits == len(infs) - ev.decoded


def test_predictions_do_not_depend_on_the_batch_size():
    payloads = np.random.default_rng(2).integers(0, 256, (20, PAYLOAD_BYTES), dtype=np.uint8)
    preds = []
    for batch in (1, 7, 256):
        got: list[Inference] = []
        ev = SemanticEvaluator(payloads, fake_decode([]), got.append, batch=batch)
        for inf in stream(500, seed=3):
            ev.submit(inf)
        ev.flush()
        preds.append([inf.pred for inf in got])
    assert preds[0] == preds[1] == preds[2]


def test_held_inferences_are_bounded_when_everything_hits_the_cache():
    payloads = np.zeros((1, PAYLOAD_BYTES), dtype=np.uint8)
    got: list[Inference] = []
    ev = SemanticEvaluator(payloads, fake_decode([]), got.append, batch=256, hold=300)
    for i in range(1000):
        ev.submit(Inference(0, 0, 0, 0, float(i)))
        assert len(ev.pending) < 300
    ev.flush()
    assert len(got) == 1000 and ev.decoded == 1
