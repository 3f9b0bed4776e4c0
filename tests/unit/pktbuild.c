/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pktbuild.c - test packet construction and a reference checksum. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <assert.h>
#include <string.h>

#include "pktbuild.h"

static void
opt_put(struct pb_opts *o, uint8_t v)
{
	assert(o->n < sizeof(o->b));
	o->b[o->n++] = v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	uint32_t n = htonl(v);

	memcpy(b, &n, 4);
}

void pb_nop(struct pb_opts *o) { opt_put(o, 1); }
void pb_eol(struct pb_opts *o) { opt_put(o, 0); }

static void
opt_put32(struct pb_opts *o, uint32_t v)
{
	for (int s = 24; s >= 0; s -= 8)
		opt_put(o, (uint8_t)(v >> s));
}

void
pb_mss(struct pb_opts *o, uint16_t mss)
{
	opt_put(o, 2);
	opt_put(o, 4);
	opt_put(o, (uint8_t)(mss >> 8));
	opt_put(o, (uint8_t)mss);
}

void
pb_ws(struct pb_opts *o, uint8_t shift)
{
	opt_put(o, 3);
	opt_put(o, 3);
	opt_put(o, shift);
}

void
pb_sackok(struct pb_opts *o)
{
	opt_put(o, 4);
	opt_put(o, 2);
}

void
pb_sack(struct pb_opts *o, uint32_t left, uint32_t right)
{
	opt_put(o, 5);
	opt_put(o, 10);
	opt_put32(o, left);
	opt_put32(o, right);
}

void
pb_ts(struct pb_opts *o, uint32_t tsval, uint32_t tsecr)
{
	opt_put(o, 8);
	opt_put(o, 10);
	opt_put32(o, tsval);
	opt_put32(o, tsecr);
}

void
pb_raw(struct pb_opts *o, uint8_t kind, uint8_t len_byte, size_t body_len)
{
	opt_put(o, kind);
	opt_put(o, len_byte);
	for (size_t i = 0; i < body_len; i++)
		opt_put(o, (uint8_t)(0xa0 + i));
}

static uint32_t
ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	/* Deliberately naive: one 16-bit word at a time. */
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
ref_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

size_t
pb_l4(const uint8_t *buf)
{
	size_t off;
	uint8_t nh;

	if (buf[0] >> 4 == 4)
		return (size_t)(buf[0] & 15) * 4;
	off = 40;
	nh = buf[6];
	while (nh != 6) {
		nh = buf[off];
		off += ((size_t)buf[off + 1] + 1) * 8;
	}
	return off;
}

static uint32_t
pseudo_sum(const uint8_t *buf, size_t tcp_len)
{
	uint32_t sum = 0;

	if (buf[0] >> 4 == 4)
		sum = ref_sum(sum, buf + 12, 8);
	else
		sum = ref_sum(sum, buf + 8, 32);
	return sum + 6 + (uint32_t)tcp_len;
}

static size_t
ip_end(const uint8_t *buf)
{
	if (buf[0] >> 4 == 4)
		return (size_t)(buf[2] << 8 | buf[3]);
	return 40 + (size_t)(buf[4] << 8 | buf[5]);
}

bool
pb_tcp_csum_ok(const uint8_t *buf, size_t len)
{
	size_t l4 = pb_l4(buf), end = ip_end(buf);

	assert(end <= len);
	return ref_fold(ref_sum(pseudo_sum(buf, end - l4), buf + l4, end - l4)) == 0xffff;
}

void
pb_make_partial(uint8_t *buf, size_t len)
{
	size_t l4 = pb_l4(buf), end = ip_end(buf);
	uint16_t ps;

	(void)len;
	ps = ref_fold(pseudo_sum(buf, end - l4));
	buf[l4 + 16] = (uint8_t)(ps >> 8);
	buf[l4 + 17] = (uint8_t)ps;
}

