"""Tests of smoa_core_rs: example-based API tests and property tests against a pure-Python reference."""
