"""Assembles a World (SimPy environment, devices, media, edge servers, codecs) from a Scenario and runs it."""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
from collections.abc import Callable
from pathlib import Path

import simpy

from cosim.channel.estimate import ber_from_pilot_errors
from cosim.config.profiles import load_battery, load_board, load_edge, load_radio
from cosim.config.scenario import DeviceGroup, Scenario
from cosim.engine.gcpolicy import quiet_gc
from cosim.engine.lora_links import device_radio, gateway_links, noise_dbm
from cosim.engine.ordering import InOrder
from cosim.engine.placement import _arrivals, _attachments
from cosim.errors import ScenarioError
from cosim.inference import LOST_DRAIN, Inference
from cosim.net.frames import fragment
from cosim.net.medium import MediumContext, build_medium
from cosim.net.medium.lora import load_rule
from cosim.net.protocols import link_radio
from cosim.node.device import Device, LinkPlan
from cosim.node.edge import EdgeQueue
from cosim.node.energy import EnergyModel
from cosim.results.records import Recorder
from cosim.results.summary import GroupFacts
from cosim.rng import numpy_stream, stream_class, stream_seed, stream_seeds
from cosim.strategies.base import StrategyContext, get_strategy
from cosim.tasks.base import get_task

log = logging.getLogger(__name__)


def receiver_policy(group: DeviceGroup, setup, where: str) -> str:
    """The group's receiver policy for corrupted payloads: its `receiver_policy`, else the strategy's
    default (`drop` for a bit-exact strategy with ARQ, `deliver` otherwise)."""
    policy = group.receiver_policy or ("drop" if setup.exact and setup.arq else "deliver")
    if policy == "deliver" and setup.requires_exact:
        raise ScenarioError(f"{where}.receiver_policy: strategy {group.strategy!r} needs bit-exact payloads "
                            f"(a corrupted JPEG stream cannot be decoded): use drop")
    return policy


def frame_loss_policy(group: DeviceGroup, setup, where: str) -> dict[str, bool] | None:
    """The codecs (spec -> trained for erasures) a group with `on_frame_loss: erase` decodes partial
    payloads with; None for `drop`. ScenarioError if its strategy cannot decode a partial payload."""
    if group.on_frame_loss != "erase":
        return None
    support = [v.erasure for v in setup.all_variants()]
    if any(e is None for e in support):
        raise ScenarioError(f"{where}.on_frame_loss: strategy {group.strategy!r} cannot decode a payload with "
                            f"frames missing (only SemanticNN symbols can be erased: semanticnn*, adaptive); "
                            f"use drop")
    return {e.codec: e.trained for e in support}


class _SampleDraw:
    """A device's next sample: an index uniform over the test split, from the device's own stream
    (a slotted callable: 56 B, where a lambda with its defaults took ~210 B per device)."""

    __slots__ = ("n", "rng")

    def __init__(self, rng, n: int) -> None:
        self.rng, self.n = rng, n

    def __call__(self) -> int:
        return int(self.rng.random() * self.n)


