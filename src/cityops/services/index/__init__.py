"""The Decision 766 index: counters per scope and period, scoring, targets, saved snapshots."""
