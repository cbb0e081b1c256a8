"""smoa's test support, shared by the tests and the benchmarks (as temporalio.testing is Temporal's): what
stands in for the parts of a deployment that are not smoa, and what runs smoa's own parts for a test.

- fake_llm: the one scripted OpenAI-compatible endpoint (FakeOpenAI) and the scripts it answers with;
- stacks: the services running, in process, as processes, or as a whole deployment of replicas;
- load: drivers that send requests as callers would;
- observe: what a test reads back (OTLP spans, metric points, streams).

Never a default anywhere: the services do not import it."""
