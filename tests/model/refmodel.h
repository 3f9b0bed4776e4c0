/* refmodel.h - a plain reference model of what tsnatd does with one queued
 * packet: the modes' rules written again, the simple way, for the tests to
 * hold process_packet() to. Written independently of the daemon's decision
 * code: a small array of flows searched linearly, one high-water mark per
 * clock domain, its own header and option walk (and, in refcheck.c, its
 * own TCP checksum to judge the daemon's). From the daemon it takes only
 * the parser's verdict on a packet (the parser has its own differential
 * test), cidr_contains() for the policies' first match, and the
 * configuration as parsed.
 *
 * Not modelled: the notes of SYNs without timestamp (logging only), the
 * engine's counters (packets, batches, modified, passed, ...), several
 * workers (one set of marks), and flows restored from a state file. */
#ifndef TSNATD_REFMODEL_H
#define TSNATD_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "csum.h"
#include "domain.h"
#include "process.h"
#include "stats.h"

#define REF_FLOWS_MAX 256	/* the largest table a test may model */
#define REF_IFINDEX_MAX 16	/* outgoing interfaces with an "auto" domain */

/* One rewrite flow, as the rules describe it. */
struct ref_flow {
	uint8_t family;				/* 4 or 6 */
	uint8_t client[16], server[16];
	uint16_t cport, sport;
	uint32_t offset;			/* TSval' - TSval */
	uint32_t last_raw;			/* the client's latest TSval */
	uint16_t domain;
	uint16_t last;				/* last packet, seconds mod 2^16 */
	uint64_t stamp;				/* its place in the idle order */
	bool rebase;				/* SYN had TSval 0, not yet rebased */
	bool fin_client, fin_server, closing;
};

/* Paths the model took that no daemon counter shows: a test asserts that
 * its traffic reached them. */
struct ref_paths {
	uint64_t rebased;	/* a TSval-0 SYN's flow rebased */
	uint64_t reopened;	/* a client SYN replaced a flow that saw a FIN */
	uint64_t fins;		/* flows that became closing */
	uint64_t resets;	/* flows removed by RST */
	uint64_t two_ts;	/* changed packets with two timestamp options */
	uint64_t evicted_closing;	/* evictions that took a closing flow */
	uint64_t expired;	/* flows ref_expire() removed */
};

struct ref_model {
	const struct conf *conf;	/* enabled, policies, on_full: per packet */
	bool table;			/* false: the worker has no flow table */
	unsigned max;			/* flows the table holds */
	struct ref_flow flow[REF_FLOWS_MAX];
	unsigned nflows;
	uint64_t stamps;		/* the last stamp given */
	bool marked[DOMAIN_MAX];	/* a mark exists for the domain */
	uint32_t mark[DOMAIN_MAX];	/* highest TSval' sent from it */
	uint16_t ifdom[2][REF_IFINDEX_MAX];	/* [v6][ifindex]: "auto" domain */
	uint32_t now, now_ms;		/* as the daemon's proc_state */
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

/* Decide and apply: buf[0..len) is changed in place as the daemon must
 * change it, except for the TCP checksum field, which is never written. */
void ref_process(struct ref_model *m, uint8_t *buf, size_t len, const struct ref_in *in,
		 struct ref_out *out);

/* Expiry as the engine runs it: open flows idle for idle seconds, then
 * closing flows idle for closing seconds, longest idle first, stopping at
 * the first that is not, at most limit in all. Returns how many. */
unsigned ref_expire(struct ref_model *m, uint32_t idle, uint32_t closing, unsigned limit);

/* The flow of the packet in buf that out describes (out->parsed), or
 * NULL; *from_client says its direction. */
const struct ref_flow *ref_flow_of(const struct ref_model *m, const struct ref_out *out,
				   const uint8_t *buf, bool *from_client);

#endif
