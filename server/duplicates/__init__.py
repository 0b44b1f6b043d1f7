"""Possible duplicate children: flagged on creation, merged or dismissed by a supervisor."""
