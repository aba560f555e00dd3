"""Static priority per device group: the lowest `priority` value first, FIFO within a level."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cosim.inference import Inference
from cosim.node.scheduling import DISCIPLINES, DisciplineConfig, HeapDiscipline


class Priority(HeapDiscipline):
    """Key: the inference's group priority (ties: arrival order)."""

    def __init__(self, levels: list[float]) -> None:
        super().__init__()
        self.levels = levels

    def key(self, inf: Inference) -> float:
        return self.levels[inf.group]


@DISCIPLINES.register("priority")
class PriorityConfig(DisciplineConfig):
    """Non-preemptive priority by device group (0 is served before 1); unlisted groups get `default`."""

    kind: Literal["priority"] = "priority"
    priorities: dict[str, int] = Field(description="per device group, its priority level (lower is served first)")
    default: int = Field(0, description="level of groups not listed (default 0)")

    def make(self, groups: tuple[str, ...], deadline_s: float) -> Priority:
        return Priority(self.group_values("priorities", self.priorities, groups, self.default))
