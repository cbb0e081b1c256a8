"""One conformance suite for both doors, in the manner of gRPC's interop cases: named cases written once
(cases.py), run through the gRPC SDK and through the HTTP gateway with the openai SDK (doors.py), against
any deployment by address (`python -m tests.conformance --grpc HOST:PORT --http URL`) and, in `make test`,
against a stack of the real services in the test's process (test_conformance.py)."""
