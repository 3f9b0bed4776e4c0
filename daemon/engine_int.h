/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine_int.h - what engine.c shows its white-box test (tests/unit/
 * test_engine.c): the sends of one queue's verdicts and the fail-safe they
 * fall back on, on any socket descriptor. Not part of the daemon's API. */
#ifndef TSNATD_ENGINE_INT_H
#define TSNATD_ENGINE_INT_H

#include <stdbool.h>

#include "nfq.h"
#include "stats.h"

struct mnl_socket;
struct nlmsghdr;

/* Send the verdicts of b on the netlink socket fd: one sendmsg() per
 * group, each tried twice. A group that still fails is replaced by its
 * fallback (nfqmsg_batch_fallback: the packets it sent back modified are
 * dropped, the rest accepted), tried twice too. Each failed group and each
 * failed fallback counts in st->send_errors. Returns true when every
 * packet of the batch has its verdict; false when a fallback failed too:
 * packets may still be queued and the caller owes them engine_sweep(). */
bool engine_verdicts_send(int fd, struct nfqmsg_batch *b, struct stats *st);

/* One batch verdict accepting every packet up to the highest id b has
 * seen (nfqmsg_batch_sweep), tried twice (a failure counts in
 * st->send_errors). b's verdicts are replaced. Returns true when nothing
 * is owed any more: sent, or no packet was ever seen. */
bool engine_sweep(int fd, struct nfqmsg_batch *b, struct stats *st);

/* Send the config message nlh on nl and wait for its ack, receiving into
 * buf (NFQMSG_SLOT bytes; nlh may be in it). Packets that arrive before
 * the ack are accepted untouched right after it (or after the failure),
 * by engine_sweep(); if that send fails, *owed is set. Returns 0, or -1
 * with errno from the kernel's ack or from the socket. */
int engine_queue_config(struct mnl_socket *nl, void *buf, struct nlmsghdr *nlh,
			struct nfqmsg_batch *b, struct stats *st, bool *owed);

#endif
