#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/fuzz/surface_seeds.py - writes the seed inputs of fuzz_nfq
(tests/fuzz/nfq-seeds), fuzz_state (tests/fuzz/state-seeds) and fuzz_ctl
(tests/fuzz/ctl-seeds), committed beside it; run it again after a format
change.

fuzz_nfq: records [len_hi][len_lo][datagram], each datagram NFQUEUE packet
messages as the kernel sends them. fuzz_state: [mode][state file], mode 1
(the harness sets "saved at" and the CRC). fuzz_ctl: [flags][chunk][what a
client writes to the control socket], flags bit 0 a reload taken, bit 1
its errors given, bits 2-3 the kernel data path's state, bits 4-7 tens of
flows; chunk the size of each read (0: all at once)."""
import os
import struct
import sys
import zlib

NFQA_PACKET_HDR, NFQA_MARK, NFQA_INDEV, NFQA_OUTDEV = 1, 3, 5, 6
NFQA_PAYLOAD, NFQA_CAP_LEN, NFQA_SKB_INFO = 10, 13, 14
NFQA_CT, NFQA_CT_INFO, NLA_F_NESTED = 11, 12, 0x8000
CTA_STATUS, CTA_MARK, CTA_ID, CTA_LABELS = 3, 8, 12, 22
IPS_DST_NAT = 0x20
PKT_MSG = (3 << 8) | 0  # NFNL_SUBSYS_QUEUE, NFQNL_MSG_PACKET
SYN, ACK, PSH = 0x02, 0x10, 0x08


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def addr(a):
    return bytes(int(x) for x in a.split("."))


def tcp4(src, dst, sport, flags, tsval, tsecr, payload=b""):
    opts = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + struct.pack("!II", tsval, tsecr) + b"\x01\x03\x03\x07"
    hlen = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, 80, 1000, 2000, (hlen // 4) << 4, flags, 65535, 0, 0)
    seg = tcp + opts + payload
    c = csum(addr(src) + addr(dst) + struct.pack("!BBH", 0, 6, len(seg)) + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 0, 0x4000, 64, 6, 0, addr(src), addr(dst))
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + seg


def attr(t, body):
    a = struct.pack("=HH", 4 + len(body), t) + body
    return a + b"\0" * (-len(a) % 4)


def ct_nest(status, labels=None):
    """NFQA_CT and NFQA_CT_INFO as the conntrack glue sends them (the
    tuples left out: the parser skips them)."""
    body = attr(CTA_ID, struct.pack("!I", 7)) + attr(CTA_STATUS, struct.pack("!I", status))
    body += attr(CTA_MARK, struct.pack("!I", 1))
    if labels is not None:
        body += attr(CTA_LABELS, labels)
    return attr(NFQA_CT | NLA_F_NESTED, body) + attr(NFQA_CT_INFO, struct.pack("!I", 2))


def nfq_msg(pid, pkt, skb_info=None, cap_len=None, ct=None):
    body = struct.pack("=BBH", 2, 0, struct.unpack("=H", struct.pack("!H", 3))[0])
    body += attr(NFQA_PACKET_HDR, struct.pack("!IHB", pid, 0x0800, 2))
    body += attr(NFQA_INDEV, struct.pack("!I", 2)) + attr(NFQA_OUTDEV, struct.pack("!I", 3))
    body += attr(NFQA_MARK, struct.pack("!I", 0))
    if skb_info is not None:
        body += attr(NFQA_SKB_INFO, struct.pack("!I", skb_info))
    if cap_len is not None:
        body += attr(NFQA_CAP_LEN, struct.pack("!I", cap_len))
    if ct is not None:
        body += ct
    body += attr(NFQA_PAYLOAD, pkt)
    return struct.pack("=IHHII", 16 + len(body), PKT_MSG, 0, 0, 0) + body


def record(dgram):
    return struct.pack("!H", len(dgram)) + dgram


def nfq_seeds():
    rw = ("192.0.2.5", "198.51.100.10")      # rewrite policy
    st = ("192.0.2.6", "198.51.100.200")     # strip policy
    un = ("192.0.2.7", "203.0.113.9")        # no policy
    return {
        "strip": record(nfq_msg(1, tcp4(*st, 40001, SYN, 5000, 0), skb_info=1)),
        "rewrite": b"".join([
            record(nfq_msg(10, tcp4(*rw, 40000, SYN, 123456, 0))),
            record(nfq_msg(11, tcp4(rw[1], rw[0], 40000, SYN | ACK, 777, 128000))),
            record(nfq_msg(12, tcp4(*rw, 40000, ACK | PSH, 123466, 777, b"x" * 100))),
        ]),
        "mixed": b"".join(record(nfq_msg(100 + i, tcp4(*(st, un, rw)[i % 3], 41000 + i, SYN, i, 0)))
                          for i in range(8)),
        "truncated": record(nfq_msg(5, tcp4(*st, 40005, SYN, 1, 0), cap_len=1500)),
        "two-in-one": record(nfq_msg(7, tcp4(*st, 40007, SYN, 7, 0)) + nfq_msg(8, tcp4(*un, 40008, SYN, 8, 0))),
        "conntrack": b"".join([
            record(nfq_msg(20, tcp4(*rw, 40020, SYN, 5, 0), ct=ct_nest(IPS_DST_NAT, bytes(range(16))))),
            record(nfq_msg(21, tcp4(*st, 40021, SYN, 6, 0), ct=ct_nest(0))),
        ]),
    }


def state_file(domains, flows):
    body = b""
    for i, (fam, mark, a) in enumerate(domains):
        body += struct.pack("!HBBI16s", i, fam, 1 if mark else 0, mark or 0, a)
    for (queue, fam, flags, a, b, pa, pb, off, raw, dom) in flows:
        body += struct.pack("!HBB16s16sHHIIHH", queue, fam, flags, a, b, pa, pb, off, raw, dom, 0)
    hdr = b"TSNATDST" + struct.pack("!HHHHIIQI", 2, 40, 24, 52, len(domains), len(flows), 0, 0)
    crc = zlib.crc32(body, zlib.crc32(hdr))
    return hdr + struct.pack("!I", crc) + body


def state_seeds():
    shared = (0, None, b"\0" * 16)
    v4 = (4, 0x12345678, addr("203.0.113.5") + b"\0" * 12)
    v6 = (6, 99, bytes(range(16)))
    a, b = addr("192.0.2.5") + b"\0" * 12, addr("198.51.100.10") + b"\0" * 12
    flows = [(4, 4, 0x01, a, b, 40000, 80, 5000, 123456, 1),
             (5, 4, 0x03, a, b, 40001, 80, 7, 9, 0),
             (4, 6, 0x21, bytes(range(16)), bytes(range(1, 17)), 1, 2, 3, 4, 2)]
    return {
        "empty": b"\1" + state_file([shared], []),
        "domains": b"\1" + state_file([shared, v4, v6], []),
        "flows": b"\1" + state_file([shared, v4, v6], flows),
        "raw": b"\0" + state_file([shared, v4], flows[:2]),
    }


def ctl_seeds():
    errors = b"/etc/tsnatd/tsnatd.conf:7: 'count' = 0 is out of range 1..64\n" \
             b"/etc/tsnatd/tsnatd.conf:9: unknown key \"p\x01\"\n"
    return {
        "status": b"\x08\x00status\n",
        "status-json": b"\x08\x00--json status\n/etc/t\"s.conf\x1f",
        "flows": b"\xf8\x03flows --limit 120\n",
        "flows-json": b"\xa4\x00flows --json --limit 5\r\n",
        "reload-refused": b"\x02\x00reload\n" + errors,
        "reload-json": b"\x01\x00reload --json\n",
        "servers": b"\x00\x01servers\n",
        "domains-json": b"\x00\x00domains --json\n",
        "metrics-json": b"\x0c\x00metrics --json\npolicy\\name",
        "stats": b"\x00\x07stats\tx\n",
        "unknown": b"\x00\x00status --JSON\n",
        "long": b"\x00\x40" + b"status " * 40 + b"\n",
    }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for sub, seeds in (("nfq-seeds", nfq_seeds()), ("state-seeds", state_seeds()),
                       ("ctl-seeds", ctl_seeds())):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(root, sub, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
