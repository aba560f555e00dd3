"""The engine: a World built from a Scenario, run, with placement, link plans and the up-front checks."""
