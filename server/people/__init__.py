"""Households and children: who the campaign is about."""
