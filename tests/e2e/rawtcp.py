#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""rawtcp.py - hand-made TCP packets for the hardening tests (root, run
inside a client namespace; documentation addresses only).

  rawtcp.py poison SERVER PORT
      Open an ordinary connection to SERVER:PORT, then send on it, from a
      raw socket, one ACK whose TSval is the connection's SYN TSval
      + 2^31 - 1 (no knowledge of any offset needed), then an HTTP/1.0
      request; prints "syn_tsval=N sent_tsval=N".

  rawtcp.py flood SERVER PORT SRC COUNT SECONDS
      Send COUNT SYNs (with the options Linux sends, timestamps included)
      from SRC, random source ports, evenly over SECONDS, never completing
      them; prints "sent=N seconds=S".
"""
import random
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
ETH_P_ALL = 0x0003	# a packet socket sees outgoing frames only with this


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_packet(src, dst, sport, dport, seq, ack, flags, options, payload=b""):
    """An IPv4 packet with a TCP segment, checksums final."""
    hlen = 20 + len(options)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hlen // 4) << 4,
                      flags, 64240, 0, 0) + options + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    c = csum(pseudo + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000,
                     64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def ts_option(tsval, tsecr):
    return struct.pack("!BBBBII", 1, 1, 8, 10, tsval & 0xFFFFFFFF, tsecr & 0xFFFFFFFF)


def parse_tcp(frame):
    """(src, dst, sport, dport, seq, ack, flags, tsval, tsecr) of an Ethernet
    frame carrying IPv4 TCP, or None. TSval/TSecr None without the option."""
    if len(frame) < 14 + 40 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 6 or len(ip) < ihl + 20:
        return None
    tcp = ip[ihl:]
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", tcp[:14])
    hlen = (off >> 4) * 4
    tsval = tsecr = None
    i = 20
    while i < min(hlen, len(tcp)):
        kind = tcp[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(tcp) or tcp[i + 1] < 2:
            break
        if kind == 8 and tcp[i + 1] == 10:
            tsval, tsecr = struct.unpack("!II", tcp[i + 2:i + 10])
        i += tcp[i + 1]
    return (socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), sport, dport,
            seq, ack, flags, tsval, tsecr)


def poison(server, port):
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniff.bind(("eth0", ETH_P_ALL))
    conn = socket.create_connection((server, port), timeout=5)
    local, lport = conn.getsockname()
    syn = synack = None
    deadline = time.time() + 3
    while (syn is None or synack is None) and time.time() < deadline:
        r, _, _ = select.select([sniff], [], [], 0.5)
        if not r:
            continue
        p = parse_tcp(sniff.recv(65535))
        if not p:
            continue
        if p[2] == lport and p[1] == server and p[6] & 0x12 == 0x02:
            syn = p
        elif p[3] == lport and p[0] == server and p[6] & 0x12 == 0x12:
            synack = p
    if syn is None or synack is None or syn[7] is None:
        print("poison: did not see the handshake", file=sys.stderr)
        return 1
    tsval = (syn[7] + 0x7FFFFFFF) & 0xFFFFFFFF
    pkt = tcp_packet(local, server, lport, port, syn[4] + 1, synack[4] + 1, 0x10,
                     ts_option(tsval, synack[7] or 0))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.sendto(pkt, (server, 0))
    time.sleep(0.2)
    try:
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        conn.recv(65535)
    except OSError:
        pass
    conn.close()
    print("syn_tsval=%d sent_tsval=%d" % (syn[7], tsval))
    return 0


def syn_options(tsval):
    # MSS, SACK permitted, timestamp, NOP, window scale: what Linux sends
    return struct.pack("!BBH", 2, 4, 1460) + struct.pack("!BB", 4, 2) + \
        struct.pack("!BBII", 8, 10, tsval, 0) + struct.pack("!BBBB", 1, 3, 3, 7)


def flood(server, port, src, count, seconds):
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    start = time.time()
    tsval = random.getrandbits(32)
    ports = random.sample(range(10000, 60000), count)
    for i in range(count):
        due = start + seconds * i / count
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        pkt = tcp_packet(src, server, ports[i], port, random.getrandbits(32), 0, 0x02,
                         syn_options((tsval + i) & 0xFFFFFFFF))
        raw.sendto(pkt, (server, 0))
    print("sent=%d seconds=%.2f" % (count, time.time() - start))
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "poison":
        return poison(argv[2], int(argv[3]))
    if len(argv) == 7 and argv[1] == "flood":
        return flood(argv[2], int(argv[3]), argv[4], int(argv[5]), float(argv[6]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
