"""Harnesses shared by the tests and the benchmarks: what stands in for the parts of a deployment that are
not smoa (its LLM), so both measure and check the same thing."""
