"""The channel registry as a pydantic discriminated union, as the scenario schema embeds it."""

import random

import pytest
from pydantic import TypeAdapter, ValidationError

from cosim.channel.processes import (
    CHANNELS,
    ChannelConfig,
    ConstantChannel,
    GilbertElliottChannel,
    SnrChannel,
    TraceChannel,
)

ADAPTER = TypeAdapter(ChannelConfig)


def test_discriminated_by_kind():
    assert isinstance(ADAPTER.validate_python({"kind": "constant", "ber": 1e-3}), ConstantChannel)
    assert isinstance(ADAPTER.validate_python({"kind": "gilbert-elliott"}), GilbertElliottChannel)
    assert isinstance(ADAPTER.validate_python({"kind": "snr", "fading": "rician"}), SnrChannel)
    assert isinstance(ADAPTER.validate_python({"kind": "trace", "path": "x.csv"}), TraceChannel)
    assert {"constant", "gilbert-elliott", "snr", "trace", "markov-snr"} <= set(CHANNELS)


def test_unknown_kind_and_extra_fields_rejected():
    with pytest.raises(ValidationError):
        ADAPTER.validate_python({"kind": "awgn", "ber": 0.1})
    with pytest.raises(ValidationError, match="extra"):
        ADAPTER.validate_python({"kind": "constant", "ber": 0.1, "bler": 0.2})
    with pytest.raises(ValidationError):
        ADAPTER.validate_python({"kind": "snr", "fading": "nakagami"})
    with pytest.raises(ValidationError):
        ADAPTER.validate_python({"kind": "constant"})  # ber is required


def test_every_field_is_documented_in_the_json_schema():
    schema = ADAPTER.json_schema()
    for name, model in schema["$defs"].items():
        for field, spec in model["properties"].items():
            if field != "kind":
                assert spec.get("description"), f"{name}.{field} has no description"


def test_configs_are_frozen_and_constant_link():
    cfg = ConstantChannel(ber=0.01)
    with pytest.raises(ValidationError):
        cfg.ber = 0.2
    link = cfg.make_link(random.Random(0), None, 5.0)
    assert link.ber_at(0.0) == link.ber_at(1e9) == cfg.stationary_ber() == 0.01
    assert link.snr_db_at(3.0) is None
