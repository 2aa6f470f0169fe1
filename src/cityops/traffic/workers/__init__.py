"""`cityops traffic run`: camera workers and what they send to the server."""
