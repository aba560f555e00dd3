"""Offloading strategies: what a device computes and sends, and how the edge turns it into a prediction."""
