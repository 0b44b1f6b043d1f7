"""The sync contract's rules as pure code: merge, per-device ordering, cursors, scope hashing.

No Flask, SQLAlchemy, Redis or network imports here: the server feeds plain values in and
writes the plain results out, and the rules are tested in milliseconds.
"""
