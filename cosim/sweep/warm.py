"""Dask worker preload: import the engine while the worker starts, not in its first run.

A LocalCluster of `cosim.sweep.cluster.LocalPool` names this module in `preload`, so each worker imports
torch, SimPy, pyarrow and the engine as it starts, while the main process is still loading the sweep.
"""

import importlib

importlib.import_module("cosim.engine.run")  # for its side effect: the engine's modules are loaded
