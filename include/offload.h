/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offload.h - the rewrite mode's kernel data path: tc programs on the
 * client-facing interfaces shift every packet of an offloaded flow but its
 * client SYNs, which the daemon still decides through NFQUEUE.
 *
 * The one source of truth for an offloaded flow is its entry in the
 * kernel's flows map (an LRU hash pinned under offload_dir): the daemon
 * writes it at the flow's first SYN, before that SYN's verdict, and keeps
 * no flow of its own for it; the programs end it on a RST; the daemon's
 * sweep ends it after both FINs or when idle. A restarted daemon, even
 * after kill -9, finds the pinned map and programs and goes on from them.
 * See doc/ARCHITECTURE.md, "The kernel data path". */
#ifndef TSNATD_OFFLOAD_H
#define TSNATD_OFFLOAD_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../daemon/bpf/shift.h"

/* What the packet path needs of the kernel data path: one client SYN at a
 * time, from a worker. Each may make a system call; tests give fakes. */
struct offload_ops {
	/* The entry of k: 1 (in *f), 0 none, -1 error. */
	int (*get)(void *ctx, const struct shift_key *k, struct shift_flow *f);
	/* Write k's entry (last_ns is set here), a new one (create) or the
	 * one there: 0, or -1. NULL: the data path takes no new flows
	 * (draining). */
	int (*put)(void *ctx, const struct shift_key *k, const struct shift_flow *f, bool create);
	/* Remove k's entry: 0 (also when there was none), or -1. */
	int (*del)(void *ctx, const struct shift_key *k);
	/* The highest TSval' the programs sent (serial order), as worker
	 * last read it at most a millisecond before mono_ms: false if none. */
	bool (*mark)(void *ctx, unsigned worker, uint32_t mono_ms, uint32_t *mark);
	/* The programs are on interface ifindex (attached now if need be): 0,
	 * or -1 when they cannot be. */
	int (*attach)(void *ctx, uint32_t ifindex);
	/* Entries of client k->client (family k->family), never fewer than
	 * there are, rarely more: the last sweep's count plus what worker
	 * wrote since. With add, one more is counted first. NULL: no quota. */
	uint32_t (*client_flows)(void *ctx, unsigned worker, const struct shift_key *k, bool add);
};

struct offload_path {
	const struct offload_ops *ops;
	void *ctx;
};

/* ---- the daemon's side (offload.c, libbpf) ---- */

struct conf;
struct domains;
struct offload;

#define OFFLOAD_WHY 256

/* Load the programs and maps, or adopt the ones pinned in c->offload_dir
 * by an earlier daemon; attach to c->offload_interfaces. NULL when the
 * kernel data path is not used, with the reason in why (offload = false,
 * no rewrite policy, no bpf file system, load refused...). */
struct offload *offload_open(const struct conf *c, char *why, size_t whylen);

/* Close the descriptors; pins and attachments stay (a restart adopts
 * them). */
void offload_close(struct offload *o);

/* At start: the kernel data path if the configuration rewrites and it
 * loads (logged either way, loudly when it does not); with offload =
 * false, an earlier daemon's pinned one to drain. NULL: none. */
struct offload *offload_start(const struct conf *c);

/* After a reload to c (workers told with engine_set_offload(offload_path()
 * of what it returns)): the kernel data path follows the configuration
 * and says so in the log, as at start. Rewrite (with offload = true) in a
 * daemon without a data path, or with one draining or unloaded: it is
 * loaded or adopted as offload_start() does, and the one it replaces
 * goes to *retired. An active one when c no longer rewrites or offload =
 * false: it drains (its flows keep their shift until they end, no new
 * ones), then unloads. Otherwise nothing changes. *retired (NULL if none)
 * may be read by the workers until each has moved on (engine_epoch):
 * offload_close() it after that. */
struct offload *offload_follow(struct offload *o, const struct conf *c,
			       struct offload **retired);

/* o (NULL: none) as tsnatctl status and the metrics show it, c the
 * running configuration. */
struct control_offload;
void offload_report(struct offload *o, const struct conf *c, struct control_offload *out);

/* The main loop's housekeeping, every 2 s of the monotonic clock: the
 * programs' mark raised into the domains' floor, the attachments checked,
 * the sweep, warnings about the programs' errors; a drained data path is
 * unloaded (o stays valid: the workers hold its path until they stop). */
void offload_tick(struct offload *o, const struct conf *c, struct domains *d, uint64_t mono_s);

/* Every domain's mark raised to the programs' (workers stopped: before
 * the state is saved). */
void offload_fold_marks(struct offload *o, struct domains *d);

/* Drained and unloaded. */
bool offload_unloaded(const struct offload *o);

/* Why offload_start() returned NULL ("" if it did not, or was not asked). */
const char *offload_why(void);

/* Map entries at the last sweep, and how many of them are open (not
 * closed by a RST or both FINs); draining (offload = false). */
uint32_t offload_flows(const struct offload *o);
uint32_t offload_open_flows(const struct offload *o);
bool offload_draining(const struct offload *o);

/* For the workers (draining: only the mark, no new flows). */
const struct offload_path *offload_path(struct offload *o);

/* Adopted from pins rather than loaded. */
bool offload_adopted(const struct offload *o);

/* End what the programs no longer need: entries whose both FINs are older
 * than closing_s, unanswered ones older than half_open_s, any older than
 * idle_s; publish the per-client counts. The entries left in *left, those
 * removed in *removed; false (nothing counted) if the map could not be
 * walked. */
bool offload_sweep(struct offload *o, uint32_t idle_s, uint32_t closing_s,
		   uint32_t half_open_s, uint32_t *left, uint32_t *removed);

/* The programs' counters, summed over the CPUs (SHIFT_*). */
void offload_counters(struct offload *o, uint64_t out[SHIFT_NCOUNTERS]);

/* The interfaces the programs are attached to by this daemon, names
 * separated by spaces. */
void offload_interfaces(struct offload *o, char *out, size_t len);

/* Detach the programs from every interface and remove the pins in dir.
 * Flows still in the map lose their shift (their servers see the clients'
 * own timestamps from then on). Returns the number of map entries there
 * were, *open of them open (as the sweep counts them), or -1 after
 * printing why to stderr. */
long offload_unload(const char *dir, long *open);

#endif
