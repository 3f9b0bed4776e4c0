#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tsorder.py RAW.pcap SHIFTED.pcap PORT - did the gateway add a step back?

RAW is a capture of the client segments to the server's PORT as the client
sent them (the gateway's client-facing interface, before tsnatd); SHIFTED
the traffic of the same connections as the server saw it, both ways. A segment is known by its port, sequence range
and copy: each range's copies are paired in TSval order (a retransmission
carries a later TSval than the original), ranges whose copy counts differ
between the captures (tcpdump lost one) are left out.

Walking the server's order, a segment whose TSval' lies more than 1 below
the highest one its flow had delivered is a step back: the server's PAWS may
drop it. It is the client's own when its raw TSval also lies more than 1
below the raw TSval of that highest segment (the gateway reordered, or the
client sent a copy: the server sees the same without tsnatd); otherwise
tsnatd added it.

Prints one line:
  matched N of M steps_back_own A steps_back_added B raw_mid_flow R shifts S
raw_mid_flow: segments that reached the server with their raw TSval (shift
0) in a flow whose other segments were shifted, before the connection was
reset; after_rst: segments of either kind that followed a RST of their
connection (the server holds nothing of it any more: harmless, counted
apart). Exit 0 when B == 0 and R == 0 and at least half the server's
segments were matched.
"""
import struct
import sys
from collections import defaultdict


def s32(x):
    x &= 0xffffffff
    return x - (1 << 32) if x >= 1 << 31 else x


def tsval(opts):
    """The last timestamp option of length 10, walked as Linux does."""
    i, val = 0, None
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2 or i + opts[i + 1] > len(opts):
            break
        if kind == 8 and opts[i + 1] == 10:
            val = struct.unpack_from("!I", opts, i + 2)[0]
        i += opts[i + 1]
    return val


def segments(path, port):
    """(client port, seq, end, tsval, rst) of the client's TCP segments to
    port; a RST from the server is (client port, None, None, None, True)."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return out
    magic = struct.unpack_from("<I", data)[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack_from(end + "I", data, 20)[0]
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from(end + "I", data, off + 8)[0]
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if linktype == 1:
            if len(pkt) < 14:
                continue
            etype, pkt = struct.unpack_from("!H", pkt, 12)[0], pkt[14:]
        elif linktype == 113:	# Linux cooked (tcpdump -i any)
            if len(pkt) < 16:
                continue
            etype, pkt = struct.unpack_from("!H", pkt, 14)[0], pkt[16:]
        else:
            continue
        if etype == 0x0800 and len(pkt) >= 20 and pkt[9] == 6:
            ihl, total = (pkt[0] & 15) * 4, struct.unpack_from("!H", pkt, 2)[0]
            tcp, plen = pkt[ihl:], total - ihl
        elif etype == 0x86dd and len(pkt) >= 40 and pkt[6] == 6:
            tcp, plen = pkt[40:], struct.unpack_from("!H", pkt, 4)[0]
        else:
            continue
        if len(tcp) < 20:
            continue
        sport, dport, seq = struct.unpack_from("!HHI", tcp)
        doff, rst = (tcp[12] >> 4) * 4, bool(tcp[13] & 4)
        if doff < 20 or len(tcp) < doff:
            continue
        if sport == port:
            if rst:
                out.append((dport, None, None, None, True))
        elif dport == port:
            out.append((sport, seq, (seq + plen - doff) & 0xffffffff,
                        tsval(tcp[20:doff]), rst))
    return out


def main():
    port = int(sys.argv[3])
    raw, shifted = segments(sys.argv[1], port), segments(sys.argv[2], port)
    copies = defaultdict(list)
    for s in raw:
        if s[3] is not None:
            copies[s[:3]].append(s[3])
    at_server = defaultdict(list)
    for i, s in enumerate(shifted):
        if s[3] is not None:
            at_server[s[:3]].append(i)
    raw_of = {}
    for k, idx in at_server.items():
        if len(copies.get(k, ())) != len(idx):
            continue
        for i, r in zip(sorted(idx, key=lambda i: shifted[i][3]), sorted(copies[k])):
            raw_of[i] = r
    top, reset = {}, set()
    own = added = after_rst = 0
    shifts = defaultdict(lambda: defaultdict(int))
    for i, s in enumerate(shifted):
        port = s[0]
        if port in reset:
            after_rst += 1
            continue
        if s[4]:
            reset.add(port)
        if i not in raw_of:
            continue
        v, r = s[3], raw_of[i]
        shifts[port][s32(v - r)] += 1
        if port in top:
            tv, tr = top[port]
            if s32(tv - v) > 1:
                if s32(tr - r) > 1:
                    own += 1
                else:
                    added += 1
            if s32(v - tv) <= 0:
                continue
        top[port] = (v, r)
    raw_mid = sum(d.get(0, 0) for d in shifts.values() if len(d) > 1)
    nshifts = max((len(d) for d in shifts.values()), default=0)
    total = sum(len(v) for v in at_server.values())
    print("matched %d of %d steps_back_own %d steps_back_added %d raw_mid_flow %d after_rst %d "
          "shifts %d" % (len(raw_of), total, own, added, raw_mid, after_rst, nshifts))
    return 0 if added == 0 and raw_mid == 0 and 2 * len(raw_of) >= total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
