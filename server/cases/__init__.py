"""Out-of-school cases (劝返复学, 督察整改): one case per out-of-school child until it closes.

`machine` and `deadlines` are pure (no Flask, no SQLAlchemy) so that the rules are tested in
milliseconds; the rest is the usual shell (models, queries, service, routes, jobs).
"""
