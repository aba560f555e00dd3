"""Erased symbols: byte ranges to symbols, training with frame losses, decoding partial payloads."""

import numpy as np
import pytest
import torch

from cosim.codec.erasure import erased_symbols, frame_byte_ranges, random_frame_erasures
from cosim.codec.evaluate import evaluate_erasures
from cosim.codec.service import Codec
from cosim.codec.train import TrainConfig, train_codec
from cosim.data import load_dataset

torch.set_num_threads(1)


def test_erased_symbols_follow_the_bit_order():
    # 3-bit symbols: symbol 2 spans bits 6..8 = bytes 0 and 1; symbol 5 spans bits 15..17 = bytes 1, 2
    assert np.flatnonzero(erased_symbols(8, 3, [(1, 2)])).tolist() == [2, 3, 4, 5]
    assert np.flatnonzero(erased_symbols(8, 3, [(0, 1)])).tolist() == [0, 1, 2]
    assert not erased_symbols(8, 3, [(3, 3)]).any()
    assert frame_byte_ranges(10, 3) == [(0, 3), (3, 7), (7, 10)]


def test_random_frame_erasures_rate():
    mask = random_frame_erasures(2000, 40, 3, 4, 0.25, torch.Generator().manual_seed(0))
    assert mask.shape == (2000, 40)
    frame0 = mask[:, 0]  # symbol 0 is in frame 0 only
    assert abs(float(frame0.float().mean()) - 0.25) < 0.04


def test_erasure_trained_codec_decodes_partial_payloads_better_than_losing_them():
    cfg = TrainConfig(dataset="digits", pretrain_epochs=8, epochs=6, max_train_samples=600, augment=False,
                      decoder_width=16, xai=False, seed=1, erasure_frames=4)
    model = train_codec(cfg).model
    assert model.config.erasures
    codec = Codec(model, name="erasing")
    data = load_dataset("digits")
    ev = evaluate_erasures(codec, data.x_test, data.y_test, frames=4, loss_probs=(0.0, 0.3), realisations=2)
    assert ev.erased[0].mean == pytest.approx(ev.whole_inference_lost[0].mean)  # no loss: identical
    # at p = 0.3, 1 - 0.7^4 = 76 % of inferences lose a frame: decoding the rest keeps far more
    assert ev.erased[1].mean > ev.whole_inference_lost[1].mean + 0.2
    with pytest.raises(ValueError, match="erased must be"):
        codec.decode_classify(codec.encode(data.x_test[:2]), 0.0, erased=np.zeros((2, 3), bool))


def test_lost_frames_erase_the_symbols_they_carry_hand_worked():
    """7 symbols of 3 bits (21 payload bits) in frames of 8, 8 and 5 bits (the last short):
    frame 0 = bits 0-7, frame 1 = bits 8-15, frame 2 = bits 16-20. Symbol i = bits 3i..3i+2, so
    symbol 2 (bits 6-8) straddles frames 0/1 and symbol 5 (bits 15-17) frames 1/2."""
    from cosim.codec.erasure import erased_symbols_of_bits
    from cosim.net.frames import payload_bit_ranges

    frames = (8, 8, 5)
    assert payload_bit_ranges(frames, [0]) == [(0, 8)]
    assert payload_bit_ranges(frames, [1]) == [(8, 16)]
    assert payload_bit_ranges(frames, [2]) == [(16, 21)]
    assert payload_bit_ranges(frames, [0, 2]) == [(0, 8), (16, 21)]
    assert payload_bit_ranges(frames, [1, 2]) == [(8, 21)]  # adjacent frames merged

    def erased(lost):
        return np.flatnonzero(erased_symbols_of_bits(7, 3, payload_bit_ranges(frames, lost))).tolist()

    assert erased([0]) == [0, 1, 2]  # bits 0-7: symbols 0, 1 and 2 (bits 6-8)
    assert erased([1]) == [2, 3, 4, 5]  # bits 8-15: symbol 2 (bit 8) to symbol 5 (bit 15)
    assert erased([2]) == [5, 6]  # bits 16-20 of the short last frame
    assert erased([0, 2]) == [0, 1, 2, 5, 6]
    assert erased([1, 2]) == [2, 3, 4, 5, 6]
    assert erased([]) == []
    # the byte-range form agrees: bytes [1, 2) = bits 8-15
    assert (erased_symbols(7, 3, [(1, 2)]) == erased_symbols_of_bits(7, 3, [(8, 16)])).all()
