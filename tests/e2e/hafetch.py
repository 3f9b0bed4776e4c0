#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/hafetch.py - the HA test's clients (tests/e2e/ha.sh), HTTP/1.0
# over plain sockets, each connection from a random source port (Linux
# derives a connection's timestamp offset from its 4-tuple: fixed ports
# would give every run the same offsets, and the same outcome).
#
#   hafetch.py get SRC HOST PATH COUNT KIB IDLE
#       COUNT downloads of PATH at once, each read at KIB KiB per 10 ms
#       (a small receive buffer, so that the server sends at that pace:
#       curl's --limit-rate ran 2-3x over here). A download that receives
#       nothing for IDLE seconds has stalled. Prints one line per download,
#       "sport=P ok|stalled|error bytes=N seconds=S", then
#       "downloads=COUNT completed=N".
#   hafetch.py connect SRC HOST COUNT PARALLEL
#       COUNT requests of / (PARALLEL at a time), each allowed 2 s to
#       connect, 5 s in all. Prints "attempts slow failed" (slow: the
#       connect took over 0.9 s, at least one SYN was retransmitted).
# Bounded: every socket has a timeout, every loop a count.
import random
import socket
import sys
import threading
import time


def bind_random(s, src):
    for _ in range(50):
        try:
            s.bind((src, random.randint(20000, 59999)))
            return
        except OSError:
            continue
    s.bind((src, 0))


def request(src, host, path, rcvbuf=0, connect_timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    bind_random(s, src)
    s.settimeout(connect_timeout)
    t0 = time.monotonic()
    s.connect((host, 80))
    took = time.monotonic() - t0
    s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, host)).encode())
    return s, took


def body_length(head):
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return -1


def download(src, host, path, kib, idle, out, i):
    sport, state, got, t0 = 0, "error", 0, time.monotonic()
    try:
        s, _ = request(src, host, path, rcvbuf=32768, connect_timeout=5.0)
        sport = s.getsockname()[1]
        s.settimeout(idle)
        data = b""
        tick = time.monotonic()
        while True:
            chunk = s.recv(kib * 1024)
            if not chunk:
                break
            data += chunk if len(data) < 4096 else b""
            got += len(chunk)
            tick += 0.01
            pause = tick - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                tick = time.monotonic()
        head_end = data.find(b"\r\n\r\n")
        want = body_length(data[:head_end]) if head_end >= 0 else -1
        state = "ok" if want >= 0 and got - head_end - 4 == want else "short"
        s.close()
    except socket.timeout:
        state = "stalled"
    except OSError as e:
        state = "error(%s)" % e.strerror
    out[i] = "sport=%d %s bytes=%d seconds=%.1f" % (sport, state, got, time.monotonic() - t0)


def connect_one(src, host, res, i):
    t0 = time.monotonic()
    try:
        s, took = request(src, host, "/")
        s.settimeout(max(0.5, 5.0 - (time.monotonic() - t0)))
        while s.recv(65536):
            pass
        s.close()
        res[i] = "slow" if took > 0.9 else "ok"
    except OSError:
        res[i] = "failed"


def main():
    cmd, src, host = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd == "get":
        path, count, kib, idle = sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
        out = [""] * count
        ts = [threading.Thread(target=download, args=(src, host, path, kib, idle, out, i))
              for i in range(count)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for line in out:
            print(line)
        print("downloads=%d completed=%d" % (count, sum(1 for l in out if " ok " in l)))
    elif cmd == "connect":
        count, par = int(sys.argv[4]), int(sys.argv[5])
        res = [""] * count
        for first in range(0, count, par):
            ts = [threading.Thread(target=connect_one, args=(src, host, res, i))
                  for i in range(first, min(count, first + par))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        print("%d %d %d" % (count, res.count("slow"), res.count("failed")))
    else:
        sys.exit("usage: hafetch.py get|connect ...")


if __name__ == "__main__":
    main()
