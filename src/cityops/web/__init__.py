"""The operations-room dashboard: one page, static ES modules, translations vi / en / ja."""
