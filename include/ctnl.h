/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctnl.h - the few ctnetlink messages tsnatd needs, built and read with
 * libmnl: write a flow's labels (an update of an existing entry, under a
 * mask, so that no bit outside tsnatd's range changes), read one entry by
 * its original tuple, and dump the table. The builders and the parser are
 * pure; the socket functions below them do the syscalls, one socket per
 * user (each worker has its own, the main thread another).
 *
 * No library allocation on a worker: libnetfilter_conntrack's objects
 * allocate per message (a connlabels bitmask for each), and a worker builds
 * a batch of label writes after every verdict batch. */
#ifndef TSNATD_CTNL_H
#define TSNATD_CTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlabel.h"

struct nlmsghdr;

/* A connection as conntrack's original direction has it: client -> server,
 * before SNAT (as FORWARD sees the client's packets). Ports in network
 * order. */
struct ct_tuple {
	uint8_t family;			/* 4 or 6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

/* What tsnatd reads from an entry. */
struct ct_entry {
	struct ct_tuple orig;
	uint8_t reply_dst[16];		/* the reply's destination: the translated source */
	uint32_t status;		/* IPS_* */
	bool has_labels;
	uint8_t labels[CTLABEL_SIZE];
};

#define CTNL_LABEL_MSG_MAX 160		/* bytes of one label write, IPv6 */

/* An update of t's entry setting labels under mask, without NLM_F_ACK (a
 * refusal still comes back as an error message), into buf (room bytes,
 * 4-byte aligned): the message, or NULL when it does not fit. */
struct nlmsghdr *ctnl_build_labels(void *buf, size_t room, const struct ct_tuple *t,
				   const uint8_t labels[CTLABEL_SIZE],
				   const uint8_t mask[CTLABEL_SIZE], uint32_t seq);

/* A request for t's entry (buf: CTNL_GET_MSG_MAX bytes at least). */
#define CTNL_GET_MSG_MAX 160
struct nlmsghdr *ctnl_build_get(void *buf, const struct ct_tuple *t, uint32_t seq);

/* A request for the whole table, both families. */
struct nlmsghdr *ctnl_build_dump(void *buf, uint32_t seq);

/* Read a conntrack entry message (IPCTNL_MSG_CT_NEW, as a get or a dump
 * answers): 0, or -1 when it is not one or its tuples are not TCP over
 * IPv4/IPv6 with addresses and ports. Never reads past nlmsg_len. */
int ctnl_parse(const struct nlmsghdr *nlh, struct ct_entry *e);

/* The socket side. */
struct ctnl;

/* A ctnetlink socket; NULL with errno. */
struct ctnl *ctnl_open(void);
void ctnl_close(struct ctnl *c);

/* Send the len bytes of label writes in buf (one datagram), then read the
 * errors that came back. Returns how many writes the kernel refused, or
 * -1 when the send failed (then all of them count as refused). */
int ctnl_send_writes(struct ctnl *c, const void *buf, size_t len);

/* t's entry: 1 found (e filled), 0 no such entry, -1 an error (errno).
 * Waits at most CTNL_GET_TIMEOUT_MS for the answer. */
#define CTNL_GET_TIMEOUT_MS 20
int ctnl_get(struct ctnl *c, const struct ct_tuple *t, struct ct_entry *e);

/* Call fn for every TCP entry of the table. 0, or -1 (errno). */
int ctnl_dump(struct ctnl *c, void (*fn)(const struct ct_entry *e, void *arg), void *arg);

#endif
