/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet.c - IPv4/IPv6/TCP parsing (pure). */
#include <string.h>

#include "bytes.h"
#include "packet_int.h"

#define IPV6_HDRLEN 40
#define TCP_HDRLEN 20

enum {
	NH_HOPOPTS = 0,
	NH_TCP = 6,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_DSTOPTS = 60,
};

/* The two layouts Linux itself sends, recognised whole, a 32-bit word at a
 * time: every option byte that decides the walk is checked, so the result
 * is what the full walk would give. tcp[0..hlen) must be readable. */
static inline void
layout_ts(const uint8_t *tcp, unsigned at, struct pkt *p)
{
	p->ts_count = 1;
	p->ts_off = (uint16_t)at;
	p->tsval = pkt_get32(tcp + at + 2);
	p->tsecr = pkt_get32(tcp + at + 6);
}

static bool
linux_layout(const uint8_t *tcp, size_t hlen, struct pkt *p)
{
	/* Each case reads its option at a constant offset. */
	if (hlen == 32 && pkt_raw32(tcp + 20) == htobe32(0x0101080a)) {
		layout_ts(tcp, 22, p);	/* NOP NOP TS: every segment after the SYNs */
		return true;
	}
	if (hlen == 40 && pkt_raw32(tcp + 24) == htobe32(0x0402080a) &&
	    (pkt_raw32(tcp + 20) & htobe32(0xffff0000)) == htobe32(0x02040000) &&
	    (pkt_raw32(tcp + 36) & htobe32(0xffffff00)) == htobe32(0x01030300)) {
		layout_ts(tcp, 26, p);	/* MSS SACK_PERM TS NOP WS: SYN and SYN-ACK */
		return true;
	}
	return false;
}

/* The one walk over TCP options, exactly like Linux tcp_parse_options():
 * returns 1 with *ts_at set at the next timestamp option of length 10, 0 at
 * the end of the list (or EOL), -1 where Linux would stop on a bad length.
 * *pos carries the walk between calls; start it at 20. */
static int
tcp_next_ts(const uint8_t *tcp, size_t hlen, size_t *pos, size_t *ts_at)
{
	size_t i = *pos;

	while (i < hlen) {
		uint8_t kind = tcp[i], olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (hlen - i < 2)
			return -1;
		olen = tcp[i + 1];
		if (olen < 2 || olen > hlen - i)
			return -1;
		if (kind == TCPOPT_TIMESTAMP && olen == TCPOLEN_TIMESTAMP) {
			*ts_at = i;
			*pos = i + olen;
			return 1;
		}
		i += olen;
	}
	*pos = hlen;
	return 0;
}

static bool
tcp_walk_options(const uint8_t *tcp, size_t hlen, struct pkt *p)
{
	size_t pos = TCP_HDRLEN, at;
	int r;

	if (linux_layout(tcp, hlen, p))
		return true;
	p->ts_count = 0;
	p->ts_off = 0;
	while ((r = tcp_next_ts(tcp, hlen, &pos, &at)) > 0) {
		p->ts_count++;
		p->ts_off = (uint16_t)at;
		p->tsval = pkt_get32(tcp + at + 2);
		p->tsecr = pkt_get32(tcp + at + 6);
	}
	return r == 0;
}

static enum pkt_status
parse_ipv4(const uint8_t *buf, size_t len, struct pkt *p, size_t *ip_end)
{
	size_t ihl, tot;

	if (len < 20)
		return PKT_TRUNCATED;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	tot = pkt_get16(buf + 2);
	if (ihl < 20 || tot < ihl)
		return PKT_MALFORMED;
	if (buf[9] != NH_TCP)
		return PKT_NOT_OURS;
	/* MF set or a fragment offset: the TCP header may not be here, and a
	 * full checksum could not be computed anyway. */
	if (pkt_get16(buf + 6) & 0x3fff)
		return PKT_NOT_OURS;
	if (len < ihl)
		return PKT_TRUNCATED;
	p->family = 4;
	p->addr_len = 4;
	p->saddr = buf + 12;
	p->daddr = buf + 16;
	p->l4_off = (uint16_t)ihl;
	*ip_end = tot;
	return PKT_OK;
}

