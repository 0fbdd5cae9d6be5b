"""Benchmarks that print figures: a load harness over real HTTP (`python -m bench`).

Not tests: nothing here is collected by pytest, and nothing here ships with the site.
The bench server runs with `bench.settings`, which adds one route (the hello-world
baseline) through its own URLconf; the site's own URLconf is untouched.
"""
