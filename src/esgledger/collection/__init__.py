"""Data collection: campaigns, tasks, submissions and their review flags (``flags``)."""
