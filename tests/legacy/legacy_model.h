/* SPDX-License-Identifier: GPL-2.0-or-later */
/* legacy_model.h - the tcp_tw_recycle behaviour of Linux < 4.12 servers
 * (tcp_peer_is_proven(), tcp_time_wait()), as a pure state machine over the segments a
 * server receives and sends. The emulator feeds it from NFQUEUE; the unit
 * tests feed it event sequences. The kernel code it follows, and why the
 * two variants differ: doc/DESIGN.md, section 2. */
#ifndef TSNATD_LEGACY_MODEL_H
#define TSNATD_LEGACY_MODEL_H

#include <stdbool.h>
#include <stdint.h>

enum legacy_variant {
	LEGACY_V310,	/* vanilla 3.10: key = peer; SYN without TS not checked */
	LEGACY_V4X,	/* 4.0-4.11, RHEL7: key = (local, peer); SYN without TS
			 * dropped while a fresh entry exists */
};

enum legacy_verdict {
	LEGACY_ACCEPT,
	LEGACY_DROP_PASSIVE,	/* TcpExt PAWSPassive: SYN behind the peer cache */
	LEGACY_DROP_ESTAB,	/* TcpExt PAWSEstab: per-connection PAWS */
};

struct legacy_seg {
	bool inbound;			/* peer -> server */
	uint8_t family;			/* 4 or 6 */
	uint8_t local[16], peer[16];	/* server and peer addresses */
	uint16_t lport, pport;
	uint8_t flags;			/* TCP flags */
	bool has_ts;
	uint32_t tsval, tsecr;
	uint32_t seq, ack;		/* host order */
	uint16_t payload;		/* payload bytes */
};

struct legacy_counts {
	uint64_t syns;			/* inbound SYNs */
	uint64_t paws_passive;
	uint64_t paws_estab;
	uint64_t recorded;		/* peer-cache updates on active close */
};

struct legacy;

struct legacy *legacy_new(enum legacy_variant v);
void legacy_free(struct legacy *l);

/* Apply one segment at time now (seconds); say whether the server would
 * process it or silently drop it. */
enum legacy_verdict legacy_segment(struct legacy *l, const struct legacy_seg *s,
				   uint32_t now);

const struct legacy_counts *legacy_counts(const struct legacy *l);
int legacy_variant_parse(const char *s, enum legacy_variant *v);

#endif
