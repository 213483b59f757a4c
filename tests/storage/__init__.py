"""Storage tests, run on SQLite and PostgreSQL through the ``db_url`` fixture.

Why both: the app promises the same behaviour on either backend (uniqueness, leases,
compare-and-set, routing serialisation), and the two get there by different means
(BEGIN IMMEDIATE on SQLite, row locks, SKIP LOCKED and advisory locks on PostgreSQL),
so every guarantee is proven on each.

The helpers shared with the benchmarks are in harness/storage.py; fixtures stay in
each module.
"""
