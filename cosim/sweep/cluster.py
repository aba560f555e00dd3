"""The Dask cluster of a sweep: a LocalCluster started early and closed late, in background threads.

What it saves: a worker process must start, import the engine (torch, SimPy, pyarrow, pydantic: ~3-5
CPU-s) and only then run; serially that start-up is paid once, inside the runs. Starting the cluster as
soon as the sweep command begins (`LocalPool(workers)`), with the engine imported by each worker as it
starts (`cosim.sweep.warm`), overlaps the start-up with the main process loading and checking the sweep;
closing it in the background (`close(wait=False)`) overlaps the workers' shutdown with writing the
tables. Measured with benchmarks/sweep.py (24 runs, 2 workers): see the README's performance section.
"""

from __future__ import annotations

import logging
import threading

from cosim.errors import CosimError

WARM_MODULE = "cosim.sweep.warm"


class LocalPool:
    """A LocalCluster of `workers` worker processes (one thread each), started in a background thread."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._client = None
        self._cluster = None
        self._error: BaseException | None = None
        import distributed  # noqa: F401 - its import configures its loggers: quieten them after it

        self._quiet = logging.getLogger("distributed")
        self._old_level = self._quiet.level
        self._quiet.setLevel(logging.ERROR)  # its INFO chatter would reach the CLI's stderr handler
        self._start = threading.Thread(target=self._run_start, name="cosim-dask-start", daemon=True)
        self._start.start()
        self._stop: threading.Thread | None = None

    def _run_start(self) -> None:
        try:
            from dask.distributed import Client, LocalCluster

            # a random port for the scheduler's HTTP server and no dashboard: other users may own :8787
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", scheduler_kwargs={"dashboard": False},
                                         silence_logs=logging.ERROR, preload=[WARM_MODULE])
            self._client = Client(self._cluster)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread by client()
            self._error = exc

    def prepare(self, fn, *args) -> None:
        """Run `fn(*args)` once on every worker as soon as the cluster is up, in the background: the
        workers load what the runs read (`warm.load_inputs`) while the main process checks the sweep.
        A failure only loses the head start (the run that needs the input reports the error)."""
        def run() -> None:
            self._start.join()
            if self._client is None:
                return
            try:
                self._client.run(fn, *args)
            except Exception as exc:  # noqa: BLE001 - a warm-up only; each run loads what it needs itself
                logging.getLogger(__name__).debug("worker warm-up failed: %s", exc)

        threading.Thread(target=run, name="cosim-dask-prepare", daemon=True).start()

    def client(self):
        """The cluster's Client, once it is up (CosimError if it could not start)."""
        self._start.join()
        if self._error is not None:
            raise CosimError(f"cannot start a local Dask cluster of {self.workers} workers: "
                             f"{type(self._error).__name__}: {self._error}") from None
        return self._client

    def close(self, wait: bool = True) -> None:
        """Close client and cluster; with `wait=False` in a background thread (`join()` waits for it)."""
        if self._stop is None:
            self._stop = threading.Thread(target=self._run_close, name="cosim-dask-close", daemon=True)
            self._stop.start()
        if wait:
            self.join()

    def _run_close(self) -> None:
        self._start.join()
        try:
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            self._quiet.setLevel(self._old_level)

    def join(self) -> None:
        """Wait for a background close to finish."""
        if self._stop is not None:
            self._stop.join()
