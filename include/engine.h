/* engine.h - the NFQUEUE I/O engine: one netlink socket and one worker
 * thread per queue; batched receive (recvmmsg), in-place processing, and all
 * verdicts of a batch in one sendmsg. */
#ifndef TSNATD_ENGINE_H
#define TSNATD_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "conf.h"
#include "csum.h"
#include "domain.h"
#include "flow.h"
#include "process.h"
#include "stats.h"

struct engine;

/* The checksum mode for a packet's NFQA_SKB_INFO flags (host order): GSO
 * -> CSUM_NONE, CSUMNOTREADY -> CSUM_FULL, else CSUM_INCREMENTAL. */
enum csum_mode engine_csum_mode(uint32_t skb_info);

/* Open and bind queues; each worker gets a flow table of
 * c->flows_max / queue_count flows (hash seeded with seed) and uses domains. c->queue_first .. +queue_count-1: copy mode, maxlen
 * and FAIL_OPEN|GSO in one acknowledged config message per queue. Returns
 * NULL after logging why (e.g. the queue is bound by another process). */
struct engine *engine_open(const struct conf *c, struct domains *domains, uint32_t seed);

/* Benchmarks: an engine whose one worker has no socket and no thread;
 * engine_replay() runs n received datagrams (NFQUEUE packet messages) as
 * one batch, as recvmmsg() would have returned them, through exactly the
 * batch path (parse, process, verdict messages) but sends nothing.
 * Returns the number of packets handled. */
struct engine *engine_offline(const struct conf *c, struct domains *domains, uint32_t seed);
unsigned engine_replay(struct engine *e, _Atomic(struct conf *) *confp,
		       void *const *bufs, const size_t *lens, unsigned n);
/* Make an offline engine's counters readable through engine_stats(). */
void engine_offline_publish(struct engine *e);

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
void engine_stats(const struct engine *e, unsigned i, struct stats *out);

/* Worker i's flow table: only while the workers are stopped (save/restore). */
struct flow_table *engine_flows(const struct engine *e, unsigned i);

/* Flows in all tables (workers stopped, or an estimate while running). */
unsigned long engine_flow_count(const struct engine *e);

/* Main thread: the next "SYN without timestamp" note of worker i. */
bool engine_note(struct engine *e, unsigned i, struct proc_note *out);

#endif
