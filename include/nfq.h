/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfq.h - the NFQUEUE netlink messages (doc/ARCHITECTURE.md), without a
 * socket: read a packet message's attributes, build the config messages,
 * and turn a batch of received datagrams into its verdict messages. Pure:
 * no syscalls, no logging, no globals; the engine does the I/O, the tests
 * and the benchmark call it directly.
 *
 * The prefix is nfqmsg_ because libnetfilter_queue owns nfq_. */
#ifndef TSNATD_NFQ_H
#define TSNATD_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "csum.h"
#include "process.h"
#include "stats.h"

/* Only pointers: <linux/netlink.h>, <sys/uio.h>, <sys/socket.h> define
 * them, and a user of this header need not import socket.h's names. */
struct nlmsghdr;
struct iovec;
struct mmsghdr;

/* Datagrams per batch (the engine's recvmmsg() vector), and the most
 * modified or dropped packets one batch can answer. */
#define NFQMSG_BATCH 64

/* One receive slot: a packet message with a copy range of 0xffff, its
 * attributes and headers (the kernel sends one packet per datagram). A
 * whole number of pages, so that in a ring of slots allocated page-aligned
 * every slot, and so every netlink header in it, starts aligned. */
#define NFQMSG_PAGE 4096
#define NFQMSG_SLOT ((0xffff + 4096 + NFQMSG_PAGE - 1) / NFQMSG_PAGE * NFQMSG_PAGE)

/* One sendmsg() of verdicts stays under this (the socket's send buffer is
 * larger; EMSGSIZE otherwise). */
#define NFQMSG_SEND_MAX (1u << 20)

/* Room for any config message built here. */
#define NFQMSG_CONFIG_SIZE 128

/* A conntrack entry's labels (connlabels, CTA_LABELS): 128 bits, the
 * kernel's NF_CT_LABELS_MAX_SIZE. */
#define NFQMSG_CT_LABELS 16

/* What a packet message (NFQNL_MSG_PACKET) carries that the daemon uses;
 * numbers in host order, 0 when the attribute is absent. */
struct nfqmsg_pkt {
	uint32_t id;			/* NFQA_PACKET_HDR packet_id */
	uint8_t *payload;		/* NFQA_PAYLOAD, in the message; NULL if absent */
	size_t payload_len;
	uint32_t cap_len;		/* NFQA_CAP_LEN: the packet's real length */
	uint32_t skb_info;		/* NFQA_SKB_INFO flags */
	uint32_t indev, outdev;		/* NFQA_IFINDEX_INDEV / _OUTDEV */
	uint32_t mark;			/* NFQA_MARK */
	bool has_tstamp;		/* NFQA_TIMESTAMP: when the kernel */
	uint32_t tstamp_ms;		/* received it, wall clock ms mod 2^32 */
	/* NFQA_CT (the conntrack glue: a queue with NFQA_CFG_F_CONNTRACK on a
	 * kernel with CONFIG_NETFILTER_NETLINK_GLUE_CT, and a packet with a
	 * conntrack entry, confirmed or not): has_ct when it was well formed
	 * and held CTA_STATUS. The kernel leaves out CTA_MARK when the mark
	 * is 0 (before 6.2) and CTA_LABELS when no label is set: absent reads
	 * as 0. */
	bool has_ct;
	uint32_t ct_status;		/* CTA_STATUS: IPS_* (IPS_DST_NAT, ...) */
	uint32_t ct_mark;		/* CTA_MARK */
	bool has_ct_id;
	uint32_t ct_id;			/* CTA_ID */
	bool has_ct_labels;
	uint8_t ct_labels[NFQMSG_CT_LABELS];	/* CTA_LABELS, as the kernel sends them */
	bool has_ct_info;
	uint32_t ct_info;		/* NFQA_CT_INFO: enum ip_conntrack_info */
	/* NFQA_CT failed the checks (has_ct false), or NFQA_CT_INFO did
	 * (has_ct_info false): see nfqmsg_parse. */
	bool ct_malformed;
};

/* Read the attributes of the packet message nlh, whose nlmsg_len bytes must
 * be readable and 4-byte aligned (as a walk over a datagram guarantees). The
 * packet header is required; it and the 32-bit attributes used are
 * length-checked as nfq_nlmsg_parse() checks them, and one that fails
 * rejects the whole message; other attributes are skipped. Never reads past
 * nlmsg_len. Returns 0, or -1 (p undefined), also when nlh is not a packet
 * message.
 *
 * NFQA_CT is the exception: its nested CTA_* attributes are walked with the
 * same checks (CTA_STATUS, CTA_MARK, CTA_ID 32 bits at least, CTA_LABELS
 * exactly NFQMSG_CT_LABELS bytes; the rest skipped), and one that fails
 * them, or a short NFQA_CT_INFO, leaves the packet without conntrack
 * information (has_ct, has_ct_info false, ct_malformed set) instead of
 * rejecting it: the conntrack state only refines what is done with a
 * packet (a flow with destination NAT stays in NFQUEUE), and a packet
 * without it is handled as on a kernel without the glue. */
