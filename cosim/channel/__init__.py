"""Channel models: BER processes over time, modulation BER formulas, sparse bit-error injection."""
