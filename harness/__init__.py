"""What the tests and the benchmarks both drive the product with: the app as a real
process, signed Slack requests, throwaway PostgreSQL databases, the soak driver and
storage helpers.

A top-level package because neither owns it: `bench/` must not import `tests`, and the
tests need it as much as the benchmarks do. It is not shipped (pyproject installs bot,
domain and storage only). The Slack it drives is the product's local workspace,
`bot.localslack`.
"""
