#!/usr/bin/env python3
"""tests/fuzz/model_seeds.py OUTDIR - seed inputs for fuzz_model: a world
byte, then short connections (SYN in Linux's layout, SYN-ACK, data both ways,
FIN, RST) as records [ctl][hi][lo][IP packet], to the rewrite, strip, pass
and unmatched destinations of its policies, IPv4 and IPv6, with a TSval-0
SYN, a server that adopts the client's raw clock, a reopened tuple, a full
table and a worker without one. See tests/fuzz/fuzz_model.c for the bits."""
import ipaddress
import os
import struct
import sys

SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08
# world byte: on_full in bits 0-1, table in bits 2-4
EVICT, STRIP = 2, 0
TABLE_1, TABLE_2, NO_TABLE = 1 << 2, 2 << 2, 7 << 2


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


def record(pkt, ctl=0, outdev=0):
    return struct.pack("!BBB", ctl, len(pkt) >> 8 | outdev << 4, len(pkt) & 0xFF) + pkt


def connection(client, server, cport, ts0, data=3, outdev=0, echo_raw=False, close=FIN,
               layout="linux", tick=8):
    """The records of one connection, in order; tick is the ctl of the
    server's data packets (8: a second passes before each)."""
    def rec(*a, ctl=0, **k):
        return record(packet(*a, **k), ctl, outdev)

    out = [rec(client, server, cport, 80, SYN, ts0, 0, layout="syn")]
    out.append(rec(server, client, 80, cport, SYN | ACK, 777, ts0 + 5000, layout="syn"))
    for i in range(data):
        ts = ts0 + 10 * (i + 1)
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
    return seq(bytes([EVICT | TABLE_2]), a[0], b[0], a[1], a[2], c[0], a[3], c[1], b[1:],
               c[2:4], d)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        "rewrite": seq(bytes([EVICT]), connection("192.0.2.5", "198.51.100.10", 40000, 123456)),
        "strip": seq(bytes([EVICT]), connection("192.0.2.6", "198.51.100.200", 40001, 5000)),
        "pass-unmatched": seq(bytes([EVICT]), connection("192.0.2.7", "198.51.100.99", 40002, 9),
                              connection("192.0.2.70", "203.0.113.200", 40003, 42)),
        "auto-rebase-rst": seq(bytes([EVICT]), connection("192.0.2.8", "203.0.113.10", 40004, 0,
                                                          data=2, close=RST)),
        "resync": seq(bytes([EVICT]), connection("192.0.2.5", "198.51.100.11", 40005, 1000000000,
                                                 echo_raw=True)),
        "v6": seq(bytes([EVICT]), connection("2001:db8::5", "2001:db8:3::10", 40006, 3000),
                  connection("2001:db8::5", "2001:db8:2::10", 40007, 4000, outdev=1),
                  connection("2001:db8::5", "2001:db8:1::10", 40008, 5000)),
        "two-ts": seq(bytes([EVICT]), connection("192.0.2.5", "203.0.113.10", 40016, 7000,
                                                 layout="two")),
        "reopen": seq(bytes([EVICT]), connection("192.0.2.5", "198.51.100.12", 40009, 1000),
                      connection("192.0.2.5", "198.51.100.12", 40009, 2000)),
        "eviction-order": eviction_order(),
        "full-strip": seq(bytes([STRIP | TABLE_1]),
                          connection("192.0.2.5", "198.51.100.10", 40010, 10, data=0),
                          connection("192.0.2.5", "198.51.100.13", 40011, 20)),
        "full-evict": seq(bytes([EVICT | TABLE_1]),
                          connection("192.0.2.5", "198.51.100.10", 40012, 10, data=0),
                          connection("192.0.2.5", "198.51.100.13", 40013, 20)),
        "no-table": seq(bytes([NO_TABLE]), connection("192.0.2.5", "198.51.100.10", 40014, 10),
                        connection("192.0.2.6", "198.51.100.200", 40015, 5000)),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


main()
