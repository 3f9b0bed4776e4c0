/* SPDX-License-Identifier: GPL-2.0-or-later */
/* refmodel.h - a plain reference model of what tsnatd does with one queued
 * packet: the modes' rules written again, the simple way, for the tests to
 * hold process_packet() to. Written independently of the daemon's decision
 * code: a small array of flows searched linearly (refflows.c), one
 * high-water mark per clock domain, its own header and option walk (and, in
 * refcheck.c, its own TCP checksum to judge the daemon's). From the daemon
 * it takes only the parser's verdict on a packet (the parser has its own
 * differential test), cidr_contains() for the policies' first match, the
 * configuration as parsed and struct flow_timeouts (three numbers).
 *
 * Not modelled: the notes (logging only), the engine's counters (packets,
 * batches, modified, passed, flows_expired, ...), several workers (one set
 * of marks), and flows restored from a state file. The per-client count
 * is exact, where the daemon's sketch may count more (never fewer): with
 * the tests' few client addresses it does not. */
#ifndef TSNATD_REFMODEL_H
#define TSNATD_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "csum.h"
#include "domain.h"
#include "flow.h"
#include "process.h"
#include "stats.h"

#define REF_FLOWS_MAX 256	/* the largest table a test may model */
#define REF_IFINDEX_MAX 16	/* outgoing interfaces with an "auto" domain */

/* The lists a flow can be on, in the order a full table evicts from. */
enum ref_list {
	REF_HALF_OPEN,		/* the server has not answered yet */
	REF_CLOSING,		/* both FINs seen */
	REF_OPEN,
};

/* One rewrite flow, as the rules describe it. */
struct ref_flow {
	uint8_t family;				/* 4 or 6 */
	uint8_t client[16], server[16];
	uint16_t cport, sport;
	uint32_t offset;			/* TSval' - TSval */
	uint32_t last_raw;			/* the client's latest TSval */
	uint32_t syn_val;			/* the SYN's TSval' */
	uint32_t syn_ms;			/* monotonic ms at the SYN */
	uint16_t domain;
	uint16_t last;				/* last packet, seconds mod 2^16 */
	uint64_t stamp;				/* its place in its list's order */
	bool rebase;				/* SYN had TSval 0, not yet rebased */
	bool answered;				/* the server sent a packet */
	bool fin_client, fin_server;
};

/* Paths the model took that no daemon counter shows: a test asserts that
 * its traffic reached them. */
struct ref_paths {
	uint64_t rebased;	/* a TSval-0 SYN's flow rebased */
	uint64_t reopened;	/* a client SYN replaced a flow that saw a FIN */
	uint64_t answered;	/* half-open flows the server answered */
	uint64_t fins;		/* flows that became closing */
	uint64_t resets;	/* flows removed by RST */
	uint64_t two_ts;	/* changed packets with two timestamp options */
	uint64_t evicted[3];	/* evictions, by enum ref_list */
	uint64_t evicted_before_open;	/* a half-open one while open ones waited */
	uint64_t expired;	/* flows ref_expire() removed */
	uint64_t expired_half_open;	/* of which half-open */
	uint64_t syn_from_mark;	/* a SYN's TSval' was its domain's mark */
	uint64_t syn_from_floor;	/* a SYN's TSval' was the floor */
	uint64_t clamped_stalled;	/* clamped to a bound whose time ran negative */
	uint64_t quota_spared;	/* a SYN under quota only as closing flows are not counted */
};

struct ref_model {
	const struct conf *conf;	/* enabled, policies, flows.*: per packet */
	bool table;			/* false: the worker has no flow table */
	unsigned max;			/* flows the table holds */
	struct ref_flow flow[REF_FLOWS_MAX];
	unsigned nflows;
	uint64_t stamps;		/* the last stamp given */
	bool marked[DOMAIN_MAX];	/* a mark exists for the domain */
	uint32_t mark[DOMAIN_MAX];	/* highest TSval' sent from it */
	bool floored;			/* a floor for every SYN's TSval' */
	uint32_t floor;
	uint16_t ifdom[2][REF_IFINDEX_MAX];	/* [v6][ifindex]: "auto" domain */
	uint32_t now, now_ms, mono_ms;	/* as the daemon's proc_state */
	struct stats st;
	struct ref_paths paths;
};

/* How the packet was queued. */
struct ref_in {
	enum csum_mode csum;
	uint32_t outdev;
	bool truncated;
};

/* What the model decided, and where the packet's checksum lies. */
struct ref_out {
	enum proc_result verdict;
	bool parsed;			/* the parser accepted it */
	bool whole;			/* complete in the buffer, copy not short */
	int family;
	size_t alen;			/* address length: 4 or 16 */
	size_t src_at, dst_at;		/* offsets of the addresses */
	size_t l4;			/* offset of the TCP header */
	size_t seg_len;			/* TCP header + payload per the IP header */
	const char *error;		/* the model could not follow the packet */
};

/* An empty model of a worker with (table) or without a flow table of max
 * flows (max <= REF_FLOWS_MAX), reading c. */
void ref_init(struct ref_model *m, const struct conf *c, bool table, unsigned max);

/* Packets leaving through ifindex (family) take domain dom under "auto". */
void ref_set_ifindex(struct ref_model *m, int family, uint32_t ifindex, uint16_t dom);

/* No SYN of any domain gets a TSval' below floor (domains_set_floor()). */
void ref_set_floor(struct ref_model *m, uint32_t floor);

/* Decide and apply: buf[0..len) is changed in place as the daemon must
 * change it, except for the TCP checksum field, which is never written. */
void ref_process(struct ref_model *m, uint8_t *buf, size_t len, const struct ref_in *in,
		 struct ref_out *out);

/* Expiry as the engine runs it: half-open flows idle for to->half_open
 * seconds, then closing ones for to->closing, then open ones for to->idle;
 * in each list the longest idle first, stopping at the first that is not;
 * at most limit in all. Returns how many. */
unsigned ref_expire(struct ref_model *m, const struct flow_timeouts *to, unsigned limit);

/* The flow of the packet in buf that out describes (out->parsed), or
 * NULL; *from_client says its direction. */
const struct ref_flow *ref_flow_of(const struct ref_model *m, const struct ref_out *out,
				   const uint8_t *buf, bool *from_client);

/* The flow whose client is (family, client, cport) and server (server,
 * sport), or NULL. */
const struct ref_flow *ref_flow_find(const struct ref_model *m, int family,
				     const uint8_t *client, uint16_t cport,
				     const uint8_t *server, uint16_t sport);

/* Half-open and open flows of client address addr. */
unsigned ref_client_flows(const struct ref_model *m, int family, const uint8_t *addr);

/* f is closing: both FINs seen. */
bool ref_closing(const struct ref_flow *f);

#endif
