"""Who is calling and what they may do: bearer tokens and permissions (auth), TLS credentials (tls),
the caller's name as it travels (caller), and credential files re-read when they change (watched_file)."""
