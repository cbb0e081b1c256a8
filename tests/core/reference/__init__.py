"""Pure-Python reference of smoa_core_rs, written from the contract in ``_core.pyi`` (not from the Rust).

It favours being obviously right over being fast: property tests compare the Rust core to it on
small random inputs. Not shipped; only the tests import it.
"""
