"""Scenario and hardware configuration: safe YAML with line numbers, the scenario schema, profiles."""
