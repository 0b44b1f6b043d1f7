"""Sync conflicts in front of a supervisor: list and resolve."""
