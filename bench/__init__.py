"""Benchmarks: activeq side by side with raw APSW and peer libraries."""
