"""Tests of the client SDK and the `smoa` command line, against real services on 127.0.0.1:0."""
