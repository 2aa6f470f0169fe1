"""Dossiers: the model, its flat record, status lifecycle, events and on-time classification."""
