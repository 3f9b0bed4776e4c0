/* process.h - the decision for one queued packet: parse, match a policy,
 * strip or rewrite in place. Pure: no syscalls, no logging, no allocation;
 * the engine calls it once per packet and the tests call it directly. */
#ifndef TSNATD_PROCESS_H
#define TSNATD_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "stats.h"

enum proc_result {
	PROC_PASS,		/* accept as received */
	PROC_MODIFIED,		/* accept with buf as changed */
};

struct proc_pkt {
	uint8_t *buf;		/* the packet, changed in place */
	size_t len;		/* bytes present in buf */
	uint32_t skb_info;	/* NFQA_SKB_INFO flags, host order */
	bool truncated;		/* NFQA_CAP_LEN said the copy is short */
};

/* Decide and apply. Fail-open: anything unexpected is PROC_PASS and counted
 * in s; buf is left untouched whenever PROC_PASS is returned. */
enum proc_result process_packet(const struct conf *c, struct proc_pkt *in,
				struct stats *s);

#endif
