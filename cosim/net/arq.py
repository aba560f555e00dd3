"""The frames of one inference on the air, with or without ARQ: written once for every medium.

`send` is a generator that yields the delays the sender waits (s) and returns the time the last frame
was done (received, acknowledged or given up). On a closed-form medium (dedicated link, TDMA) `run_closed`
drives it on a virtual clock, so an inference costs no events; on a shared medium (ALOHA, CSMA, LoRa)
the device's SimPy process turns each delay into a timeout. The medium decides when a frame may start
(`access`) and whether it survived (`begin`/`end`); the device draws the bit errors and books energy.
"""

from __future__ import annotations

from collections.abc import Generator

from cosim.inference import (
    DELIVERED,
    LOST_ACCESS,
    LOST_COLLISION,
    LOST_HEADER,
    LOST_PAYLOAD,
    LOST_RETRIES,
    Inference,
)
from cosim.net.frames import payload_bit_ranges
from cosim.net.medium.base import UNHEARD


def send(dev, inf: Inference, clock) -> Generator[float, None, float]:
    """Send every frame of `inf` from `clock.now` under `dev.plan`; return the time the last one was done.

    Without ARQ a collided or header-hit frame (or, for an exact receiver, one whose payload fails the
    CRC) loses the inference (the first loss names the reason; the sender, who cannot know, sends the
    remaining frames). With ARQ a frame is repeated until the receiver accepts it (no collision,
    header intact, and for an exact receiver no payload error) and its ACK comes back, after a uniform
    back-off in [0, 2·backoff_s); past `max_retries` repetitions the inference is lost.
    With `plan.erase` (on_frame_loss: erase) a lost frame (also one that never found the channel free)
    loses only its own bits: the sender goes on with the next frame, and the inference is lost only if
    every frame is (the first loss names the reason); else `inf.erased` holds the lost bit ranges.
    """
    plan = dev.plan
    medium = dev.medium
    dc_factor = 1.0 / plan.duty_cycle - 1.0
    gap_s = medium.gap_after_s(plan)
    closed = medium.closed_form  # its access never waits: call start_s directly (no generator per frame)
    erase = plan.erase
    lost_frames: list[int] = []  # erase: the frames lost for good
    first_loss = DELIVERED
    offset = 0
    done = clock.now
    for k, air in enumerate(plan.frame_airtime_s):
        retries = 0
        loss = DELIVERED  # why frame k was lost for good
        while True:
            if closed:
                clock.now = medium.start_s(max(clock.now, dev.dc_next), dev)
            elif not (yield from medium.access(clock, dev)):
                if not erase:
                    inf.lost = LOST_ACCESS
                    return clock.now
                loss = LOST_ACCESS
                break
            start_s = clock.now
            token = medium.begin(start_s, air, dev)
            yield air
            dev.dc_next = clock.now + air * dc_factor
            server = medium.end(token, dev)
            # the bit errors of the copy the network keeps (drawn from the device's own stream after
            # the frame: nothing else draws from it in between)
            out = dev._attempt(inf, k, start_s, medium.error_link(token, server, dev))
            collided = server is None
            header_hit = out.header_hit or server == UNHEARD
            if not plan.arq:  # the sender cannot know: it sends the remaining frames anyway
                if collided or header_hit:
                    loss = LOST_COLLISION if collided else LOST_HEADER
                elif not _received(dev, inf, k, out, offset, server):
                    loss = LOST_PAYLOAD
                break
            ok = not collided and not header_hit and not (plan.exact and out.payload_errors)
            ok = dev._ack_received(inf, clock.now, ok)
            yield plan.ack_window_s
            if ok:
                _received(dev, inf, k, out, offset, server)
                break
            retries += 1
            if retries > plan.max_retries:
                loss = LOST_COLLISION if collided else LOST_RETRIES
                break
            yield dev.err_rng.random() * 2.0 * plan.backoff_s
        done = clock.now
        if gap_s:
            yield gap_s
        if loss:
            if erase:
                lost_frames.append(k)
                first_loss = first_loss or loss
            else:
                inf.lost = inf.lost or loss
                if plan.arq:  # gave up
                    break
        offset += plan.frame_payload_bits[k]
    if erase:
        inf.erased_frames = len(lost_frames)
        if lost_frames:
            if inf.frames:
                inf.erased = payload_bit_ranges(plan.frame_payload_bits, lost_frames)
            else:
                inf.lost = first_loss
    return done


def _received(dev, inf: Inference, k: int, out, offset: int, server: int) -> bool:
    """Frame k reached `server`'s gateway: the first frame received names the serving server; False if
    the receiver discarded it (an exact receiver's CRC failure)."""
    if inf.server < 0:
        inf.server = server
    return dev._accept(inf, k, out, offset)


def run_closed(steps: Generator[float, None, float], clock) -> float:
    """Drive `send` on a virtual clock (closed-form media): no events; return its result."""
    try:
        while True:
            wait_s = next(steps)  # first: a closed-form medium's access may move the clock itself
            clock.now += wait_s
    except StopIteration as stop:
        return stop.value


def run_events(env, steps: Generator[float, None, float]):
    """Drive `send` inside a SimPy process (shared media): one timeout per delay; return its result."""
    try:
        while True:
            yield env.timeout(next(steps))
    except StopIteration as stop:
        return stop.value
