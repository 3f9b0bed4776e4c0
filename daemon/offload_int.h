/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offload_int.h - what offload.c (loading, adopting, the main loop's
 * housekeeping) and offload_map.c (what the workers and the sweep do with
 * the maps) share: struct offload and a few helpers. Private to daemon/. */
#ifndef TSNATD_OFFLOAD_INT_H
#define TSNATD_OFFLOAD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "offload.h"

/* The tc filters' identity on every interface: handle and priority. */
#define TC_HANDLE 0x7453
#define TC_PRIO 0x7453
#define MAX_IFACES 64
#define MAX_CPUS 512	/* per-CPU values read on a worker's stack */
/* The per-client counts of the quota: a count-min sketch (never fewer
 * than there are), rebuilt by each sweep and published to the workers;
 * each worker adds what it wrote since. */
#define CM_D 2
#define CM_W 4096
#define SWEEP_MAX_DEAD (1u << 20)	/* entries ended per sweep, at most */

struct recent {
	uint32_t gen;				/* of the sweep it counts from */
	uint32_t c[CM_D][CM_W];
	/* the programs' mark as this worker last read it */
	uint32_t mark_ms, mark;
	bool mark_read, has_mark;
};

enum { PIN_FLOWS, PIN_MARKS, PIN_COUNTERS, PIN_INGRESS, PIN_EGRESS, NPINS };

struct offload {
	int fd[NPINS];
	bool adopted;
	bool drain;				/* offload = false: only the sweep */
	bool unloaded;				/* drained, then unloaded */
	char dir[256];
	uint64_t last_sweep;			/* monotonic s */
	uint32_t flows;				/* entries at the last sweep */
	uint32_t open;				/* of which offload_entry_open */
	uint64_t errors;			/* SHIFT_ERRORS last warned about */
	uint32_t seed;				/* keys the sketch */
	_Atomic uint32_t gen;			/* sweeps published */
	_Atomic uint32_t pub[CM_D][CM_W];	/* entries per client, last sweep */
	uint32_t scratch[CM_D][CM_W];		/* the sweep's count */
	struct recent *recent;			/* per worker */
	unsigned nrecent;
	int ncpus;
	pthread_mutex_t lock;			/* attach */
	_Atomic uint32_t ifindex[MAX_IFACES];	/* attached by this daemon
						 * (UINT32_MAX: a free slot) */
	uint32_t only[MAX_IFACES];		/* offload_interfaces, if listed */
	unsigned nonly;
	struct { uint32_t ifindex; uint64_t until_ns; } refused[8]; /* lock */
	struct offload_path path;
	struct offload_path drain_path;		/* the same, draining: published
						 * instead (engine_set_offload) */
};

/* Why offload_start() returned NULL (offload_why). */
extern char offload_last_why[OFFLOAD_WHY];

/* An entry whose flow is not closed: no RST, not both FINs. The one
 * meaning of "open" for the sweep's count (status) and --unload's. */
bool offload_entry_open(const struct shift_flow *f);

/* CLOCK_MONOTONIC in ns: bpf_ktime_get_ns()'s clock. */
uint64_t offload_now_ns(void);

/* The highest TSval' any CPU's program sent in the last SHIFT_MARK_AGE s. */
bool offload_read_mark(struct offload *o, uint32_t *mark);

/* The workers' operations (offload.h): all of them, and while draining. */
extern const struct offload_ops offload_worker_ops, offload_drain_ops;

/* Attach to ifindex unless already (offload_ops.attach): 0 or -1. */
int offload_attach(void *ctx, uint32_t ifindex);

#endif
