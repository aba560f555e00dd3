"""Matplotlib figures of runs (`run`) and sweeps (`sweep`)."""
