"""Scheduled work: broadcasts planned by staff, rebuilt from the database at start."""
