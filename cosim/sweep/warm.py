"""Dask worker preload: import the engine while the worker starts, not in its first run.

A LocalCluster of `cosim.sweep.cluster.LocalPool` names this module in `preload`, so each worker imports
torch, SimPy, pyarrow and the engine as it starts, while the main process is still loading the sweep;
`load_inputs` (run on every worker by `LocalPool.prepare`) then loads the sweep's data sets and codecs.
"""

from __future__ import annotations

import importlib

importlib.import_module("cosim.engine.run")  # for its side effect: the engine's modules are loaded


def inputs_of(sweep) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The (data set, root) pairs and codec specs the runs of `sweep` read, each once."""
    datasets, codecs = {}, {}
    for spec in sweep.runs:
        sc = spec.scenario
        datasets[(sc.dataset, sc.dataset_root)] = None
        for c in [sc.codec, *(g.codec for g in sc.devices if g.codec)]:
            codecs[c] = None
    return list(datasets), list(codecs)


def load_inputs(datasets: list[tuple[str, str | None]], codecs: list[str]) -> None:
    """Load the data sets (test split, cached per process) a worker's runs read and encode their test
    images with each codec (cached per process too, `strategies.base`), so its first run does not pay
    the imports (scikit-learn for digits: ~3 s), the data generation (`scenes`: ~3 s) or the encoding."""
    from cosim.codec.checkpoint import load_codec
    from cosim.data.catalog import load_dataset
    from cosim.strategies.base import encoded_payloads

    data = {ds.name: ds for ds in (load_dataset(name, root, test_only=True) for name, root in datasets)}
    for spec in codecs:
        codec = load_codec(spec)
        if codec.meta.dataset in data:
            encoded_payloads(codec, data[codec.meta.dataset].x_test)


def prepare(pool, sweep) -> None:
    """Have the workers of `pool` (None: in-process, nothing to do) load what the runs of `sweep` read,
    in the background, while the caller checks the runs (`cosim sweep` and `benchmarks/sweep.py`)."""
    if pool is not None:
        pool.prepare(load_inputs, *inputs_of(sweep))
