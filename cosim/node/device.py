"""A sensing device: sense → compute → send frames → sleep, with its energy per phase.

On a dedicated link or a TDMA schedule the whole transmission of an inference is computed in closed
form (its frames' start times, the channel's BER at each, the bit errors drawn sparsely), so an
inference costs one event: its arrival at the gateway. On ALOHA, CSMA or LoRa the frames interact, so a
long-lived process per device sends them with events at each frame's start and end. Both paths run the
same ARQ loop (`cosim.net.arq.send`); the medium decides access and reception.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import simpy

from cosim.channel.errors import error_positions
from cosim.inference import Inference
from cosim.net.arq import run_closed, run_events, send
from cosim.net.medium.base import Clock


@dataclass(frozen=True)
class LinkPlan:
    """What every inference of a group puts on the air, and what it costs (one group, one variant)."""

    frame_payload_bits: tuple[int, ...]  # application bits per frame
    frame_airtime_s: tuple[float, ...]  # airtime of each frame, s
    header_bits: int  # bits per frame whose corruption loses the frame (PHY/MAC header, CRC)
    pilot_bits: int  # known bits per frame for BER estimation (0 = oracle estimate)
    ifs_s: float  # gap after a frame, s
    duty_cycle: float  # largest fraction of time on air (1 = unlimited)
    arq: bool  # ACK + retransmission of frames the receiver does not accept
    exact: bool  # receiver policy `drop`: only error-free payloads are accepted (else `deliver`: any frame
    # whose header survived, payload errors and all)
    max_retries: int
    ack_window_s: float  # turnaround + ACK airtime before the sender knows the outcome, s
    ack_rx_s: float  # of which the receiver is on (LoRaWAN class A sleeps through the RX delay), s
    ack_bits: int  # bits of an ACK frame (it can be corrupted too)
    backoff_s: float  # mean random back-off before a retransmission, s
    tx_mj_per_s: float  # radio TX power, mW (= mJ/s)
    rx_mj_per_s: float  # radio RX power, mW
    sense_s: float
    sense_mj: float
    compute_s: float
    compute_mj: float
    # what the radio protocol and the MCU's wake-up add (cosim.node.energy, cosim.net.protocols)
    access_s: float = 0.0  # delay before the first frame (connection event, RRC set-up), s
    fixed_mj: tuple[tuple[str, float], ...] = ()  # per inference: (Inference attribute, mJ)
    listen_mj: float = 0.0  # protocol listening per frame attempt (RX windows, CCA), mJ
    listen_attr: str = "rx_window_mj"  # the Inference attribute it is booked to
    ack_miss_rx_s: float = 0.0  # extra listening when an awaited ACK does not come, s
    erase: bool = False  # on_frame_loss `erase`: a frame lost for good erases its bits, not the inference

    @property
    def total_payload_bits(self) -> int:
        return sum(self.frame_payload_bits)


_NO_ERRORS: tuple[int, ...] = ()


@dataclass(slots=True)
class FrameOutcome:
    """What happened to one frame attempt."""

    header_hit: bool
    payload_errors: list[int] | tuple[int, ...]  # payload bit positions in error (never mutated)
    ber: float
    ber_est: float


class Device:
    """One device: its workload, its link to the gateway and its transmissions."""

    def __init__(
        self,
        env: simpy.Environment,
        index: int,
        group: int,
        plans: tuple[LinkPlan, ...],
        link,
        medium,
        slot: int,
        next_arrival: Callable[[float], float],
        draw_sample: Callable[[], int],
        labels,
        err_rng: random.Random,
        estimate_ber: Callable[[float, int], float],
        deliver: Callable[[Inference], None],
        lose: Callable[[Inference], None],
        stop_s: float,
        choose_variant: Callable[[float | None, int], int] | None = None,
        server: int = -1,
    ) -> None:
        self.env = env
        self.index = index
        self.group = group
        self.plans = plans
        self.plan = plans[0]
        self.choose_variant = choose_variant
        self.ber_report: float | None = None  # latest BER estimate the gateway fed back
        self.pending_report: tuple[float, float] | None = None  # (time it arrives, value)
        self.link = link
        self.snr_at: Callable[[float], float] | None = None  # set where the channel models SNR
        self.medium = medium
        self.server = server  # index of the edge server this device is attached to
        self.slot = slot
        self.next_arrival = next_arrival
        self.draw_sample = draw_sample
        self.labels = labels
        self.err_rng = err_rng
        self.estimate_ber = estimate_ber
        self.deliver = deliver
        self.lose = lose
        self.stop_s = stop_s
        self.busy_until = 0.0
        self.dc_next = 0.0
        # inferences waiting for a shared medium's sender process; made in `start` for shared media
        # only (an empty deque is 760 B: 40 % of a device at 10,000 devices on a dedicated link)
        self.backlog: deque[Inference] | None = None
        self.sending: Inference | None = None  # the inference on its way (sent, or its arrival scheduled)
        self.wake: simpy.Event | None = None
        self.inferences = 0
        self.next_sense = math.inf  # closed form: sensing time of the next inference, s

    def start(self) -> None:
        """Sense the first sample (and, on shared media, start the sender process)."""
        first = self.next_arrival(0.0)
        if self.medium.closed_form:
            if first < self.stop_s:
                self._sense_closed(first)
            return
        self.backlog = deque()
        if first < self.stop_s:
            self.env.timeout(first).callbacks.append(self._on_sense)
        self.env.process(self._shared_sender())

    # -- sensing and compute -------------------------------------------------------------------
    def _sense(self, now: float) -> Inference:
        """The inference sensed at `now`: its sample, variant, sensing and compute energy, TX start."""
        sample = self.draw_sample()
        inf = Inference(self.index, self.group, sample, self.labels[sample], now)
        self.inferences += 1
        if self.choose_variant is not None:
            pending = self.pending_report
            if pending is not None and pending[0] <= now:
                self.ber_report = pending[1]
            inf.codec_variant = self.choose_variant(self.ber_report, sample)
        # not self.plan: on a shared medium the sender may still be sending an earlier inference
        plan = self.plans[inf.codec_variant]
        inf.sense_mj = plan.sense_mj
        inf.compute_mj = plan.compute_mj
        for attr, mj in plan.fixed_mj:
            setattr(inf, attr, mj)
        inf.active_s = plan.sense_s + plan.compute_s
        inf.t_tx_start = max(now, self.busy_until) + plan.sense_s + plan.compute_s + plan.access_s
        return inf

    def _on_sense(self, _event: simpy.Event) -> None:
        """Shared media: a sensing event hands the inference to the sender process."""
        env = self.env
        now = env.now
        nxt = self.next_arrival(now)
        if nxt < self.stop_s:
            env.timeout(nxt - now).callbacks.append(self._on_sense)
        inf = self._sense(now)
        self.busy_until = inf.t_tx_start
        self.backlog.append(inf)
        wake = self.wake
        if wake is not None and not wake.triggered:
            # an idle sender wakes when this inference may go on the air, not now and then again after
            # a timeout: one event fewer per inference (benchmark, 10,000 devices: ALOHA 5.2 -> 4.2,
            # CSMA 6.7 -> 5.7 events per inference; records byte-identical). Triggered as SimPy's
            # Timeout does it (succeed() cannot take a delay).
            wake._ok, wake._value = True, None
            env.schedule(wake, delay=max(inf.t_tx_start - now, 0.0))

    def _sense_closed(self, t_sense: float) -> None:
        """Dedicated link or TDMA: sense at `t_sense`, send in closed form, schedule the arrival.

        Nothing another device does changes this device's samples, channel or frames, so each
        inference is worked out when the previous one arrives (in sensing order, possibly after its
        sensing time): one event per inference, its arrival at the gateway.
        """
        self.next_sense = self.next_arrival(t_sense)
        inf = self._sense(t_sense)
        self.plan = self.plans[inf.codec_variant]
        t_arrive, self.busy_until = self._transmit_closed(inf, inf.t_tx_start)
        if inf.frames:
            self.pending_report = (t_arrive, inf.ber_est)
        delay = t_arrive - self.env.now
        self.sending = inf
        self.env.timeout(max(delay, 0.0), value=inf).callbacks.append(self._on_sent)

    def _on_sent(self, event: simpy.Event) -> None:
        inf = event.value
        self.sending = None
        inf.t_arrive = self.env.now
        (self.lose if inf.lost else self.deliver)(inf)
        if self.next_sense < self.stop_s:
            self._sense_closed(self.next_sense)

    # -- one frame attempt ---------------------------------------------------------------------
    def _attempt(self, inf: Inference, k: int, t: float, link=None) -> FrameOutcome:
        """Draw the bit errors of frame k sent at `t` (on `link`, default the device's own) and book its
        airtime and TX energy."""
        plan = self.plan
        bits = plan.frame_payload_bits[k]
        header = plan.header_bits
        pilot_bits = plan.pilot_bits
        ber = (link or self.link).ber_at(t)
        errs = error_positions(self.err_rng, header + bits + pilot_bits, ber)
        air = plan.frame_airtime_s[k]
        inf.ber += ber  # the record's `ber`: mean channel BER over its frame attempts
        inf.ber_bits += 1
        inf.tx_attempts += 1
        inf.tx_mj += air * plan.tx_mj_per_s
        if plan.listen_mj:
            setattr(inf, plan.listen_attr, getattr(inf, plan.listen_attr) + plan.listen_mj)
        inf.active_s += air
        inf.airtime_s += air
        if self.snr_at is not None:
            inf.snr_db += self.snr_at(t)
        inf.bits_on_air += header + bits + pilot_bits
        if not errs:  # the common case at low BER
            return FrameOutcome(False, _NO_ERRORS, ber, self.estimate_ber(ber, 0) if pilot_bits else ber)
        payload: list[int] = []
        pilot_errors = 0
        end = header + bits
        for e in errs:
            if header <= e < end:
                payload.append(e - header)
            elif e >= end:
                pilot_errors += 1
        est = self.estimate_ber(ber, pilot_errors) if pilot_bits else ber
        return FrameOutcome(errs[0] < header, payload, ber, est)

    def _ack_received(self, inf: Inference, t: float, sent: bool) -> bool:
        """Listen for the ACK after a frame ending at `t` (`sent`: the receiver accepted the frame and
        acknowledges it); the ACK itself can be corrupted."""
        plan = self.plan
        inf.rx_mj += plan.ack_rx_s * plan.rx_mj_per_s
        inf.active_s += plan.ack_rx_s
        ber = self.link.ber_at(t)
        ok = not error_positions(self.err_rng, plan.ack_bits, ber) and sent
        if not ok and plan.ack_miss_rx_s:  # an ACK that never decodes keeps the receiver on longer
            inf.rx_mj += plan.ack_miss_rx_s * plan.rx_mj_per_s
        return ok

    def _accept(self, inf: Inference, k: int, out: FrameOutcome, offset: int) -> bool:
        """Book a frame that reached the gateway (its payload errors go to the decoder); False, booking
        nothing, if the receiver policy is `drop` and its payload failed the CRC (only reached without
        ARQ: with ARQ such a frame is not acknowledged and is sent again)."""
        if self.plan.exact and out.payload_errors:
            return False
        bits = self.plan.frame_payload_bits[k]
        inf.frames += 1
        inf.ber_est += out.ber_est * bits
        inf.est_bits += bits
        if out.payload_errors:
            inf.bit_errors += len(out.payload_errors)
            shifted = [p + offset for p in out.payload_errors]
            if inf.positions is None:
                inf.positions = shifted
            else:
                inf.positions.extend(shifted)
        return True

    def _finish_estimate(self, inf: Inference) -> None:
        if inf.ber_bits:
            inf.ber /= inf.ber_bits
        if inf.est_bits:
            inf.ber_est /= inf.est_bits
        if inf.tx_attempts and self.snr_at is not None:
            inf.snr_db /= inf.tx_attempts

    # -- transmission: the frames with ARQ (cosim.net.arq), on a virtual clock or as events -----
    def _transmit_closed(self, inf: Inference, t: float) -> tuple[float, float]:
        """Send all frames from `t`; return (arrival of the last frame at the gateway, radio free)."""
        clock = Clock(t)
        arrival = run_closed(send(self, inf, clock), clock)
        self._finish_estimate(inf)
        return arrival, clock.now

    def _shared_sender(self):
        """Shared media: one long-lived process sends the backlog, frames interacting as events."""
        env = self.env
        while True:
            woke = not self.backlog
            if woke:  # `_on_sense` schedules the wake at the inference's t_tx_start
                self.wake = env.event()
                yield self.wake
                self.wake = None
            inf = self.sending = self.backlog.popleft()
            self.plan = self.plans[inf.codec_variant]
            wait = inf.t_tx_start - env.now
            if wait > 0 and not woke:
                yield env.timeout(wait)
            yield from run_events(env, send(self, inf, env))
            self._finish_estimate(inf)
            inf.t_arrive = env.now
            if inf.frames:
                self.ber_report = inf.ber_est
            self.busy_until = env.now
            self.sending = None
            (self.lose if inf.lost else self.deliver)(inf)

    def unfinished(self) -> Iterator[Inference]:
        """The inferences this device has not handed on, when the run stops before they are: the one on
        its way, the sensed backlog and (closed form, where sensing is worked out lazily) every sensing
        time still before `stop_s`, in sensing order."""
        if self.sending is not None:
            if not self.medium.closed_form:  # cut mid-send: its means are not yet taken
                self._finish_estimate(self.sending)
            yield self.sending
            self.sending = None
        while self.backlog:
            yield self.backlog.popleft()
        while self.next_sense < self.stop_s:
            t_sense = self.next_sense
            self.next_sense = self.next_arrival(t_sense)
            yield self._sense(t_sense)
