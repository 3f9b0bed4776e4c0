/* SPDX-License-Identifier: GPL-2.0-or-later */
/* shift.h - what the kernel data path (shift.bpf.c) and the daemon share:
 * the flows map's key and value, the marks and the counters. The daemon
 * refuses pinned maps whose key or value size differs (another version). */
#ifndef TSNATD_SHIFT_H
#define TSNATD_SHIFT_H

/* A rewritten flow, from the client's side: addresses in network order
 * (IPv4: 4 bytes then zeros), ports in network order. */
struct shift_key {
	__u8 family;		/* 4 or 6 */
	__u8 pad[3];
	__u8 client[16];
	__u8 server[16];
	__u16 client_port;
	__u16 server_port;
};

#define SHIFT_FIN_CLIENT 0x01	/* the client sent a FIN */
#define SHIFT_FIN_SERVER 0x02	/* the server sent a FIN */
#define SHIFT_ANSWERED 0x04	/* the server answered (not half-open) */
/* Closing: both FINs, or a RST (it sets both). */
#define SHIFT_CLOSING (SHIFT_FIN_CLIENT | SHIFT_FIN_SERVER)

/* Written by the daemon at the SYN; the program keeps last_raw, last_ns
 * and flags up to date. */
struct shift_flow {
	__u32 offset;		/* TSval' - TSval */
	__u32 syn_val;		/* the SYN's TSval': the bound starts here */
	__u32 syn_ms;		/* when, monotonic ms mod 2^32 */
	__u32 last_raw;		/* the client's latest TSval */
	__u64 last_ns;		/* last packet, monotonic ns */
	__u32 flags;		/* SHIFT_* */
	__u32 domain;		/* the daemon's clock domain (not used here) */
	__u32 last_val;		/* the TSval' sent for last_raw */
	__u32 syn_wait;		/* ms the SYN waited at the gateway before the
				 * daemon decided it (0: unknown) */
};

/* A clamp is counted (SHIFT_CLAMPED, ts_clamped) only when the client ran
 * ahead of its bound by more than its SYN's wait at the gateway plus this
 * many ticks (the client's and the gateway's millisecond boundaries, at
 * the SYN and now). Within that, an honest client whose SYN waited longer
 * than its data is compressed, not ahead: the value is clamped all the
 * same, only not counted. */
#define SHIFT_CLAMP_GRACE 2

/* shift_marks[0], per CPU: SHIFT_MARK_VALID | monotonic seconds (31 bits)
 * << 32 | the highest TSval' this CPU sent (serial order), so that the
 * daemon's next SYN starts above it. The daemon ignores a mark older than
 * SHIFT_MARK_AGE s: a legacy server forgets a record after 60 s, and a
 * mark left 2^31 ms behind would read as ahead. */
#define SHIFT_MARK_VALID (1ull << 63)
#define SHIFT_MARK_AGE 120

enum {
	SHIFT_INGRESS,		/* client TSvals shifted */
	SHIFT_EGRESS,		/* server TSecrs shifted */
	SHIFT_CLAMPED,		/* client TSvals clamped to the bound */
	SHIFT_NO_TS,		/* a flow's packet without timestamp */
	SHIFT_NOT_OURS,		/* not IPv4/IPv6 TCP the program handles */
	SHIFT_ERRORS,		/* a helper refused an edit */
	SHIFT_RESETS,		/* flows ended by a RST */
	SHIFT_NCOUNTERS
};

/* The skb mark bit the ingress program sets on the packets it shifted is
 * a constant the daemon writes before loading (rodata). */

#endif
