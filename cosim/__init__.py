"""cosim: a discrete-event co-simulator of SemanticNN offloading from STM32 fleets.

The Python API (imported on first use, so `import cosim` stays light: no torch, no pandas):
`cosim.run(scenario_or_path, overrides=..., outdir=None)`, `cosim.load_run(outdir)`,
`cosim.load_sweep(outdir)`; see `cosim.api`.
"""

__version__ = "0.1.0"

__all__ = ["Run", "Sweep", "__version__", "load_run", "load_sweep", "read_packets", "run"]
_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str):
    if name in _API or name == "api":
        import importlib

        api = importlib.import_module("cosim.api")
        return api if name == "api" else getattr(api, name)
    raise AttributeError(f"module 'cosim' has no attribute {name!r}")
