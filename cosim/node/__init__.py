"""Nodes: the sensing device process and the edge server queue."""
