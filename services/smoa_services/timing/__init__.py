"""Time: the deadline a call carries (deadline), latency windows (latency), and retries and hedges
(attempts)."""
