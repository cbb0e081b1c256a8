"""smoa's services and what they share, in floors; a package imports only from the floors below it:

    proposer/ judge/ moderator/ orchestrator/ gateway/   the services (python -m each)
    wire/                                                protobuf <-> records, requests checked whole
    platform/   ensemble/                                what a service runs on; the ensemble's pure logic
    llm/                                                 the OpenAI client, breakers, the embedded model
    access/     telemetry/                               who calls and may; traces and metrics
    rpc/        timing/     config/                      failures and statuses; deadlines, retries; settings

stack.py runs the whole local stack as processes."""
