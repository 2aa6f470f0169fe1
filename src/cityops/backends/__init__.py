"""Networked implementations of kernel interfaces (DESIGN §8): the NATS JetStream bus and batch queue."""
