"""Benchmarks of airflow-lineage-provider (not tests): they print numbers; see docs/benchmarks.md."""
