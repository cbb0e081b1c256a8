"""Hypothesis profiles: quick and varied locally, reproducible in CI (CI=true)."""

import os

from hypothesis import HealthCheck, settings

# Debug builds of the extension are slow, and the whole suite should stay well under a minute.
settings.register_profile(
    "dev", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
