"""Human-readable reports of a run: the console summary table."""
