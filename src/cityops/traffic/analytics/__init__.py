"""From detections to traffic: tracking, counting lines, zones, incidents, flow records."""
