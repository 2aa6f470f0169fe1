"""Time for public services: working-time calendar, due dates, reporting periods."""
