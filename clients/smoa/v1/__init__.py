"""Generated from protos/smoa/v1 by protos/generate.py."""
