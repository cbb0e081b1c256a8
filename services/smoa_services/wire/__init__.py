"""The wire: protobuf messages to smoa's records and back (convert), and every request checked whole
before any work (validation)."""
