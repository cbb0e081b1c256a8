"""Test doubles that speak real protocols on real sockets."""
