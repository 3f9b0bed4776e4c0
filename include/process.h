/* SPDX-License-Identifier: GPL-2.0-or-later */
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
#include "discovery.h"
#include "domain.h"
#include "flow.h"
#include "ha.h"
#include "stats.h"

struct offload_path;

enum proc_result {
	PROC_PASS,		/* accept as received */
	PROC_MODIFIED,		/* accept with buf as changed */
	PROC_DROP,		/* a rewrite-flow packet we could not rewrite */
};

struct proc_pkt {
	uint8_t *buf;		/* the packet, changed in place */
	size_t len;		/* bytes present in buf */
	enum csum_mode csum;	/* how the TCP checksum is brought up to date */
	uint32_t indev;		/* NFQA_IFINDEX_INDEV, 0 if none */
	uint32_t mark;		/* NFQA_MARK: the kernel data path shifted it
				 * when it has offload_mark */
	uint32_t outdev;	/* NFQA_IFINDEX_OUTDEV, 0 if none */
	uint32_t wait_ms;	/* how long the kernel held it (nfqmsg_wait_ms) */
	bool truncated;		/* NFQA_CAP_LEN said the copy is short */
	/* NFQA_CT (the conntrack glue), when the queue has it */
	bool has_ct;
	uint32_t ct_status;	/* IPS_* */
	bool has_ct_labels;
	uint8_t ct_labels[16];
};

/* What a worker tells the main thread to log, naming the addresses
 * involved (workers never log). Single producer (the worker), single
 * consumer (the main thread); a full ring drops notes, never blocks. */
enum proc_note_kind {
	NOTE_SYN_WITHOUT_TS,	/* rewrite cannot protect this client */
	NOTE_CLAMP,		/* a client's TSval ran ahead of real time */
	NOTE_QUOTA,		/* a client hit its flow quota */
	NOTE_VERDICT,		/* discovery classified a server */
	NOTE_UNADOPTED,		/* a rewrite flow without state or label */
	NOTE_KINDS
};

#define PROC_NOTES 32
struct proc_note {
	uint8_t kind;		/* enum proc_note_kind */
	uint8_t family;
	uint16_t domain;
	uint32_t value;		/* CLAMP: the excess, ms; QUOTA: the quota;
				 * VERDICT: the verdict */
	uint32_t value2;	/* VERDICT: confirmed drops */
	uint8_t client[16];
	uint8_t server[16];
	char policy[64];	/* a copy: the config may be gone when it is read */
};
struct proc_notes {
	struct proc_note ring[PROC_NOTES];
	_Atomic uint32_t head, tail;
	uint8_t seen[256];	/* SYN_WITHOUT_TS: once per (domain, server) hash */
	uint32_t last[NOTE_KINDS]; /* CLAMP, QUOTA: at most one a second, +1 */
};

/* What the worker owns; times are set by the engine once per batch. */
struct proc_state {
	struct flow_table *flows;	/* NULL: no mode that keeps flows works */
	struct domains *domains;
	struct discovery *discovery;	/* observe, auto: NULL observes nothing */
	struct proc_notes *notes;	/* may be NULL */
	/* rewrite's kernel data path (offload.h); NULL: NFQUEUE only */
	const struct offload_path *offload;
	/* HA pairs (ha_labels): label writes and adoption; NULL: off */
	struct proc_ha *ha;
	unsigned worker;
	uint32_t now;			/* monotonic seconds */
	uint32_t now_ms;		/* wall clock milliseconds, mod 2^32 */
	uint32_t mono_ms;		/* monotonic milliseconds, mod 2^32 */
	/* The longest wait at the gateway of this worker's rewrite SYNs in
	 * the last one to two minutes (mode_rewrite.c): an NFQUEUE flow has
	 * no room for its own SYN's wait, as the kernel's entries have. */
	struct { uint32_t cur, prev, since; } syn_wait;
};

/* Decide and apply. Fail-open: anything unexpected is PROC_PASS and counted
 * in s; buf is left untouched whenever PROC_PASS is returned. */
enum proc_result process_packet(const struct conf *c, struct proc_state *ps,
				struct proc_pkt *in, struct stats *s);

#endif
