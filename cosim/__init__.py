"""cosim: a discrete-event co-simulator of SemanticNN offloading from STM32 fleets."""

__version__ = "0.1.0"
