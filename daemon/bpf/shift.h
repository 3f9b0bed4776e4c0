/* shift.h - what the kernel data path (shift.bpf.c) and the daemon share:
 * the flows map's key and value, and the counters. */
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

struct shift_flow {
	__u32 offset;		/* TSval' - TSval */
	__u32 syn_val;		/* the SYN's TSval': the bound starts here */
	__u32 syn_ms;		/* when, monotonic ms mod 2^32 */
	__u32 last_raw;		/* the client's latest TSval */
	__u64 last_ns;		/* last packet, monotonic ns */
};

enum {
	SHIFT_INGRESS,		/* client TSvals shifted */
	SHIFT_EGRESS,		/* server TSecrs shifted */
	SHIFT_CLAMPED,		/* client TSvals clamped to the bound */
	SHIFT_NO_TS,		/* a flow's packet without timestamp */
	SHIFT_NOT_OURS,		/* not IPv4/IPv6 TCP the program handles */
	SHIFT_ERRORS,		/* a helper refused an edit */
	SHIFT_NCOUNTERS
};

#endif
