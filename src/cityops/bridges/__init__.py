"""Bridges from other protocols into the kernel's ingestion path (MQTT)."""
