"""Imports of the police roster and the school register, and the cross-match between them."""