int nfqmsg_parse(struct nlmsghdr *nlh, struct nfqmsg_pkt *p);

/* The id of a packet message of which only the first len bytes may be
 * read (len may be short of nlmsg_len: a datagram cut short), even when
 * its other attributes fail nfqmsg_parse()'s checks: 0, or -1 when the
 * packet header is not within len bytes or nlh is not a packet message.
 * len >= NLMSG_HDRLEN and nlh 4-byte aligned. */
int nfqmsg_packet_id(const struct nlmsghdr *nlh, size_t len, uint32_t *id);

/* How long the kernel held a packet that arrived at tstamp_ms (wall clock
 * ms mod 2^32) before the batch read at now_ms: 0 without a stamp or when
 * the stamp is later (the wall clock stepped back), at most 65535. */
uint32_t nfqmsg_wait_ms(bool has_tstamp, uint32_t tstamp_ms, uint32_t now_ms);

/* The checksum mode for a packet's NFQA_SKB_INFO flags: GSO -> CSUM_NONE,
 * CSUMNOTREADY -> CSUM_FULL, else CSUM_INCREMENTAL. */
enum csum_mode nfqmsg_csum_mode(uint32_t skb_info);

/* Config messages for queue, built into buf (NFQMSG_CONFIG_SIZE bytes,
 * 4-byte aligned), each with NLM_F_ACK and sequence number seq; send
 * nlh->nlmsg_len bytes and wait for the ack.
 * - bind: bind, copy mode NFQNL_COPY_PACKET 0xffff, queue maxlen and the
 *   flags FAIL_OPEN|GSO in ONE message (a bound queue without copy mode
 *   would drop packets, and --queue-bypass does not cover that window);
 * - maxlen: only the queue maxlen (0 starts the drain: the kernel then
 *   accepts new packets itself);
 * - conntrack: the optional CONNTRACK flag (EOPNOTSUPP without
 *   CONFIG_NETFILTER_NETLINK_GLUE_CT), separate so bind never fails on it. */
struct nlmsghdr *nfqmsg_config_bind(void *buf, uint16_t queue, uint32_t maxlen, uint32_t seq);
struct nlmsghdr *nfqmsg_config_maxlen(void *buf, uint16_t queue, uint32_t maxlen, uint32_t seq);
struct nlmsghdr *nfqmsg_config_conntrack(void *buf, uint16_t queue, uint32_t seq);

/* The verdicts of one batch of one queue, as iovecs ready for sendmsg():
 * one NFQNL_MSG_VERDICT per modified packet (its payload iovec points at
 * the packet where it was received, changed in place) or dropped packet,
 * then one NFQNL_MSG_VERDICT_BATCH up to the batch's highest id for all
 * the untouched ones (ids are FIFO per queue, so it covers exactly those:
 * the others already have their verdict). Split into groups of whole
 * messages, each under NFQMSG_SEND_MAX bytes, sent in order. */
struct nfqmsg_batch;

/* Returns NULL when out of memory. */
struct nfqmsg_batch *nfqmsg_batch_new(uint16_t queue);
void nfqmsg_batch_free(struct nfqmsg_batch *b);

/* Start a batch: forget the previous one's verdicts. */
void nfqmsg_batch_begin(struct nfqmsg_batch *b);

/* Add packet id with its outcome; for PROC_MODIFIED, payload[0..len) is
 * what the kernel gets back and must stay in place until the verdicts are
 * sent. Returns 0, or -1 (nothing added) when NFQMSG_BATCH packets are
 * already modified or dropped, or len does not fit a netlink attribute. */
int nfqmsg_batch_add(struct nfqmsg_batch *b, uint32_t id, enum proc_result r,
		     const uint8_t *payload, size_t len);

/* The conntrack labels a packet's verdict sets: the kernel replaces the
 * bits of mask with those of labels (nf_connlabels_replace), the others
 * stay. */
struct nfqmsg_ct_labels {
	uint8_t labels[NFQMSG_CT_LABELS];
	uint8_t mask[NFQMSG_CT_LABELS];
};

