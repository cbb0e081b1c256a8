"""smoa: Sparse Mixture-of-Agents over gRPC. The generated contract is ``smoa.v1``."""

__version__ = "0.1.0"
