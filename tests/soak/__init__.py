"""Soak tests: the whole deployment as processes under faults, held to zero failed requests."""