class World:
    """One simulated deployment, built from a validated Scenario."""

    def __init__(self, scenario: Scenario, workdir: Path, variant: str | None = None) -> None:
        """`variant`: the name of the `compare:` variant this World simulates (its records carry it)."""
        from cosim.codec.checkpoint import load_codec
        from cosim.data import load_dataset

        self.scenario = scenario
        self.env = simpy.Environment()
        self.dataset = load_dataset(scenario.dataset, scenario.dataset_root, test_only=True)
        self.n_samples = len(self.dataset.y_test)
        self.services = StrategyContext(scenario, self.dataset, load_codec)  # what strategies are handed
        self.recorder = Recorder(workdir / "packets.parquet", [g.name for g in scenario.devices],
                                 deadline_s=scenario.deadline_ms / 1000.0, variant=variant,
                                 server_names=[s.name for s in scenario.edge],
                                 group_strategies=[g.strategy for g in scenario.devices])
        self.in_order = InOrder(self.recorder.add)  # records in simulated end order (cosim.engine.ordering)
        # the task's sink for decoded inferences (detection: matched boxes, exact mAP tallies) and labels
        self.task_run = get_task(scenario.task).engine_run(scenario, self.dataset, self.in_order.done)
        self.labels = self.task_run.labels
        self.evaluators: dict[str, object] = {}
        self.group_evaluator: list[object] = []
        self.group_facts: list[GroupFacts] = []
        self.devices: list[Device] = []
        self.receiver_policies: dict[str, str] = {}  # group name -> `deliver` or `drop`
        # groups with on_frame_loss `erase` -> their codecs (spec -> trained for erasures)
        self.erasure_codecs: dict[str, dict[str, bool]] = {}
        self.servers: dict[str, EdgeQueue] = {}
        self.server_profiles = {}
        self.media = {}
        self.stop_s = scenario.duration_s
        self.drain_limit_reached = False
        self.drain_unfinished = 0  # inferences the drain limit cut (recorded as lost, reason `drain`)
        self._edge_macs: list[float] = []  # per group: MACs the edge runs per inference
        self._estimators: dict[int, Callable[[float, int], float]] = {}  # by pilot bits (see _estimator)
        # random.Random, or for a large fleet CompactStream: the same draws in 1/10 of the memory
        self._stream = stream_class(sum(g.count for g in scenario.devices))
        self._attached = [_attachments(scenario, g, numpy_stream(scenario.seed, "placement", g.name))
                          for g in scenario.devices]
        self._build_servers()
        self._queues = [self.servers[s.name] for s in scenario.edge]
        for gi, group in enumerate(scenario.devices):
            self._build_group(gi, group)

    # -- assembly --------------------------------------------------------------------------------
    def _build_servers(self) -> None:
        sc = self.scenario
        attached = [0] * len(sc.edge)
        shared: dict = {}  # state media of one network share (LoRa gateways hear one air)
        for servers, _ in self._attached:
            for k in servers:
                attached[k] += 1
        for si, s in enumerate(sc.edge):
            profile = load_edge(s.profile)
            self.server_profiles[s.name] = profile
            try:
                self.media[s.name] = build_medium(s.medium, MediumContext(si, s.name, attached[si], shared))
            except ValueError as exc:
                raise ScenarioError(f"edge.{si}.medium: {exc}") from None
            if hasattr(self.media[s.name], "count_from_s"):  # shared media: airtime stats after warm-up
                self.media[s.name].count_from_s = sc.warmup_s
            self.servers[s.name] = EdgeQueue(
                self.env, s.workers, s.max_batch, s.max_wait_ms / 1000.0, s.queue_limit,
                self._service_time(profile), self._on_served, self.in_order.lost,
                s.discipline.make(tuple(g.name for g in sc.devices), sc.deadline_ms / 1000.0),
            )

    def _service_time(self, profile) -> Callable[[list[Inference]], float]:
        t0 = profile.batch_t0_ms / 1000.0
        t1_per_mac = profile.batch_t1_ms / 1000.0 / profile.reference_macs
        edge_macs = self._edge_macs

        def service_s(batch: list[Inference]) -> float:
            return t0 + t1_per_mac * sum(edge_macs[inf.group][inf.codec_variant] for inf in batch)

        return service_s

    def _build_group(self, gi: int, group: DeviceGroup) -> None:
        sc = self.scenario
        where = f"devices.{gi}"
        board = load_board(group.board)
        radio = load_radio(group.radio)
        strategy = get_strategy(group.strategy, field=f"{where}.strategy")
        try:
            setup = strategy.setup(self.services, group.codec or sc.codec, group)
        except ValueError as exc:  # e.g. adaptive variants whose frames cannot hold the pilot bits
            raise ScenarioError(f"{where}: {exc}") from None
        policy = receiver_policy(group, setup, where)
        self.receiver_policies[group.name] = policy
        erasure = frame_loss_policy(group, setup, where)
        if erasure is not None:
            self.erasure_codecs[group.name] = erasure
            for spec in (spec for spec, trained in erasure.items() if not trained):
                log.warning("%s (%s): on_frame_loss erase with codec %s, which was not trained for erasures",
                            where, group.name, spec)
        variants = tuple(dataclasses.replace(v, exact=policy == "drop") for v in setup.all_variants())
        server_of, distances = self._attached[gi]
        plans_at: dict[tuple[int, str], tuple[LinkPlan, ...]] = {}  # (server, radio of the device's link)

        def plans_for(k: int, link_radio_: object) -> tuple[LinkPlan, ...]:
            key = (k, link_radio_.name)
            if key not in plans_at:
                plans_at[key] = tuple(self._link_plan(group, board, link_radio_, v, self.media[sc.edge[k].name],
                                                      where, erasure is not None) for v in variants)
            return plans_at[key]

        for k in sorted(set(server_of)):
            plans_for(k, radio)
        self._edge_macs.append([v.edge_macs for v in variants])
        for v in variants:
            if v.evaluator_key not in self.evaluators:
                self.evaluators[v.evaluator_key] = v.make_evaluator(self.task_run.add, sc.codec_batch)
        self.group_evaluator.append([self.evaluators[v.evaluator_key] for v in variants])
        battery = load_battery(group.battery) if group.battery else None
        self.group_facts.append(GroupFacts(
            name=group.name, devices=group.count, sleep_mw=board.sleep_power_mw + radio.sleep_supply_mw,
            battery_mwh=battery.usable_mwh if battery else group.battery_mah * group.battery_v,
            payload_bits=setup.payload_bits,
            background_mw=EnergyModel.of(board, radio, group.sense, setup.arq).protocol.background_mw,
            battery=battery, duty_cycle=radio.duty_cycle,
            variant_payload_bits=tuple(v.payload_bits for v in variants),
        ))
        first_index = len(self.devices)
        slots = [0] * len(sc.edge)  # TDMA slot of each device within its server's schedule
        for prev_servers, _ in self._attached[:gi]:
            for k in prev_servers:
                slots[k] += 1
        # every stream is keyed by the device's identity (group name, index): devices are independent,
        # and a `compare:` variant (same seed, same groups) sees the very same device. The seeds of a
        # group come in one vectorised call (cosim.rng.stream_seeds: was 120 µs per device, 3/4 of the
        # build), and a gateway-scope channel's seed once per gateway.
        n, stream = group.count, self._stream
        seeds = {name: stream_seeds(sc.seed, (name, group.name), n) for name in ("samples", "workload", "errors")}
        channel_seeds: list[int] = []
        gateway_seeds: dict[str, int] = {}
        noise: list[float] = []
        snr_modelled: list[bool] = []
        xy_m = self._attached[gi].xy_m
        deliver, lose = self._submit, self.in_order.lost  # one bound method each, not two per device (128 B)
        # per server and per group, not per device (~5 µs a device: 5 s of a 1,000,000-device build)
        snr_limits: dict[int, dict[int, float]] = {}
        group_radio_used = None
        for i in range(n):
            k = server_of[i]
            server_cfg = sc.edge[k]
            channel = group.channel or server_cfg.channel
            if channel.scope == "device":
                channel_seeds = channel_seeds or stream_seeds(sc.seed, ("channel", group.name), n)
                seed = channel_seeds[i]
            else:
                if server_cfg.name not in gateway_seeds:  # every device gets a copy of the one realisation
                    gateway_seeds[server_cfg.name] = stream_seed(sc.seed, "gateway-channel", server_cfg.name)
                seed = gateway_seeds[server_cfg.name]
            distance_m = float(distances[i])

            def make_link(r, channel=channel, seed=seed, distance_m=distance_m):
                return channel.make_link(stream(seed), r, distance_m)
            link = make_link(radio)
            medium = self.media[server_cfg.name]
            if k not in snr_limits:
                snr_limits[k] = _snr_limits(medium)
            radio_i, link = device_radio(group, radio, link, make_link, i, where, snr_limits[k])
            mean_snr_db = getattr(link, "mean_snr_db", None)
            if radio_i is radio and mean_snr_db is None:  # the group's radio on a link without SNR: once
                used = group_radio_used = group_radio_used or link_radio(radio, None)
            else:
                used = link_radio(radio_i, mean_snr_db)  # NB-IoT: its coverage level's radio
            if used is not radio_i:  # the same draws, the SNR gained by repetition combining
                link = make_link(used)
            plans = plans_for(k, used)
            device = Device(
                env=self.env, index=first_index + i, group=gi, plans=plans, link=link,
                medium=medium, slot=slots[k],
                next_arrival=_arrivals(group.workload, stream(seeds["workload"][i])),
                draw_sample=_SampleDraw(stream(seeds["samples"][i]), self.n_samples),
                labels=self.labels, err_rng=stream(seeds["errors"][i]),
                estimate_ber=self._estimator(plans[0].pilot_bits),
                deliver=deliver, lose=lose, stop_s=self.stop_s, choose_variant=setup.choose, server=k,
            )
            slots[k] += 1
            self.devices.append(device)
            xy = None if xy_m is None else xy_m[i]
            modelled = channel.kind == "snr" or getattr(link, "snrs", None) is not None
            if modelled:  # the device records the SNR where the channel models it
                device.snr_at = link.snr_db_at
            snr_modelled.append(modelled)
            noise.append(channel.noise_dbm(used) if channel.kind == "snr" else math.nan)
            if hasattr(medium, "attach"):  # media that need each device's links to their gateways (LoRa)
                links = gateway_links(sc, group, i, used, k, link, xy, medium.servers(), noise_dbm)
                try:
                    medium.attach(device.index, used, links)
                except ValueError as exc:
                    raise ScenarioError(f"{where}: {exc}") from None
        # where the group's devices are, as columns (cosim.results.records.Recorder.place_many)
        self.recorder.place_many(first_index, server_of, distances, None if xy_m is None else xy_m[:, 0],
                                 None if xy_m is None else xy_m[:, 1], noise, snr_modelled)

    def _estimator(self, pilot_bits: int) -> Callable[[float, int], float]:
        """The receiver's BER estimate from a frame's pilot errors: one function per pilot length, shared
        by the devices (a lambda per device cost ~200 B)."""
        if pilot_bits not in self._estimators:
            self._estimators[pilot_bits] = lambda ber, k: ber_from_pilot_errors(k, pilot_bits)
        return self._estimators[pilot_bits]

    def _link_plan(self, group, board, radio, setup, medium, where: str, erase: bool = False) -> LinkPlan:
        sc = self.scenario
        pilot_bits = sc.ber_estimate.pilot_bits if sc.ber_estimate.kind == "pilot" else 0
        try:
            frames = fragment(setup.payload_bits, radio, pilot_bits)
        except ValueError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        problem = getattr(medium, "check_frame", lambda _air: None)(max(frames.airtime_s))
        if problem:
            raise ScenarioError(f"edge medium {problem} of {group.radio} "
                                f"({max(frames.airtime_s) * 1000:.3f} ms) in {where}")
        energy = EnergyModel.of(board, radio, group.sense, setup.arq)
        turnaround_s = radio.turnaround_us / 1e6
        return LinkPlan(
            frame_payload_bits=tuple(frames.payload_bits),
            frame_airtime_s=frames.airtime_s,
            header_bits=int(frames.header_bits),
            pilot_bits=pilot_bits,
            ifs_s=radio.ifs_us / 1e6,
            duty_cycle=radio.duty_cycle,
            arq=setup.arq,
            exact=setup.exact,
            max_retries=setup.max_retries,
            ack_window_s=turnaround_s + radio.ack_airtime_s(),
            # a radio stays in RX through a short turnaround; through a long one (LoRaWAN's 1 s RX
            # delay) it sleeps and only opens the receive window
            ack_rx_s=radio.ack_airtime_s() + (turnaround_s if turnaround_s <= 1e-3 else 0.0),
            ack_bits=radio.ack_bytes * 8,
            backoff_s=max(radio.ack_airtime_s(), 1e-3),
            tx_mj_per_s=energy.tx_mw,
            rx_mj_per_s=energy.rx_mw,
            sense_s=energy.sense_s,
            sense_mj=energy.sense_mj,
            compute_s=board.compute_time_s(setup.device_macs),
            compute_mj=energy.compute_mj(setup.device_macs),
            access_s=energy.protocol.access_s,
            fixed_mj=tuple((f"{phase}_mj", mj) for phase, mj in energy.fixed_phases_mj()),
            listen_mj=energy.frame_listen_mj(),
            listen_attr=f"{energy.protocol.frame_listen_phase}_mj",
            ack_miss_rx_s=energy.protocol.ack_miss_rx_s,
            erase=erase,
        )

    # -- running ---------------------------------------------------------------------------------
    def _submit(self, inf: Inference) -> None:
        """A received inference goes to the edge server whose gateway received it first."""
        self._queues[inf.server].submit(inf)

    def _on_served(self, inf: Inference) -> None:
        self.in_order.ended(inf)
        self.group_evaluator[inf.group][inf.codec_variant].submit(inf)

    def run(self, progress: Callable[[float], None] | None = None, steps: int = 200) -> None:
        """Run to the end of sensing, then drain every inference still in flight."""
        with quiet_gc():  # the built World is long-lived: keep collections off it (cosim.engine.gcpolicy)
            for device in self.devices:
                device.start()
            for k in range(1, steps + 1):
                self.env.run(until=self.stop_s * k / steps)
                if progress:
                    progress(self.env.now)
            limit_s = self.stop_s + self.scenario.drain_limit_s  # the drain is bounded (engine/run.py reports)
            peek, step = self.env.peek, self.env.step
            while peek() <= limit_s:
                step()
            self.drain_limit_reached = peek() != float("inf")
            for evaluator in self.evaluators.values():
                evaluator.flush()
            if self.drain_limit_reached:
                self._record_unfinished()
        self.recorder.close()

    def _record_unfinished(self) -> None:
        """The drain limit ended the run: every inference not yet finished becomes a lost row (`drain`),
        device by device (on its way, its backlog, sensing times still due), then server by server."""
        for holder in (*self.devices, *self._queues):
            for inf in holder.unfinished():
                inf.lost = LOST_DRAIN
                self.in_order.lost(inf)
                self.drain_unfinished += 1

    def events(self) -> int:
        """Events the SimPy environment processed (its internal event counter)."""
        eid = getattr(self.env, "_eid", 0)  # an int in older SimPy, an itertools.count in 4.1
        return eid if isinstance(eid, int) else next(copy.copy(eid))


def _snr_limits(medium) -> dict[int, float]:
    """Demodulator SNR limit per LoRa SF: the LoRa medium's rule, else the shipped reception profile's."""
    rule = getattr(getattr(medium, "air", None), "rule", None)
    return (rule or load_rule()).snr_min_db
