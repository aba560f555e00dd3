"""Non-persistent CSMA: sense the carrier, back off a random time while it is busy.

Two frames whose starts fall within one CCA-to-TX turnaround (the radio's IFS) of each other both go
on the air and collide, as on ALOHA.
"""

from __future__ import annotations

from collections.abc import Generator

from cosim.net.medium.aloha import SharedChannel
from cosim.net.medium.registry import register_medium


@register_medium("csma")
class CsmaChannel(SharedChannel):
    """ALOHA's collision rule plus carrier sense with uniform back-off in [0, backoff_max_s)."""

    def __init__(self, backoff_max_s: float = 0.01, max_attempts: int = 8, capture_db: float | None = None) -> None:
        super().__init__(capture_db)
        self.backoff_max_s = backoff_max_s
        self.max_attempts = max_attempts

    @classmethod
    def build(cls, config, ctx) -> CsmaChannel:
        return cls(config.backoff_max_ms / 1000.0, config.max_attempts, config.capture_db)

    def access(self, clock, sender) -> Generator[float, None, bool]:
        yield from super().access(clock, sender)  # the duty-cycle wait
        sensed = 0
        while self.busy(clock.now):
            sensed += 1
            if sensed >= self.max_attempts:
                return False
            yield sender.err_rng.random() * self.backoff_max_s
        if sender.plan.ifs_s:
            yield sender.plan.ifs_s  # CCA-to-TX turnaround: the vulnerable window
        return True
