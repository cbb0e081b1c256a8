"""A fixed delay on every packet a network namespace sends: what `tc qdisc add dev eth0 root netem delay D`
does, for kernels built without sch_netem (this machine's has none). The packets go to an NFQUEUE
(iptables, in the namespace), and this process gives each its verdict D after it arrived, in order.

    nsenter --net=/proc/PID/ns/net python link_delay.py --delay-ms 200 --queue 7

It adds the iptables rule itself and removes it when it ends (SIGTERM or SIGINT), so a test stops the
fault by stopping this process. Loss is the kernel's own: faults.py adds an `-m statistic --mode random`
DROP rule beside this one. Needs root and libnetfilter-queue1 (Debian's package).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections import deque

NF_ACCEPT = 1
NFQNL_COPY_META = 1
COPY_BYTES = 0


class PacketHeader(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("packet_id", ctypes.c_uint32), ("hw_protocol", ctypes.c_uint16), ("hook", ctypes.c_uint8)]


CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


def library() -> ctypes.CDLL:
    path = ctypes.util.find_library("netfilter_queue") or "libnetfilter_queue.so.1"
    lib = ctypes.CDLL(path)
    lib.nfq_open.restype = ctypes.c_void_p
    lib.nfq_create_queue.restype = ctypes.c_void_p
    lib.nfq_create_queue.argtypes = [ctypes.c_void_p, ctypes.c_uint16, CALLBACK, ctypes.c_void_p]
    lib.nfq_get_msg_packet_hdr.restype = ctypes.POINTER(PacketHeader)
    lib.nfq_get_msg_packet_hdr.argtypes = [ctypes.c_void_p]
    lib.nfq_set_mode.argtypes = [ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint32]
    lib.nfq_set_queue_maxlen.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.nfq_set_verdict.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.c_void_p,
    ]
    lib.nfq_fd.argtypes = [ctypes.c_void_p]
    lib.nfq_handle_packet.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.nfq_destroy_queue.argtypes = [ctypes.c_void_p]
    lib.nfq_close.argtypes = [ctypes.c_void_p]
    return lib


def rule(action: str, queue: int) -> list[str]:
    # --queue-bypass: packets pass undelayed if this process is gone, never dropped for want of it.
    return ["iptables", action, "OUTPUT", "-j", "NFQUEUE", "--queue-num", str(queue), "--queue-bypass"]


def serve(delay: float, queue: int) -> int:
    lib = library()
    handle = lib.nfq_open()
    if not handle:
        raise SystemExit("nfq_open failed (root? libnetfilter-queue1?)")
    held: deque[tuple[float, int]] = deque()

    def arrived(_qh: int, _msg: int, data: int, _user: int) -> int:
        header = lib.nfq_get_msg_packet_hdr(data)
        held.append((time.monotonic() + delay, socket.ntohl(header.contents.packet_id)))
        return 0

    callback = CALLBACK(arrived)  # kept referenced while the queue lives
    queue_handle = lib.nfq_create_queue(handle, queue, callback, None)
    if not queue_handle:
        raise SystemExit(f"queue {queue} is taken")
    lib.nfq_set_mode(queue_handle, NFQNL_COPY_META, COPY_BYTES)
    lib.nfq_set_queue_maxlen(queue_handle, 65536)
    fd = lib.nfq_fd(handle)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    subprocess.run(rule("-A", queue), check=True)
    print(f"link-delay: {delay * 1000:.0f} ms on queue {queue}", flush=True)
    try:
        while not stopping:
            now = time.monotonic()
            while held and held[0][0] <= now:
                lib.nfq_set_verdict(queue_handle, held.popleft()[1], NF_ACCEPT, 0, None)
            wait = max(0.0, held[0][0] - now) if held else 0.5
            readable, _, _ = select.select([fd], [], [], wait)
            if readable:
                received = os.read(fd, 65536)
                lib.nfq_handle_packet(handle, received, len(received))
    finally:
        subprocess.run(rule("-D", queue), check=False)
        while held:  # nothing held back is lost when the fault ends
            lib.nfq_set_verdict(queue_handle, held.popleft()[1], NF_ACCEPT, 0, None)
        lib.nfq_destroy_queue(queue_handle)
        lib.nfq_close(handle)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--queue", type=int, default=7)
    args = parser.parse_args(argv)
    return serve(args.delay_ms / 1000, args.queue)


if __name__ == "__main__":
    sys.exit(main())
