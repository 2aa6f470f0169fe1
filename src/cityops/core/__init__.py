"""The kernel: knows no domain by name."""
