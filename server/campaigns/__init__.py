"""Campaigns: a school year, its phase dates and its school-age cut-off."""
