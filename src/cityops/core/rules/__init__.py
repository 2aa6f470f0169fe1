"""Alert rules: definitions, the engine that judges the event stream, alerts in the store."""
