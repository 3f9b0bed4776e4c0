/* SPDX-License-Identifier: GPL-2.0-or-later */
/* discovery.h - which servers behind the gateway drop SYNs because of
 * timestamps (tcp_tw_recycle): for each (translated source, server), what a
 * legacy server would have recorded, what it would drop, and what the
 * server then did.
 *
 * The model is the legacy server's (kernels before 4.12): when it closes
 * first, it records the client's latest TSval it accepted, for 60 s; a SYN
 * whose TSval is more than 1 behind it is dropped silently (variant 4x
 * also drops a SYN without timestamp; 3.10 never checks those).
 *
 * Evidence: a SYN predicted to be dropped that is retransmitted with no
 * SYN-ACK in between is a confirmed drop; one answered by a SYN-ACK is
 * contrary evidence (the server is not legacy, or recorded nothing).
 * Verdict: legacy after DISCOVERY_LEGACY_CONFIRMED confirmed drops, as long
 * as they outnumber the contrary evidence; not-legacy after
 * DISCOVERY_NOT_LEGACY_CONTRARY answered predictions and no confirmed drop;
 * unknown otherwise. Three, not one: a SYN also goes unanswered when it is
 * lost or the server is down, and a prediction can be wrong once when the
 * server recorded a different value than the one seen here.
 *
 * One table shared by the workers (a mutex: observe queues only SYNs, FINs
 * and RSTs), bounded: the least recently seen entry makes room. */
#ifndef TSNATD_DISCOVERY_H
#define TSNATD_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISCOVERY_MAX_DEFAULT 4096
#define DISCOVERY_LEGACY_CONFIRMED 3
#define DISCOVERY_NOT_LEGACY_CONTRARY 3
#define DISCOVERY_RECORD_S 60		/* how long a legacy server keeps a record */

enum discovery_verdict {
	DISCOVERY_UNKNOWN,
	DISCOVERY_LEGACY,
	DISCOVERY_NOT_LEGACY,
};

/* What a SYN would meet at a legacy server, per variant. */
#define DISCOVERY_DROP_310 0x01
#define DISCOVERY_DROP_4X 0x02

/* One (translated source, server), as reported. */
struct discovery_server {
	uint8_t family;			/* 4 or 6 */
	uint8_t server[16];
	uint16_t domain;		/* the translated source's clock domain */
	uint64_t syns, predicted_310, predicted_4x, confirmed, contrary;
	enum discovery_verdict verdict;
	uint32_t last_seen;		/* monotonic seconds */
};

struct discovery;

/* A table of at most max entries; NULL if out of memory. */
struct discovery *discovery_new(size_t max);
void discovery_free(struct discovery *d);

/* A client SYN from domain dom to server (family 4/6) at monotonic second
 * now: counted, and the DISCOVERY_DROP_* a legacy server would apply. */
unsigned discovery_syn(struct discovery *d, uint16_t dom, int family, const uint8_t *server,
		       bool has_ts, uint32_t tsval, uint32_t now);

/* The server closed first and the client's latest TSval it accepted is
 * tsval: what a legacy server records (the higher one within 60 s). */
void discovery_record(struct discovery *d, uint16_t dom, int family, const uint8_t *server,
		      uint32_t tsval, uint32_t now);

/* Evidence about a SYN predicted to be dropped: confirmed (retransmitted,
 * unanswered) or contrary (answered). Returns the verdict after it, and
 * sets *changed when it moved. */
enum discovery_verdict discovery_evidence(struct discovery *d, uint16_t dom, int family,
					  const uint8_t *server, bool confirmed, uint32_t now,
					  bool *changed);

/* The verdict for (dom, server): DISCOVERY_UNKNOWN if not in the table. */
enum discovery_verdict discovery_verdict(struct discovery *d, uint16_t dom, int family,
					 const uint8_t *server);

/* Copy up to max entries into out, most confirmed drops first (then most
 * SYNs); returns how many. */
size_t discovery_snapshot(struct discovery *d, struct discovery_server *out, size_t max);

/* Entries in the table. */
size_t discovery_count(struct discovery *d);

/* "legacy", "not-legacy", "unknown". */
const char *discovery_verdict_name(enum discovery_verdict v);

/* Raw entries for the state file: records included. Iterates under the
 * lock; fn must not call back into d. */
struct discovery_entry_state {
	struct discovery_server s;
	bool has_record;
	uint32_t record_ts, record_age;	/* the age in seconds at the call */
};
void discovery_foreach(struct discovery *d, uint32_t now,
		       void (*fn)(const struct discovery_entry_state *e, void *arg), void *arg);

/* Put an entry back (restoring state); now is the current monotonic
 * second. A full table makes room as for a new entry. */
void discovery_restore(struct discovery *d, const struct discovery_entry_state *e, uint32_t now);

/* HA pairs: the other gateway's auto mode acted on a flow to server (its
 * conntrack labels say so): the server is legacy here too, as if its drops
 * had been confirmed here. True when that changed its verdict. */
bool discovery_adopt_legacy(struct discovery *d, uint16_t dom, int family, const uint8_t *server,
			    uint32_t now);

#endif
