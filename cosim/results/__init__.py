"""Results of a run: per-inference records (Parquet), the summary, publishing of output folders."""
