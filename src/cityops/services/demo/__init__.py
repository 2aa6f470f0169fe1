"""SIMULATED demo data: a province-year calibrated on published figures, then a trickle of events."""
