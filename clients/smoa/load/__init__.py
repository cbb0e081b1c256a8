"""`smoa load`: a load generator for any smoa deployment, over gRPC or through the HTTP gateway.

Open-loop arrivals (Poisson, gamma or constant gaps, with an optional linear ramp) or a closed loop at a
fixed concurrency; latency counted from each request's scheduled send time, so a stalled server or client
cannot hide its stall (coordinated omission); HDR histograms; a ghz-like summary, JSON and a PNG plot.

The pure parts (schedule, histogram, slo, summary, report, gateway_wire) take no network; `calls` talks to
the orchestrator over gRPC and `gateway_calls` to the OpenAI-compatible gateway over HTTP (--http), with
the same `Outcome`s; `runner` drives either. The HDR histogram and the plot need the `load` extra
(`pip install 'smoa[load]'`), imported only when used so the SDK itself stays grpcio + protobuf.
"""