size_t
pb_build(uint8_t *buf, const struct pb_spec *s)
{
	int family = s->family ? s->family : 4;
	size_t optlen = s->opts ? s->opts->n : 0, optpad = (optlen + 3) & ~(size_t)3;
	size_t thl = 20 + optpad, l3, l4, total;
	uint8_t *tcp;
	uint16_t ck;

	memset(buf, 0, PB_MAX);
	if (family == 4) {
		l3 = 20 + s->ip_opts;
		total = l3 + thl + s->payload;
		assert(total <= PB_MAX && s->ip_opts % 4 == 0);
		buf[0] = (uint8_t)(0x40 | (l3 / 4));
		buf[2] = (uint8_t)(total >> 8);
		buf[3] = (uint8_t)total;
		buf[6] = (uint8_t)(s->frag >> 8);
		buf[7] = (uint8_t)s->frag;
		buf[8] = 64;
		buf[9] = s->ipproto ? s->ipproto : 6;
		inet_pton(AF_INET, s->saddr ? s->saddr : "192.0.2.10", buf + 12);
		inet_pton(AF_INET, s->daddr ? s->daddr : "198.51.100.10", buf + 16);
		memset(buf + 20, 1, s->ip_opts);
		ck = (uint16_t)~ref_fold(ref_sum(0, buf, l3));
		buf[10] = (uint8_t)(ck >> 8);
		buf[11] = (uint8_t)ck;
	} else {
		size_t extl = s->v6_ext_len ? s->v6_ext_len : 8, off = 40;

		l3 = 40 + s->v6_ext_n * extl;
		total = l3 + thl + s->payload;
		assert(total <= PB_MAX && extl % 8 == 0);
		buf[0] = 0x60;
		buf[4] = (uint8_t)((total - 40) >> 8);
		buf[5] = (uint8_t)(total - 40);
		buf[6] = s->v6_ext_n ? s->v6_ext[0] : (s->ipproto ? s->ipproto : 6);
		buf[7] = 64;
		inet_pton(AF_INET6, s->saddr ? s->saddr : "2001:db8::10", buf + 8);
		inet_pton(AF_INET6, s->daddr ? s->daddr : "2001:db8:1::10", buf + 24);
		for (size_t i = 0; i < s->v6_ext_n; i++, off += extl) {
			buf[off] = i + 1 < s->v6_ext_n ? s->v6_ext[i + 1] :
				   (s->ipproto ? s->ipproto : 6);
			buf[off + 1] = (uint8_t)(extl / 8 - 1);
			if (extl > 2)	/* PadN filling the rest of the header */
				buf[off + 2] = 1, buf[off + 3] = (uint8_t)(extl - 4);
		}
	}
	l4 = l3;
	tcp = buf + l4;
	tcp[0] = (uint8_t)((s->sport ? s->sport : 40000) >> 8);
	tcp[1] = (uint8_t)(s->sport ? s->sport : 40000);
	tcp[2] = (uint8_t)((s->dport ? s->dport : 80) >> 8);
	tcp[3] = (uint8_t)(s->dport ? s->dport : 80);
	put32(tcp + 4, s->seq ? s->seq : 0x12345678);
	put32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)((s->doff_override ? (size_t)s->doff_override : thl / 4) << 4);
	tcp[13] = s->flags ? s->flags : 0x02;
	tcp[14] = 0xfa, tcp[15] = 0xf0;
	if (optlen)
		memcpy(tcp + 20, s->opts->b, optlen);
	for (size_t i = 0; i < s->payload; i++)
		tcp[thl + i] = (uint8_t)(i * 7 + 3);
	ck = (uint16_t)~ref_fold(ref_sum(pseudo_sum(buf, total - l4), tcp, total - l4));
	tcp[16] = (uint8_t)(ck >> 8);
	tcp[17] = (uint8_t)ck;
	return total;
}

/* One tuple nest (CTA_TUPLE_ORIG or _REPLY) of a TCP flow. */
static void
ct_tuple(struct nlmsghdr *nlh, uint16_t type, const char *src, const char *dst,
	 uint16_t sport, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *n;
	struct in_addr a;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	inet_pton(AF_INET, src, &a);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, a.s_addr);
	inet_pton(AF_INET, dst, &a);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, a.s_addr);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, 6);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

static void
ct_put(struct nlmsghdr *nlh, const struct pb_ct *ct)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, NFQA_CT), *last;

	/* a client behind the gateway to a service address DNATed */
	ct_tuple(nlh, CTA_TUPLE_ORIG, "192.0.2.5", "203.0.113.80", 40000, 8080);
	ct_tuple(nlh, CTA_TUPLE_REPLY, "198.51.100.10", "192.0.2.5", 80, 40000);
	mnl_attr_put_u32(nlh, CTA_ID, htonl(ct->id));
	if (ct->short_status)
		mnl_attr_put_u16(nlh, CTA_STATUS, 0);
	else if (!ct->no_status)
		mnl_attr_put_u32(nlh, CTA_STATUS, htonl(ct->status));
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(120));
	if (ct->mark)
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(ct->mark));
	if (ct->short_labels)
		mnl_attr_put(nlh, CTA_LABELS, 8, ct->labels);
	else if (ct->has_labels)
		mnl_attr_put(nlh, CTA_LABELS, sizeof(ct->labels), ct->labels);
	last = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, CTA_USE, htonl(1));
	if (ct->overrun)
		last->nla_len += 4;
	mnl_attr_nest_end(nlh, nest);
	if (ct->short_info)
		mnl_attr_put_u16(nlh, NFQA_CT_INFO, 0);
	else
		mnl_attr_put_u32(nlh, NFQA_CT_INFO, htonl(ct->info));
}

size_t
pb_nfq_msg(uint8_t *buf, const struct pb_nfq *m, const uint8_t *pkt, size_t len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nfqnl_msg_packet_hdr ph = { .packet_id = htonl(m->id),
		.hw_protocol = htons(ETH_P_IP), .hook = NF_INET_FORWARD };

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	if (!m->no_hdr)
		mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	if (m->unknown_attrs) {
		mnl_attr_put_u32(nlh, NFQA_MARK, htonl(7));
		mnl_attr_put_u32(nlh, NFQA_UID, htonl(1000));
		mnl_attr_put_u32(nlh, NFQA_MAX + 5, 0);
	}
	if (m->tstamp_us || m->short_tstamp) {
		struct nfqnl_msg_packet_timestamp ts = {
			.sec = htobe64(m->tstamp_us / 1000000),
			.usec = htobe64(m->tstamp_us % 1000000) };

		mnl_attr_put(nlh, NFQA_TIMESTAMP, m->short_tstamp ? 8 : sizeof(ts), &ts);
	}
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_INDEV, htonl(2));
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_OUTDEV, htonl(3));
	if (m->short_skb_info)
		mnl_attr_put_u16(nlh, NFQA_SKB_INFO, 0);
	else if (m->skb_info)
		mnl_attr_put_u32(nlh, NFQA_SKB_INFO, htonl(m->skb_info));
	if (m->cap_len)
		mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(m->cap_len));
	if (m->ct)
		ct_put(nlh, m->ct);
	if (!m->no_payload)
		mnl_attr_put(nlh, NFQA_PAYLOAD, len, pkt);
	return nlh->nlmsg_len;
}
