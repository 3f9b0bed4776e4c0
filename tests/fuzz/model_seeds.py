#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/fuzz/model_seeds.py OUTDIR - seed inputs for fuzz_model: two world
bytes, then short connections (SYN in Linux's layout, SYN-ACK, data both
ways, FIN, RST) as records [ctl][hi][lo][IP packet], to the rewrite, strip,
pass and unmatched destinations of its policies, IPv4 and IPv6, with a
TSval-0 SYN, a server that adopts the client's raw clock, a reopened tuple,
a full table (half-open flows evicted first), a worker without one, a
client ahead of real time (clamped), a client over its quota, a floor and a
wall clock stepped back. See tests/fuzz/fuzz_model.c for the bits."""
import ipaddress
import os
import struct
import sys

SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
# world byte 0: on_full in bits 0-1, table in bits 2-4, per_client in 6-7
EVICT, STRIP = 2, 0
TABLE_1, TABLE_2, TABLE_4, NO_TABLE = 1 << 2, 2 << 2, 4 << 2, 7 << 2
QUOTA_1 = 1 << 6
# world byte 1
FLOOR, MONO_WRAPS = 1, 2
# record hi bits 6-7: clock events
WALL_BACK, WALL_JUMP, TIME_JUMP = 1, 2, 3


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ts_option(tsval, tsecr):
    return b"\x08\x0a" + struct.pack("!II", tsval, tsecr)


def options(layout, tsval, tsecr):
    if layout == "syn":  # MSS SACK_PERM TS NOP WS
        return b"\x02\x04\x05\xb4\x04\x02" + ts_option(tsval, tsecr) + b"\x01\x03\x03\x07"
    if layout == "two":  # NOP NOP TS NOP NOP TS, the first not echoing
        return b"\x01\x01" + ts_option(tsval - 5, 0) + b"\x01\x01" + ts_option(tsval, tsecr)
    return b"\x01\x01" + ts_option(tsval, tsecr)  # NOP NOP TS


def tcp_segment(src, dst, sport, dport, flags, tsval, tsecr, payload, layout):
    opts = options(layout, tsval, tsecr)
    hlen = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, (hlen // 4) << 4, flags, 65535, 0, 0)
    seg = tcp + opts + payload
    pseudo = src.packed + dst.packed + struct.pack("!IxxxB", len(seg), 6)
    return seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]


def packet(src, dst, sport, dport, flags, tsval, tsecr, payload=b"", layout="linux"):
    src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    seg = tcp_segment(src, dst, sport, dport, flags, tsval, tsecr, payload, layout)
    if src.version == 6:
        return struct.pack("!IHBB", 6 << 28, len(seg), 6, 64) + src.packed + dst.packed + seg
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 0, 0x4000, 64, 6, 0, src.packed, dst.packed)
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + seg


def record(pkt, ctl=0, outdev=0, clock=0):
    return struct.pack("!BBB", ctl, len(pkt) >> 8 | outdev << 4 | clock << 6, len(pkt) & 0xFF) + pkt


def world(b0, b1=0):
    return bytes([b0, b1])


def connection(client, server, cport, ts0, data=3, outdev=0, echo_raw=False, close=FIN,
               layout="linux", tick=8, step=10, clock=0):
    """The records of one connection, in order; tick is the ctl of the
    server's data packets (8: a second passes before each), step how far
    the client's clock moves per data packet, clock the clock event (hi
    bits 6-7) before its SYN."""
    def rec(*a, ctl=0, clk=0, **k):
        return record(packet(*a, **k), ctl, outdev, clk)

    out = [rec(client, server, cport, 80, SYN, ts0, 0, layout="syn", clk=clock)]
    out.append(rec(server, client, 80, cport, SYN | ACK, 777, ts0 + 5000, layout="syn"))
    for i in range(data):
        ts = (ts0 + step * (i + 1)) & 0xFFFFFFFF
        out.append(rec(client, server, cport, 80, ACK | PSH, ts, 777 + i, b"x" * 100, layout=layout))
        out.append(rec(server, client, 80, cport, ACK, 800 + i, ts if echo_raw else ts + 5000,
                       ctl=tick, layout=layout))
    if close == FIN:
        out.append(rec(client, server, cport, 80, FIN | ACK, ts0 + 100, 900))
        out.append(rec(server, client, 80, cport, FIN | ACK, 901, ts0 + 5100))
    else:
        out.append(rec(client, server, cport, 80, RST, 0, 0))
    return out


def seq(*parts):
    return b"".join(b"".join(p) if isinstance(p, list) else p for p in parts)


def eviction_order():
    """A table of two, all in one second: A and B open, A is used again
    (within the same second it keeps its place), so C's SYN evicts A, the
    first opened; A's next packet passes. B then closes (both FINs) and D's
    SYN evicts B, closing, before C, open and idle longer."""
    a, b, c, d = (connection("192.0.2.5", "198.51.100.10", 41000 + i, 100 * (i + 1), data=2, tick=0)
                  for i in range(4))
    return seq(world(EVICT | TABLE_2), a[0], b[0], a[1], a[2], c[0], a[3], c[1], b[1:],
               c[2:4], d)


def half_open_first():
    """A table of two: B is answered (open), A is not (half-open, and
    newer); C's SYN evicts A, not B, the longer idle. A's server answers
    too late: its packet passes."""
    a, b, c = (connection("192.0.2.5", "198.51.100.10", 42000 + i, 100 * (i + 1), data=1, tick=0)
               for i in range(3))
    return seq(world(EVICT | TABLE_2), b[0], b[1], a[0], c[0], a[1], b[2:], c[1:])


def clamped():
    """A client whose clock runs 5 s ahead per packet while 1 s passes: its
    TSvals are clamped to the flow's bound; then 2^31 ms pass and the bound
    reads the time since the SYN as negative."""
    c = connection("192.0.2.5", "198.51.100.10", 43000, 1000, data=4, step=5000)
    late = record(packet("192.0.2.5", "198.51.100.10", 43000, 80, ACK, 30000, 800), 0, 0, TIME_JUMP)
    return seq(world(EVICT), c[:-2], late, c[-2:])


def over_quota():
    """flows.per_client 1: the client's second connection is stripped while
    its first is open, and gets a flow once the first is closing."""
    a = connection("192.0.2.5", "198.51.100.10", 44000, 1000, data=1)
    b = connection("192.0.2.5", "198.51.100.11", 44001, 2000, data=1)
    c = connection("192.0.2.5", "198.51.100.12", 44002, 3000, data=1)
    return seq(world(EVICT | TABLE_4 | QUOTA_1), a[:3], b, a[3:], c)


def clocks():
    """A floor ahead of the wall clock, a monotonic clock about to wrap, and
    the wall clock stepped back between two SYNs: the second repeats the
    domain's mark."""
    a = connection("192.0.2.5", "198.51.100.10", 45000, 1000, data=2)
    b = connection("192.0.2.5", "198.51.100.10", 45001, 2000, data=2, clock=WALL_BACK)
    return seq(world(EVICT, FLOOR | MONO_WRAPS), a[:4], b, a[4:])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        "rewrite": seq(world(EVICT), connection("192.0.2.5", "198.51.100.10", 40000, 123456)),
        "strip": seq(world(EVICT), connection("192.0.2.6", "198.51.100.200", 40001, 5000)),
        "pass-unmatched": seq(world(EVICT), connection("192.0.2.7", "198.51.100.99", 40002, 9),
                              connection("192.0.2.70", "203.0.113.200", 40003, 42)),
        "auto-rebase-rst": seq(world(EVICT), connection("192.0.2.8", "203.0.113.10", 40004, 0,
                                                          data=2, close=RST)),
        "resync": seq(world(EVICT), connection("192.0.2.5", "198.51.100.11", 40005, 1000000000,
                                                 echo_raw=True)),
        "v6": seq(world(EVICT), connection("2001:db8::5", "2001:db8:3::10", 40006, 3000),
                  connection("2001:db8::5", "2001:db8:2::10", 40007, 4000, outdev=1),
                  connection("2001:db8::5", "2001:db8:1::10", 40008, 5000)),
        "two-ts": seq(world(EVICT), connection("192.0.2.5", "203.0.113.10", 40016, 7000,
                                                 layout="two")),
        "reopen": seq(world(EVICT), connection("192.0.2.5", "198.51.100.12", 40009, 1000),
                      connection("192.0.2.5", "198.51.100.12", 40009, 2000)),
        "eviction-order": eviction_order(),
        "half-open-first": half_open_first(),
        "clamped": clamped(),
        "over-quota": over_quota(),
        "clocks": clocks(),
        "full-strip": seq(world(STRIP | TABLE_1),
                          connection("192.0.2.5", "198.51.100.10", 40010, 10, data=0),
                          connection("192.0.2.5", "198.51.100.13", 40011, 20)),
        "full-evict": seq(world(EVICT | TABLE_1),
                          connection("192.0.2.5", "198.51.100.10", 40012, 10, data=0),
                          connection("192.0.2.5", "198.51.100.13", 40013, 20)),
        "no-table": seq(world(NO_TABLE), connection("192.0.2.5", "198.51.100.10", 40014, 10),
                        connection("192.0.2.6", "198.51.100.200", 40015, 5000)),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


main()
