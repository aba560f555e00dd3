"""The codec payloads of the test images are encoded once per process and shared by every World."""

from __future__ import annotations

import numpy as np
from strategy_fixtures import group, scenario, world


def test_two_worlds_share_one_read_only_payload_equal_to_a_fresh_encode(tmp_path):
    data = scenario([group("nodes", "semanticnn", count=2)], duration_s=1.0)
    first, second = world(data, tmp_path / "a").services, world(data, tmp_path / "b").services
    a, b = first.encoded("builtin:digits"), second.encoded("builtin:digits")
    assert a is b and not a.flags.writeable
    fresh = first.codec("builtin:digits").encode(first.dataset.x_test)
    np.testing.assert_array_equal(a, fresh)


def test_other_images_are_encoded_afresh(tmp_path):
    from cosim.strategies.base import encoded_payloads

    ctx = world(scenario([group("nodes", "semanticnn", count=2)], duration_s=1.0), tmp_path).services
    codec = ctx.codec("builtin:digits")
    x = ctx.dataset.x_test
    part = np.array(x[:5])
    np.testing.assert_array_equal(encoded_payloads(codec, part), codec.encode(x[:5]))
    assert encoded_payloads(codec, part) is encoded_payloads(codec, part)
    assert encoded_payloads(codec, np.array(x[:5])) is not encoded_payloads(codec, part)
