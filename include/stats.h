/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stats.h - per-queue counters. Workers count into a plain struct and
 * publish a copy once per batch; readers see the published copy. */
#ifndef TSNATD_STATS_H
#define TSNATD_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_FIELDS(X)							\
	X(packets, "packets received from the queue")			\
	X(batches, "receive batches")					\
	X(modified, "packets sent back modified")			\
	X(stripped, "SYNs whose timestamp option was stripped")	\
	X(rewritten, "packets whose timestamps were rewritten")	\
	X(passed, "packets accepted untouched")				\
	X(malformed, "malformed IP/TCP headers or options")		\
	X(truncated, "truncated packets (never mangled)")		\
	X(not_tcp, "not TCP, or IP fragments")				\
	X(unmatched, "SYNs matching no policy")			\
	X(syn_without_ts, "SYNs without timestamp in a rewrite policy")	\
	X(flows_created, "rewrite flows created")			\
	X(flows_expired, "rewrite flows expired (idle or closed)")	\
	X(flows_full, "new flows while the table was full (fallback)")	\
	X(flows_evicted, "idle flows evicted for a new one")		\
	X(flows_resynced, "flows whose server adopted raw timestamps")	\
	X(ts_clamped, "client TSvals clamped to their flow's real-time bound") \
	X(flows_over_quota, "new flows of a client over its quota (stripped)") \
	X(dropped, "rewrite-flow packets dropped (truncated)")		\
	X(flows_offloaded, "rewrite flows handed to the kernel data path")	\
	X(offload_escaped, "client packets of offloaded flows the kernel missed, shifted here") \
	X(offload_refused, "rewrite flows kept in NFQUEUE: the kernel data path refused them") \
	X(flows_adopted, "flows adopted from their conntrack labels")	\
	X(flows_unadopted, "packets of rewrite flows with no state and no label to adopt") \
	X(labels_written, "conntrack label writes the kernel took")	\
	X(label_errors, "conntrack label writes or lookups that failed") \
	X(verdict_errors, "verdicts the kernel refused")		\
	X(enobufs, "receive buffer overruns (ENOBUFS)")			\
	X(send_errors, "failed verdict sends")

struct stats {
#define STATS_DECL(name, desc) uint64_t name;
	STATS_FIELDS(STATS_DECL)
#undef STATS_DECL
};

#define STATS_N (sizeof(struct stats) / sizeof(uint64_t))

struct stats_pub {
	_Atomic uint64_t v[STATS_N];
};

void stats_publish(struct stats_pub *pub, const struct stats *s);
void stats_read(const struct stats_pub *pub, struct stats *out);
void stats_add(struct stats *sum, const struct stats *s);
/* "name=value name=value ..." of every counter. */
void stats_format(const struct stats *s, char *out, size_t outlen);

#endif
