/* process.h - one queued packet: parsed once, decided once (its flow's
 * mode, or the matching policy's), applied once (bytes and checksum). Pure:
 * no syscalls, no logging, no allocation; the engine calls it once per
 * packet and the tests call it directly. */
#ifndef TSNATD_PROCESS_H
#define TSNATD_PROCESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "csum.h"
#include "domain.h"
#include "flow.h"
#include "stats.h"

enum proc_result {
	PROC_PASS,		/* accept as received */
	PROC_MODIFIED,		/* accept with buf as changed */
	PROC_DROP,		/* a rewrite-flow packet we could not rewrite */
};

struct proc_pkt {
	uint8_t *buf;		/* the packet, changed in place */
	size_t len;		/* bytes present in buf */
	enum csum_mode csum;	/* how the TCP checksum is brought up to date */
	uint32_t outdev;	/* NFQA_IFINDEX_OUTDEV, 0 if none */
	bool truncated;		/* NFQA_CAP_LEN said the copy is short */
};

/* A SYN without timestamp hit a rewrite policy: the daemon logs each
 * (domain, server) pair once. Single producer (the worker), single
 * consumer (the main thread). */
#define PROC_NOTES 32
struct proc_note {
	uint16_t domain;
	uint8_t family;
	uint8_t server[16];
	const char *policy;
};
struct proc_notes {
	struct proc_note ring[PROC_NOTES];
	_Atomic uint32_t head, tail;
	uint8_t seen[256];	/* worker-side filter by hash */
};

/* What the worker owns; times are set by the engine once per batch. */
struct proc_state {
	struct flow_table *flows;	/* NULL: no mode that keeps flows works */
	struct domains *domains;
	struct proc_notes *notes;	/* may be NULL */
	unsigned worker;
	uint32_t now;			/* monotonic seconds */
	uint32_t now_ms;		/* wall clock milliseconds, mod 2^32 */
};

/* Decide and apply. Fail-open: anything unexpected is PROC_PASS and counted
 * in s; buf is left untouched whenever PROC_PASS is returned. */
enum proc_result process_packet(const struct conf *c, struct proc_state *ps,
				struct proc_pkt *in, struct stats *s);

#endif
