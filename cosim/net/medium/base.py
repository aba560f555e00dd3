"""The medium interface: when may a frame start (access), did it survive (reception).

A medium is the air between a gateway's devices and the gateway. The ARQ loop (`cosim.net.arq`) asks it
three things per frame attempt, and nothing else:

- `access(clock, sender)`: a generator that waits (yields delays, s) until the frame may start, and
  returns False when the sender gives up (carrier sense never found the air free);
- `begin(t_s, airtime_s, sender)`: the frame starts now; returns a token for `end`;
- `end(token, sender)`: the frame is over; returns the index of the edge server whose gateway received it,
  None when it was lost to interference (the medium counts its own collisions), or `UNHEARD` when no
  gateway heard it above its sensitivity (lost to the noise, booked like a header error).

Closed-form media (`closed_form = True`: nothing another device does changes a frame) run on a virtual
clock: their `access` sets `clock.now` to the frame's start directly, so an inference costs one event.
Shared media run inside a SimPy process. Subclasses override the hooks; the engine never branches on
a medium's kind.
"""

from __future__ import annotations

from collections.abc import Generator

UNHEARD = -2  # `end`: no gateway heard the frame above its sensitivity (-1: a device without a server)


class Clock:
    """The virtual clock of a closed-form transmission (a SimPy environment plays it on shared media)."""

    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now = now


class Medium:
    """Base: no contention, a frame starts when the sender's duty cycle allows (shared-medium timing)."""

    closed_form = False  # media that can collide keep a `collisions` count (frames lost to interference)

    def access(self, clock, sender) -> Generator[float, None, bool]:
        """Wait (yield delays, s) until the frame may start; False if the sender gives up."""
        if sender.dc_next > clock.now:
            yield sender.dc_next - clock.now
        return True

    def begin(self, t_s: float, airtime_s: float, sender) -> object:
        """A frame of `airtime_s` starts at `t_s`; the token is handed back to `end`."""
        return None

    def end(self, token: object, sender) -> int | None:
        """The frame is over: the server that received it (the sender's own here), or None if lost."""
        return sender.server

    def error_link(self, token: object, server: int | None, sender):
        """The link whose BER corrupts the frame of `token` (the sender's own link here)."""
        return sender.link

    def gap_after_s(self, plan) -> float:
        """Time the radio waits after a frame before it may send the next one, s."""
        return 0.0

    def frame_spacing_s(self, attached: int) -> float:
        """Least time between the starts of two frames of one sender when `attached` devices share the
        medium, s (the up-front drain estimate; 0: no schedule)."""
        return 0.0


class ClosedFormMedium(Medium):
    """Base of media whose frame start is a pure function of the ready time: no events per frame."""

    closed_form = True

    def start_s(self, t_s: float, sender) -> float:
        """Start of the frame of a sender ready at `t_s` (already past its duty-cycle wait), s."""
        return t_s

    def access(self, clock, sender) -> Generator[float, None, bool]:
        clock.now = self.start_s(max(clock.now, sender.dc_next), sender)
        return True
        yield  # a generator that never waits

    def gap_after_s(self, plan) -> float:
        return plan.ifs_s
