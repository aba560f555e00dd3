"""Earliest deadline first: the waiting inference whose deadline (sensing time + deadline) is nearest."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cosim.inference import Inference
from cosim.node.scheduling import DISCIPLINES, DisciplineConfig, HeapDiscipline


class Edf(HeapDiscipline):
    """Key: t_sense + the deadline of the inference's group, s."""

    def __init__(self, deadline_s: list[float]) -> None:
        super().__init__()
        self.deadline_s = deadline_s

    def key(self, inf: Inference) -> float:
        return inf.t_sense + self.deadline_s[inf.group]


@DISCIPLINES.register("edf")
class EdfConfig(DisciplineConfig):
    """Earliest deadline first; a group's deadline is the scenario's `deadline_ms` unless set here."""

    kind: Literal["edf"] = "edf"
    deadlines_ms: dict[str, float] = Field(
        default_factory=dict, description="per device group, its end-to-end deadline, ms (default: the "
        "scenario's deadline_ms)")

    def make(self, groups: tuple[str, ...], deadline_s: float) -> Edf:
        ms = self.group_values("deadlines_ms", self.deadlines_ms, groups, deadline_s * 1000.0)
        return Edf([v / 1000.0 for v in ms])
