"""Bulk import of dossier files: readers, column parsers, worker processes, all-or-nothing writes."""
