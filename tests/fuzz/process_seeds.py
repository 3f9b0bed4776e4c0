#!/usr/bin/env python3
"""tests/fuzz/process_seeds.py OUTDIR - seed inputs for fuzz_process: short
connections (SYN in Linux's layout, SYN-ACK, data both ways, FIN, RST) to the
rewrite, strip, pass and unmatched destinations of its policies, as records
[ctl][len_hi][len_lo][IPv4 packet]."""
import os
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def addr(a):
    return bytes(int(x) for x in a.split("."))


def tcp_packet(src, dst, sport, dport, flags, tsval, tsecr, payload=b"", syn_layout=False):
    if syn_layout:  # MSS SACK_PERM TS NOP WS
        opts = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + struct.pack("!II", tsval, tsecr) + b"\x01\x03\x03\x07"
    else:  # NOP NOP TS
        opts = b"\x01\x01\x08\x0a" + struct.pack("!II", tsval, tsecr)
    hlen = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, (hlen // 4) << 4, flags, 65535, 0, 0)
    seg = tcp + opts + payload
    pseudo = addr(src) + addr(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 0, 0x4000, 64, 6, 0, addr(src), addr(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + seg


def record(pkt, ctl=0):
    return struct.pack("!BH", ctl, len(pkt)) + pkt


SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08


def connection(client, server, cport, ts0, data=3):
    out = [record(tcp_packet(client, server, cport, 80, SYN, ts0, 0, syn_layout=True))]
    out.append(record(tcp_packet(server, client, 80, cport, SYN | ACK, 777, ts0 + 5000, syn_layout=True)))
    for i in range(data):
        out.append(record(tcp_packet(client, server, cport, 80, ACK | PSH, ts0 + 10 * i, 777 + i, b"x" * 100)))
        out.append(record(tcp_packet(server, client, 80, cport, ACK, 800 + i, ts0 + 10 * i + 5000), ctl=8))
    out.append(record(tcp_packet(client, server, cport, 80, FIN | ACK, ts0 + 100, 900)))
    out.append(record(tcp_packet(server, client, 80, cport, FIN | ACK, 901, ts0 + 5100)))
    return b"".join(out)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        "rewrite": connection("192.0.2.5", "198.51.100.10", 40000, 123456),
        "strip": connection("192.0.2.6", "198.51.100.200", 40001, 5000),
        "pass-unmatched": connection("192.0.2.7", "198.51.100.99", 40002, 9)
        + connection("192.0.2.70", "203.0.113.200", 40003, 42),
        "auto-rst": connection("192.0.2.8", "203.0.113.10", 40004, 0, data=2)
        + record(tcp_packet("192.0.2.8", "203.0.113.10", 40004, 80, RST, 0, 0)),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


main()
