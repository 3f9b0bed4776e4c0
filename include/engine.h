/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine.h - the NFQUEUE I/O engine: one netlink socket and one worker
 * thread per queue; batched receive (recvmmsg), in-place processing, and all
 * verdicts of a batch in one sendmsg. The messages themselves are nfq.h's. */
#ifndef TSNATD_ENGINE_H
#define TSNATD_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "conf.h"
#include "domain.h"
#include "flow.h"
#include "process.h"
#include "stats.h"

struct engine;
struct flowsnap;
struct offload_path;

/* Open and bind queues; each worker gets a flow table of
 * c->flows_max / queue_count flows (hash seeded with seed) and uses
 * domains. c->queue_first .. +queue_count-1: copy mode, maxlen
 * and FAIL_OPEN|GSO in one acknowledged config message per queue. Returns
 * NULL after logging why (e.g. the queue is bound by another process). */
struct engine *engine_open(const struct conf *c, struct domains *domains,
			   struct discovery *discovery, uint32_t seed);

/* Give the workers rewrite's kernel data path (NULL: NFQUEUE only), before
 * engine_start or while they run (a reload): each worker takes it at its
 * next batch, with the configuration. What it replaces may still be read
 * until every worker's epoch has moved (engine_epoch). */
void engine_set_offload(struct engine *e, const struct offload_path *ol);

/* Start the workers. Each reads *confp once per batch. Returns 0 or -1. */
int engine_start(struct engine *e, _Atomic(struct conf *) *confp);

/* Stop taking packets (queue maxlen 0: the kernel fails open), give every
 * packet already queued its verdict, join the workers, close the sockets. */
void engine_stop(struct engine *e);

/* Free a stopped engine (its counters stay readable until then). */
void engine_free(struct engine *e);

unsigned engine_nworkers(const struct engine *e);
/* Worker i's batch counter: it moves at least every 250 ms while the worker
 * runs, so a changed value proves the worker no longer uses an older conf. */
unsigned engine_epoch(const struct engine *e, unsigned i);
unsigned engine_queue(const struct engine *e, unsigned i);
/* Whether queue i has the conntrack glue (NFQA_CFG_F_CONNTRACK accepted at
 * engine_open: its packets carry their conntrack entry, NFQA_CT); if not,
 * *err (err may be NULL) is the kernel's errno: EOPNOTSUPP where it lacks
 * CONFIG_NETFILTER_NETLINK_GLUE_CT. */
bool engine_conntrack(const struct engine *e, unsigned i, int *err);
/* Why the glue is off, for that errno, as status and the log say it
 * ("kernel lacks NETLINK_GLUE_CT" for EOPNOTSUPP). Static text. */
const char *engine_glue_reason(int err);
void engine_stats(const struct engine *e, unsigned i, struct stats *out);

/* Worker i's flow table: only while the workers are stopped (save/restore). */
struct flow_table *engine_flows(const struct engine *e, unsigned i);

/* Flows in worker i's table as it published them at its last turn (at
 * most 250 ms old while it runs): safe from any thread. */
uint32_t engine_queue_flows(const struct engine *e, unsigned i);

/* Worker i's mailbox for a copy of its flows, served between batches
 * while it runs (flowsnap.h): the way to look at them while it runs. */
struct flowsnap *engine_flowsnap(struct engine *e, unsigned i);

/* Flows in all tables (workers stopped, or an estimate while running). */
unsigned long engine_flow_count(const struct engine *e);

/* Main thread: the next "SYN without timestamp" note of worker i. A note
 * may point into the conf the worker used: read notes before that conf is
 * freed (reload_workers.drain). */
bool engine_note(const struct engine *e, unsigned i, struct proc_note *out);

#endif
