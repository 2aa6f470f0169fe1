"""Frames in, road users out: video sources (PyAV), motion gating (MOG2) and the detector."""
