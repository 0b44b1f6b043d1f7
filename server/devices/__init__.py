"""Tablets: enrollment codes, device tokens, revocation."""
