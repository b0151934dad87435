"""Benchmarks of the generator and of the projects it renders; figures in docs/benchmarks.md."""
