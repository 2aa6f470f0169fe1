"""Simulated cameras and synthetic scenes with known ground truth (demo and tests)."""
