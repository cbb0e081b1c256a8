"""What every RPC of smoa's shares, below the services and their platform: the shape of a handler
(rpc_handler) and every failure with the status it becomes (failure)."""