static enum pkt_status
parse_ipv6(const uint8_t *buf, size_t len, struct pkt *p, size_t *ip_end)
{
	size_t off = IPV6_HDRLEN, plen;
	uint8_t nh;

	if (len < IPV6_HDRLEN)
		return PKT_TRUNCATED;
	plen = pkt_get16(buf + 4);
	if (plen == 0)		/* jumbogram: never seen by netfilter as such */
		return PKT_NOT_OURS;
	nh = buf[6];
	for (;;) {
		size_t ext;

		if (nh == NH_TCP)
			break;
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS)
			return PKT_NOT_OURS;	/* fragment, ESP, AH, none ... */
		if (len < off + 8)
			return PKT_TRUNCATED;
		ext = ((size_t)buf[off + 1] + 1) * 8;
		if (off + ext > IPV6_HDRLEN + plen)
			return PKT_MALFORMED;
		nh = buf[off];
		off += ext;
	}
	/* A TCP header starting past 65535 (extension headers can take the
	 * whole payload) would wrap the 16-bit offset: never ours to edit. */
	if (off > 0xffff)
		return PKT_TRUNCATED;
	p->family = 6;
	p->addr_len = 16;
	p->saddr = buf + 8;
	p->daddr = buf + 24;
	p->l4_off = (uint16_t)off;
	*ip_end = IPV6_HDRLEN + plen;
	return PKT_OK;
}

enum pkt_status
pkt_parse_general(const uint8_t *buf, size_t len, struct pkt *p)
{
	enum pkt_status st;
	const uint8_t *tcp;
	size_t ip_end = 0, tcp_len, hlen;

	if (len < 1)
		return PKT_TRUNCATED;
	switch (buf[0] >> 4) {
	case 4:
		st = parse_ipv4(buf, len, p, &ip_end);
		break;
	case 6:
		st = parse_ipv6(buf, len, p, &ip_end);
		break;
	default:
		return PKT_NOT_OURS;
	}
	if (st != PKT_OK)
		return st;

	if (ip_end < (size_t)p->l4_off + TCP_HDRLEN)
		return PKT_MALFORMED;
	tcp_len = ip_end - p->l4_off;
	if (len < (size_t)p->l4_off + TCP_HDRLEN)
		return PKT_TRUNCATED;
	tcp = buf + p->l4_off;
	hlen = (size_t)(tcp[12] >> 4) * 4;
	if (hlen < TCP_HDRLEN || hlen > tcp_len)
		return PKT_MALFORMED;
	if (len < (size_t)p->l4_off + hlen)
		return PKT_TRUNCATED;

	p->tcp_hlen = (uint16_t)hlen;
	p->tcp_len = (uint16_t)tcp_len;
	p->tcp_flags = tcp[13];
	p->tcp = tcp;
	p->complete = len >= ip_end;
	if (!tcp_walk_options(tcp, hlen, p))
		return PKT_MALFORMED;
	return PKT_OK;
}

bool
pkt_parse_fast4(const uint8_t *buf, size_t len, struct pkt *p)
{
	const uint8_t *tcp = buf + 20;
	size_t tot, hlen;

	/* bytes 6-9: MF and fragment offset zero, protocol TCP (6) */
	if (len < 40 || buf[0] != 0x45 ||
	    (pkt_raw32(buf + 6) & htobe32(0x3fff00ff)) != htobe32(6))
		return false;
	tot = pkt_get16(buf + 2);
	hlen = (size_t)(tcp[12] & 0xf0) >> 2;	/* data offset x 4 */
	/* (a Linux layout has hlen 32 or 40: no check for hlen < 20) */
	if (tot > len || tot < 20 + hlen || !linux_layout(tcp, hlen, p))
		return false;
	p->family = 4;
	p->addr_len = 4;
	p->saddr = buf + 12;
	p->daddr = buf + 16;
	p->l4_off = 20;
	p->tcp_hlen = (uint16_t)hlen;
	p->tcp_len = (uint16_t)(tot - 20);
	p->tcp_flags = tcp[13];
	p->tcp = tcp;
	p->complete = true;
	return true;
}

enum pkt_status
pkt_parse(const uint8_t *buf, size_t len, struct pkt *p)
{
	struct pkt g;
	enum pkt_status st;

	if (pkt_parse_fast4(buf, len, p))
		return PKT_OK;
	/* Parsed into a copy: the caller's struct pkt, once this is inlined,
	 * need not live in memory for the fast case (nothing takes its
	 * address), which is worth a sixth of the per-packet cost. */
	st = pkt_parse_general(buf, len, &g);
	if (st == PKT_OK)
		*p = g;
	return st;
}

bool
pkt_is_client_syn(const struct pkt *p)
{
	return (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN;
}

uint16_t
pkt_sport(const struct pkt *p)
{
	return pkt_get16(p->tcp);
}

uint16_t
pkt_dport(const struct pkt *p)
{
	return pkt_get16(p->tcp + 2);
}

unsigned
pkt_foreach_ts(uint8_t *tcp, size_t hlen,
	       void (*fn)(uint8_t *tcp, size_t off, void *arg), void *arg)
{
	size_t pos = TCP_HDRLEN, at;
	unsigned n = 0;

	/* The option's length was read before fn runs: fn may overwrite it. */
	while (tcp_next_ts(tcp, hlen, &pos, &at) > 0) {
		fn(tcp, at, arg);
		n++;
	}
	return n;
}
