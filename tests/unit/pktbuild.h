/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pktbuild.h - build test packets from a description, never from hex. */
#ifndef TSNATD_PKTBUILD_H
#define TSNATD_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_MAX 2048

/* A TCP option list under construction. */
struct pb_opts {
	uint8_t b[64];
	size_t n;
};

void pb_nop(struct pb_opts *o);
void pb_eol(struct pb_opts *o);
void pb_mss(struct pb_opts *o, uint16_t mss);
void pb_ws(struct pb_opts *o, uint8_t shift);
void pb_sackok(struct pb_opts *o);
void pb_sack(struct pb_opts *o, uint32_t left, uint32_t right);
void pb_ts(struct pb_opts *o, uint32_t tsval, uint32_t tsecr);
/* Any option: kind, the length byte as given, then body_len body bytes. */
void pb_raw(struct pb_opts *o, uint8_t kind, uint8_t len_byte, size_t body_len);

struct pb_spec {
	int family;			/* 4 (default when 0) or 6 */
	uint8_t flags;			/* TCP flags; default SYN */
	uint16_t sport, dport;		/* default 40000 -> 80 */
	uint32_t seq, ack;		/* default 0x12345678 (when 0), 0 */
	const char *saddr, *daddr;	/* default 192.0.2.10 -> 198.51.100.10
					 * (2001:db8::10 -> 2001:db8:1::10) */
	size_t ip_opts;			/* IPv4 option bytes (NOPs), multiple of 4 */
	const uint8_t *v6_ext;		/* IPv6 extension header types in order */
	size_t v6_ext_n;
	size_t v6_ext_len;		/* each extension header's length (8..) */
	const struct pb_opts *opts;	/* TCP options; padded with EOL to 4 */
	int doff_override;		/* if non-zero, the data offset written */
	size_t payload;			/* payload bytes (a counting pattern) */
	uint16_t frag;			/* IPv4 flags+fragment offset field */
	uint8_t ipproto;		/* default TCP */
};

/* Build the packet into buf (PB_MAX bytes), with a correct TCP checksum.
 * Returns its length. */
size_t pb_build(uint8_t *buf, const struct pb_spec *s);

/* Reference checksum check, written independently of daemon/csum.c: true when
 * the TCP checksum of the packet verifies over its pseudo-header. */
bool pb_tcp_csum_ok(const uint8_t *buf, size_t len);

/* Replace the TCP checksum by the pseudo-header sum only, as a packet marked
 * NFQA_SKB_CSUMNOTREADY carries it. */
void pb_make_partial(uint8_t *buf, size_t len);

/* Offset of the TCP header in a packet built by pb_build(). */
size_t pb_l4(const uint8_t *buf);

/* An NFQUEUE packet message (NFQNL_MSG_PACKET) as the kernel sends one:
 * packet header, in/out interfaces, optional attributes, payload. */
struct pb_nfq {
	uint32_t id;
	uint32_t skb_info;	/* NFQA_SKB_INFO when non-zero */
	uint32_t cap_len;	/* NFQA_CAP_LEN when non-zero */
	bool no_hdr;		/* leave out NFQA_PACKET_HDR */
	bool no_payload;	/* leave out NFQA_PAYLOAD */
	bool short_skb_info;	/* NFQA_SKB_INFO of 2 bytes: malformed */
	bool unknown_attrs;	/* add NFQA_MARK, NFQA_UID and a type past
				 * NFQA_MAX, which a consumer must skip */
	uint64_t tstamp_us;	/* NFQA_TIMESTAMP (wall clock) when non-zero */
	bool short_tstamp;	/* NFQA_TIMESTAMP of 8 bytes: malformed */
	const struct pb_ct *ct;	/* NFQA_CT and NFQA_CT_INFO when set */
};

/* A packet's conntrack entry as the kernel's glue puts it into NFQA_CT
 * (ctnetlink_glue_build): the tuples (nested), CTA_ID, CTA_STATUS,
 * CTA_TIMEOUT, CTA_MARK when non-zero, CTA_LABELS when has_labels; then
 * NFQA_CT_INFO. The other fields break it the ways a parser must
 * survive. */
struct pb_ct {
	uint32_t status;	/* IPS_* */
	uint32_t mark, id, info;
	bool has_labels;
	uint8_t labels[16];
	bool no_status;		/* leave out CTA_STATUS */
	bool short_status;	/* CTA_STATUS of 2 bytes */
	bool short_labels;	/* CTA_LABELS of 8 bytes */
	bool overrun;		/* the nest's last attribute runs past its end */
	bool short_info;	/* NFQA_CT_INFO of 2 bytes */
};

/* Write the message for pkt[0..len) into buf (PB_MAX + 256 bytes, 512
 * with ct); returns its length. */
size_t pb_nfq_msg(uint8_t *buf, const struct pb_nfq *m, const uint8_t *pkt, size_t len);

#endif
