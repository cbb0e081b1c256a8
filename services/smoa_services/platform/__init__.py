"""The serving platform every smoa service runs on: the gRPC server with health and reflection (server),
the channels to peers (channel, rotating_channel), readiness from the backends' breakers (readiness),
the drain on SIGTERM (drain) and admission of calls by caller (admission)."""
