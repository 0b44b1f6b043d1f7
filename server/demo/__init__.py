"""A deterministic, realistic demo county (Hai'an-like) for trying and testing the product."""
