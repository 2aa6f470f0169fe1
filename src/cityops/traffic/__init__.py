"""Traffic cameras: video analytics to vehicle counts, congestion and incidents."""
