"""Parameter sweeps: grid specs, the content-keyed run store, Dask execution, result tables."""
