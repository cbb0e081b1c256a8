"""smoa services: proposer, judge, moderator and orchestrator over gRPC, and what they share."""