/* nfqmsg_batch_add(), and the packet's verdict also sets conntrack labels:
 * its NFQNL_MSG_VERDICT carries NFQA_CT, nested { CTA_LABELS,
 * CTA_LABELS_MASK }, which the kernel applies to the packet's conntrack
 * entry before the verdict (nfqnl_recv_verdict -> ctnetlink_glue_parse).
 * Only single verdicts carry NFQA_CT (the kernel reads none in a batch
 * verdict), so a PROC_PASS packet given labels gets a verdict of its own,
 * without payload, instead of a place in the batch verdict (it still
 * counts as passed). A PROC_DROP packet's labels are not sent: its
 * unconfirmed entry goes with it. ct NULL: exactly nfqmsg_batch_add().
 * Returns 0, or -1 (nothing added) as nfqmsg_batch_add(), also when the
 * batch already holds NFQMSG_BATCH verdicts of its own.
 *
 * What the kernel does with it, silently (the verdict applies all the
 * same; no error comes back): without the glue NFQA_CT is ignored; the
 * labels are set only if the entry has room for them, which the kernel
 * gives entries created while some rule uses labels (nft "ct label set",
 * iptables "-m connlabel --set"); a group that fails to send falls back
 * to verdicts without NFQA_CT (nfqmsg_batch_fallback). */
int nfqmsg_batch_add_ct(struct nfqmsg_batch *b, uint32_t id, enum proc_result r,
			const uint8_t *payload, size_t len, const struct nfqmsg_ct_labels *ct);

/* End the batch: append the batch verdict for the untouched packets.
 * Adds the packets sent back modified and those accepted untouched to
 * s->modified and s->passed. */
void nfqmsg_batch_end(struct nfqmsg_batch *b, struct stats *s);

/* A packet read outside a batch (while waiting for a config ack): its id
 * counts for the sweep, which the engine sends right after the ack. */
void nfqmsg_batch_seen(struct nfqmsg_batch *b, uint32_t id);

/* Replace the verdicts by one batch verdict that accepts every packet up
 * to the highest id ever added or seen: after packets were read while a
 * config message waited for its ack, after a fallback could not be sent,
 * and before the socket closes (which would drop them). Counts nothing.
 * Returns false, with no verdicts, when no packet was ever seen. */
bool nfqmsg_batch_sweep(struct nfqmsg_batch *b);

/* The verdicts: groups 0 .. nfqmsg_batch_groups()-1, each the iovecs of one
 * sendmsg() (*niov of them). Valid until the next begin or sweep. */
unsigned nfqmsg_batch_groups(const struct nfqmsg_batch *b);
struct iovec *nfqmsg_batch_group(struct nfqmsg_batch *b, unsigned g, size_t *niov);

/* Group g could not be sent: what to send instead, as *niov iovecs (0 if
 * the group holds no verdict), valid until the next fallback. Each packet
 * the group sent back modified (or dropped) is dropped by a short
 * NFQNL_MSG_VERDICT without payload, then one NFQNL_MSG_VERDICT_BATCH
 * accepts the rest up to the group's highest id (untouched packets that
 * had a verdict of their own for their conntrack labels too: accepted,
 * their labels not set). The other groups stay valid and are sent as they
 * are.
 *
 * Why drop rather than accept a modified packet as received: its original
 * timestamps would reach the server. In a rewritten flow a raw TSval
 * either fails the server's PAWS check or, when it is ahead, moves the
 * server's ts_recent past the flow's shifted clock, after which every
 * later segment of the flow fails PAWS; and a SYN whose strip was lost
 * negotiates timestamps, whose last value a tcp_tw_recycle server then
 * remembers for the translated address, dropping other clients' SYNs for
 * 60 s. A dropped packet costs only its own connection one retransmit:
 * TCP sends it again and the copy is rewritten. Untouched packets are
 * accepted (fail-open), as always. */
struct iovec *nfqmsg_batch_fallback(struct nfqmsg_batch *b, unsigned g, size_t *niov);

/* One batch: the n datagrams rx[i] (msg_hdr.msg_iov[0], msg_len bytes, as
 * recvmmsg() fills them; n <= NFQMSG_BATCH, each 4-byte aligned) walked
 * message by message. Each packet message goes through process_packet(c,
 * ps, ..., s), changed in place, with its conntrack entry where it has
 * one (proc_pkt.has_ct: status, labels; a broken NFQA_CT counts in
 * s->ct_malformed and the packet goes on without it); NLMSG_ERROR with an
 * error (an asynchronous verdict error) counts in s->verdict_errors; other
 * control messages are ignored. Fail-open, counted in s: a packet message that fails to parse
 * (a bad attribute, a datagram cut short) counts as malformed, and if its
 * packet id can still be read its packet is accepted untouched by this
 * batch's verdict (and counted as a packet); a datagram misaligned or too
 * short for a header counts as malformed and is not read; a packet
 * without payload is truncated and accepted untouched, as is one that
 * finds the batch's NFQMSG_BATCH modified packets taken. Ends with the
 * batch's verdicts built (begin .. end). Returns the packets handled. */
unsigned nfqmsg_batch_run(struct nfqmsg_batch *b, const struct conf *c, struct proc_state *ps,
			  struct stats *s, const struct mmsghdr *rx, unsigned n);

#endif
