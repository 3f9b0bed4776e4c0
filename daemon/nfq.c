/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfq.c - NFQUEUE netlink messages: parse packet messages, build config
 * and verdict messages, run a batch of datagrams through process_packet().
 *
 * The per-packet work avoids libmnl's out-of-line walkers and the verdict
 * builders of libnetfilter_queue (measured: about a third of the batch
 * path); the checks are the same, written inline. Config messages are rare
 * and use the libraries. */
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nfq.h"

_Static_assert(NFQMSG_SLOT % NFQMSG_PAGE == 0, "a slot is a whole number of pages");
_Static_assert(NFQMSG_SLOT >= 0xffff + 4096, "a slot holds a 0xffff copy range and headers");
_Static_assert(NFQMSG_SLOT % NLMSG_ALIGNTO == 0, "every slot of a ring starts aligned");

#define PKT_MSG_TYPE ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)

/* A verdict message up to its payload: what nfq_nlmsg_put() and
 * nfq_nlmsg_verdict_put() write, plus the NFQA_PAYLOAD attribute header
 * when the packet goes back modified. Written directly from a template. */
struct vmsg {
	struct nlmsghdr nlh;
	struct nfgenmsg nfg;
	struct nlattr vattr;
	struct nfqnl_msg_verdict_hdr vh;
	struct nlattr pattr;
};
_Static_assert(sizeof(struct vmsg) == 36, "no padding inside a verdict header");
#define VMSG_NOPAYLOAD offsetof(struct vmsg, pattr)

/* The NFQA_CT attribute of a verdict that sets conntrack labels, after the
 * payload (the kernel reads attributes by type, in any order). NLA_F_NESTED:
 * since 5.2 the kernel's strict nla_parse_nested() refuses a nest without
 * it. */
struct vct {
	struct nlattr nest;			/* NFQA_CT */
	struct nlattr lattr;			/* CTA_LABELS */
	uint8_t labels[NFQMSG_CT_LABELS];
	struct nlattr mattr;			/* CTA_LABELS_MASK */
	uint8_t mask[NFQMSG_CT_LABELS];
};
_Static_assert(sizeof(struct vct) == 44 && sizeof(struct vct) % NLA_ALIGNTO == 0,
	       "NFQA_CT of a verdict: no padding, aligned");

struct nfqmsg_batch {
	struct vmsg tmpl;			/* this queue's verdict header */
	struct vmsg hdr[NFQMSG_BATCH];		/* the modified/dropped packets' */
	struct vct ct[NFQMSG_BATCH];		/* hdr[i]'s NFQA_CT, if it has one */
	bool hdr_pass[NFQMSG_BATCH];		/* hdr[i] accepts it untouched */
	struct vmsg batch_hdr;			/* the batch verdict */
	struct iovec iov[NFQMSG_BATCH * 4 + 1];	/* header, payload, pad, ct each */
	unsigned niov;
	unsigned nhdr;				/* hdr[] used */
	unsigned group_end[NFQMSG_BATCH + 1];	/* iov index ending each group */
	unsigned ngroups;
	size_t group_bytes;			/* of the open group */
	unsigned modified, untouched;
	unsigned passed_own;			/* untouched, with a verdict of their own */
	uint32_t batch_id;			/* the batch's highest packet id */
	bool batch_any;				/* batch_id is set */
	uint32_t last_id;			/* the highest id ever seen */
	bool seen_any;
	struct vmsg fb_hdr[NFQMSG_BATCH + 1];	/* a failed group's fallback */
	struct iovec fb_iov[NFQMSG_BATCH + 1];
};

static const uint8_t zero_pad[NLA_ALIGNTO];

/* A 32-bit attribute in host order; -1 if it is shorter (as
 * mnl_attr_validate(MNL_TYPE_U32) would say). */
static inline int
attr_u32(const uint8_t *data, size_t plen, uint32_t *out)
{
	uint32_t v;

	if (plen < sizeof(v))
		return -1;
	memcpy(&v, data, sizeof(v));
	*out = ntohl(v);
	return 0;
}

static void
ct_clear(struct nfqmsg_pkt *p)
{
	p->has_ct = p->has_ct_id = p->has_ct_labels = false;
	p->ct_status = p->ct_mark = p->ct_id = 0;
	memset(p->ct_labels, 0, sizeof(p->ct_labels));
}

/* NFQA_CT's nested attributes, data[0..plen), walked as attrs_parse() walks
 * the message's (nested ones, the tuples and protoinfo, are skipped
 * whole). -1 when one fails the checks or CTA_STATUS is missing (the
 * kernel always sends it): the caller then drops what was read. */
static int
ct_parse(const uint8_t *data, size_t plen, struct nfqmsg_pkt *p)
{
	size_t off = 0;
	bool has_status = false;

	while (off + NLA_HDRLEN <= plen) {
		const struct nlattr *a = (const struct nlattr *)(data + off);
		const uint8_t *d = data + off + NLA_HDRLEN;
		size_t l;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > plen - off)
			return -1;
		l = a->nla_len - NLA_HDRLEN;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case CTA_STATUS:
			if (attr_u32(d, l, &p->ct_status) < 0)
				return -1;
			has_status = true;
			break;
		case CTA_MARK:
			if (attr_u32(d, l, &p->ct_mark) < 0)
				return -1;
			break;
		case CTA_ID:
			if (attr_u32(d, l, &p->ct_id) < 0)
				return -1;
			p->has_ct_id = true;
			break;
		case CTA_LABELS:
			/* a bitmap: another size would be another layout */
			if (l != NFQMSG_CT_LABELS)
				return -1;
			memcpy(p->ct_labels, d, NFQMSG_CT_LABELS);
			p->has_ct_labels = true;
			break;
		default:
			break;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return has_status ? 0 : -1;
}

/* One walk over the attributes, each checked as mnl_attr_ok() checks it
 * (header present, length at least the header and within the message),
 * stepping by the aligned length as mnl_attr_next() does. */
static inline int
attrs_parse(struct nlmsghdr *nlh, struct nfqmsg_pkt *p)
{
	uint8_t *msg = (uint8_t *)nlh;
	size_t end = nlh->nlmsg_len;
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	bool has_hdr = false;

	if (nlh->nlmsg_type != PKT_MSG_TYPE)
		return -1;
	memset(p, 0, sizeof(*p));
	while (off + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)(msg + off);
		uint8_t *data = msg + off + NLA_HDRLEN;
		size_t plen;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > end - off)
			break;
		plen = a->nla_len - NLA_HDRLEN;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NFQA_PACKET_HDR: {
			uint32_t id;

			if (plen < sizeof(struct nfqnl_msg_packet_hdr))
				return -1;
			if (has_hdr)
				break;	/* the first counts, as for nfqmsg_packet_id() */
			memcpy(&id, data + offsetof(struct nfqnl_msg_packet_hdr, packet_id),
			       sizeof(id));
			p->id = ntohl(id);
			has_hdr = true;
			break;
		}
		case NFQA_PAYLOAD:
			p->payload = data;
			p->payload_len = plen;
			break;
		case NFQA_CAP_LEN:
			if (attr_u32(data, plen, &p->cap_len) < 0)
				return -1;
			break;
		case NFQA_SKB_INFO:
			if (attr_u32(data, plen, &p->skb_info) < 0)
				return -1;
			break;
		case NFQA_IFINDEX_INDEV:
			if (attr_u32(data, plen, &p->indev) < 0)
				return -1;
			break;
		case NFQA_IFINDEX_OUTDEV:
			if (attr_u32(data, plen, &p->outdev) < 0)
				return -1;
			break;
		case NFQA_MARK:
			if (attr_u32(data, plen, &p->mark) < 0)
				return -1;
			break;
		case NFQA_TIMESTAMP: {
			struct nfqnl_msg_packet_timestamp ts;

			if (plen < sizeof(ts))
				return -1;
			memcpy(&ts, data, sizeof(ts));
			p->tstamp_ms = (uint32_t)(be64toh(ts.sec) * 1000 + be64toh(ts.usec) / 1000);
			p->has_tstamp = true;
			break;
		}
		/* The conntrack glue: never rejects the packet (nfq.h). */
		case NFQA_CT:
			ct_clear(p);
			if (ct_parse(data, plen, p) == 0) {
				p->has_ct = true;
			} else {
				ct_clear(p);
				p->ct_malformed = true;
			}
			break;
		case NFQA_CT_INFO:
			p->has_ct_info = attr_u32(data, plen, &p->ct_info) == 0;
			if (!p->has_ct_info)
				p->ct_malformed = true;
			break;
		default:
			break;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return has_hdr ? 0 : -1;
}

int
nfqmsg_parse(struct nlmsghdr *nlh, struct nfqmsg_pkt *p)
{
	return attrs_parse(nlh, p);
}

/* Only the packet id of a packet message that attrs_parse() rejected, or
 * that was cut short: the attributes within the first end bytes walked
 * with the same checks, up to the first one that fails them. */
static int
id_find(const uint8_t *msg, size_t end, uint32_t *id)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)msg;
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

	if (end < NLMSG_HDRLEN || nlh->nlmsg_type != PKT_MSG_TYPE)
		return -1;
	if (nlh->nlmsg_len < end)
		end = nlh->nlmsg_len;
	while (off + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)(msg + off);
		uint32_t v;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > end - off)
			return -1;
		if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR) {
			if ((size_t)a->nla_len < NLA_HDRLEN + sizeof(struct nfqnl_msg_packet_hdr))
				return -1;
			memcpy(&v, msg + off + NLA_HDRLEN +
			       offsetof(struct nfqnl_msg_packet_hdr, packet_id), sizeof(v));
			*id = ntohl(v);
			return 0;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return -1;
}

int
nfqmsg_packet_id(const struct nlmsghdr *nlh, size_t len, uint32_t *id)
{
	return id_find((const uint8_t *)nlh, len, id);
}

uint32_t
nfqmsg_wait_ms(bool has_tstamp, uint32_t tstamp_ms, uint32_t now_ms)
{
	uint32_t w = now_ms - tstamp_ms;

	if (!has_tstamp || (int32_t)w < 0)
		return 0;
	return w > 65535 ? 65535 : w;
}

enum csum_mode
nfqmsg_csum_mode(uint32_t skb_info)
{
	if (skb_info & NFQA_SKB_GSO)
		return CSUM_NONE;
	if (skb_info & NFQA_SKB_CSUMNOTREADY)
		return CSUM_FULL;
	return CSUM_INCREMENTAL;
}

static struct nlmsghdr *
config_put(void *buf, uint16_t queue, uint32_t seq)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	return nlh;
}

struct nlmsghdr *
nfqmsg_config_bind(void *buf, uint16_t queue, uint32_t maxlen, uint32_t seq)
{
	struct nlmsghdr *nlh = config_put(buf, queue, seq);

	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));
	return nlh;
}

struct nlmsghdr *
nfqmsg_config_maxlen(void *buf, uint16_t queue, uint32_t maxlen, uint32_t seq)
{
	struct nlmsghdr *nlh = config_put(buf, queue, seq);

	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	return nlh;
}

struct nlmsghdr *
nfqmsg_config_conntrack(void *buf, uint16_t queue, uint32_t seq)
{
	struct nlmsghdr *nlh = config_put(buf, queue, seq);

	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_CONNTRACK));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_CONNTRACK));
	return nlh;
}

struct nfqmsg_batch *
nfqmsg_batch_new(uint16_t queue)
{
	struct nfqmsg_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->tmpl = (struct vmsg){
		.nlh = { .nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT,
			 .nlmsg_flags = NLM_F_REQUEST },
		.nfg = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0,
			 .res_id = htons(queue) },
		.vattr = { .nla_len = NLA_HDRLEN + sizeof(struct nfqnl_msg_verdict_hdr),
			   .nla_type = NFQA_VERDICT_HDR },
		.pattr = { .nla_type = NFQA_PAYLOAD },
	};
	return b;
}

void
nfqmsg_batch_free(struct nfqmsg_batch *b)
{
	free(b);
}

void
nfqmsg_batch_begin(struct nfqmsg_batch *b)
{
	b->niov = 0;
	b->nhdr = 0;
	b->ngroups = 0;
	b->group_bytes = 0;
	b->modified = 0;
	b->untouched = 0;
	b->passed_own = 0;
	b->batch_any = false;
}

static void
note_id(struct nfqmsg_batch *b, uint32_t id)
{
	if (!b->seen_any || (int32_t)(id - b->last_id) > 0)
		b->last_id = id;
	b->seen_any = true;
}

void
nfqmsg_batch_seen(struct nfqmsg_batch *b, uint32_t id)
{
	note_id(b, id);
}

/* Make room for a message of msg_bytes (aligned): a new group when the
 * open one would grow past NFQMSG_SEND_MAX. */
static void
group_room(struct nfqmsg_batch *b, size_t msg_bytes)
{
	if (b->group_bytes && b->group_bytes + msg_bytes > NFQMSG_SEND_MAX) {
		b->group_end[b->ngroups++] = b->niov;
		b->group_bytes = 0;
	}
	b->group_bytes += msg_bytes;
}

static void
iov_put(struct nfqmsg_batch *b, const void *base, size_t len)
{
	b->iov[b->niov].iov_base = (void *)base;
	b->iov[b->niov++].iov_len = len;
}

/* hdr[k]'s NFQA_CT, after whatever the message holds already. */
static void
ct_put(struct nfqmsg_batch *b, unsigned k, const struct nfqmsg_ct_labels *ct)
{
	struct vct *c = &b->ct[k];

	c->nest = (struct nlattr){ .nla_len = sizeof(*c), .nla_type = NFQA_CT | NLA_F_NESTED };
	c->lattr = (struct nlattr){ .nla_len = NLA_HDRLEN + NFQMSG_CT_LABELS,
				    .nla_type = CTA_LABELS };
	memcpy(c->labels, ct->labels, NFQMSG_CT_LABELS);
	c->mattr = (struct nlattr){ .nla_len = NLA_HDRLEN + NFQMSG_CT_LABELS,
				    .nla_type = CTA_LABELS_MASK };
	memcpy(c->mask, ct->mask, NFQMSG_CT_LABELS);
	iov_put(b, c, sizeof(*c));
}

static int
batch_add(struct nfqmsg_batch *b, uint32_t id, enum proc_result r, const uint8_t *payload,
	  size_t len, const struct nfqmsg_ct_labels *ct)
{
	struct vmsg *v;
	unsigned k;
	size_t ct_len;

	if (r == PROC_DROP)
		ct = NULL;	/* its unconfirmed entry goes with it */
	ct_len = ct ? sizeof(struct vct) : 0;
	if ((r != PROC_PASS || ct) &&
	    (b->nhdr == NFQMSG_BATCH || (r == PROC_MODIFIED && len > 0xffff - NLA_HDRLEN)))
		return -1;
	note_id(b, id);
	/* The highest id, not the last: ids are FIFO per queue, but a batch
	 * verdict that covers the highest one cannot miss an earlier one. */
	if (!b->batch_any || (int32_t)(id - b->batch_id) > 0)
		b->batch_id = id;
	b->batch_any = true;
	if (r == PROC_PASS && !ct) {
		b->untouched++;
		return 0;
	}
	k = b->nhdr++;
	v = &b->hdr[k];
	*v = b->tmpl;
	v->vh.id = htonl(id);
	b->hdr_pass[k] = r == PROC_PASS;
	if (r != PROC_MODIFIED) {
		/* dropped, or accepted untouched with its labels */
		v->vh.verdict = htonl(r == PROC_DROP ? NF_DROP : NF_ACCEPT);
		v->nlh.nlmsg_len = (uint32_t)(VMSG_NOPAYLOAD + ct_len);
		group_room(b, v->nlh.nlmsg_len);
		iov_put(b, v, VMSG_NOPAYLOAD);
		if (ct) {
			ct_put(b, k, ct);
			b->passed_own++;
		}
		return 0;
	}
	v->vh.verdict = htonl(NF_ACCEPT);
	v->pattr.nla_len = (uint16_t)(NLA_HDRLEN + len);
	/* the padding belongs to the message, as mnl_attr_put() counts it */
	v->nlh.nlmsg_len = (uint32_t)(sizeof(*v) + NLA_ALIGN(len) + ct_len);
	group_room(b, v->nlh.nlmsg_len);
	iov_put(b, v, sizeof(*v));
	iov_put(b, payload, len);
	if (NLA_ALIGN(len) != len)
		iov_put(b, zero_pad, NLA_ALIGN(len) - len);
	if (ct)
		ct_put(b, k, ct);
	b->modified++;
	return 0;
}

int
nfqmsg_batch_add(struct nfqmsg_batch *b, uint32_t id, enum proc_result r,
		 const uint8_t *payload, size_t len)
{
	return batch_add(b, id, r, payload, len, NULL);
}

int
nfqmsg_batch_add_ct(struct nfqmsg_batch *b, uint32_t id, enum proc_result r,
		    const uint8_t *payload, size_t len, const struct nfqmsg_ct_labels *ct)
{
	return batch_add(b, id, r, payload, len, ct);
}

/* One batch verdict accepting every queued packet up to id. */
static void
batch_verdict(struct nfqmsg_batch *b, uint32_t id)
{
	struct vmsg *v = &b->batch_hdr;

	*v = b->tmpl;
	v->nlh.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH;
	v->nlh.nlmsg_len = VMSG_NOPAYLOAD;
	v->vh.verdict = htonl(NF_ACCEPT);
	v->vh.id = htonl(id);
	group_room(b, VMSG_NOPAYLOAD);
	iov_put(b, v, VMSG_NOPAYLOAD);
}

static void
group_close(struct nfqmsg_batch *b)
{
	if (b->group_bytes)
		b->group_end[b->ngroups++] = b->niov;
	b->group_bytes = 0;
}

void
nfqmsg_batch_end(struct nfqmsg_batch *b, struct stats *s)
{
	if (b->untouched)
		batch_verdict(b, b->batch_id);
	group_close(b);
	s->modified += b->modified;
	s->passed += b->untouched + b->passed_own;
}

bool
nfqmsg_batch_sweep(struct nfqmsg_batch *b)
{
	nfqmsg_batch_begin(b);
	if (!b->seen_any)
		return false;
	batch_verdict(b, b->last_id);
	group_close(b);
	return true;
}

unsigned
nfqmsg_batch_groups(const struct nfqmsg_batch *b)
{
	return b->ngroups;
}

struct iovec *
nfqmsg_batch_group(struct nfqmsg_batch *b, unsigned g, size_t *niov)
{
	unsigned first = g ? b->group_end[g - 1] : 0;

	*niov = b->group_end[g] - first;
	return &b->iov[first];
}

/* The verdict header that iovec iov is, or NULL (a payload or padding). */
static const struct vmsg *
iov_vmsg(const struct nfqmsg_batch *b, const struct iovec *iov)
{
	const struct vmsg *v = iov->iov_base;
	uintptr_t p = (uintptr_t)v, first = (uintptr_t)b->hdr;

	/* (as integers: a payload points into another object) */
	if (v == &b->batch_hdr || (p >= first && p < (uintptr_t)(b->hdr + b->nhdr)))
		return v;
	return NULL;
}

struct iovec *
nfqmsg_batch_fallback(struct nfqmsg_batch *b, unsigned g, size_t *niov)
{
	size_t n, k = 0;
	struct iovec *iov = nfqmsg_batch_group(b, g, &n);
	uint32_t top = 0;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const struct vmsg *v = iov_vmsg(b, &iov[i]);
		uint32_t id;

		if (!v)
			continue;
		id = ntohl(v->vh.id);
		if (!any || (int32_t)(id - top) > 0)
			top = id;
		any = true;
		/* untouched (a verdict of its own for its labels): accepted by
		 * the batch verdict below, without them */
		if (v == &b->batch_hdr || b->hdr_pass[v - b->hdr])
			continue;
		/* Modified or dropped: dropped now, never accepted as received
		 * (why: nfq.h). */
		b->fb_hdr[k] = b->tmpl;
		b->fb_hdr[k].nlh.nlmsg_len = VMSG_NOPAYLOAD;
		b->fb_hdr[k].vh.id = v->vh.id;
		b->fb_hdr[k].vh.verdict = htonl(NF_DROP);
		b->fb_iov[k] = (struct iovec){ &b->fb_hdr[k], VMSG_NOPAYLOAD };
		k++;
	}
	/* then everything else of the group, untouched, up to its top id */
	b->fb_hdr[k] = b->tmpl;
	b->fb_hdr[k].nlh.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH;
	b->fb_hdr[k].nlh.nlmsg_len = VMSG_NOPAYLOAD;
	b->fb_hdr[k].vh.id = htonl(top);
	b->fb_hdr[k].vh.verdict = htonl(NF_ACCEPT);
	b->fb_iov[k] = (struct iovec){ &b->fb_hdr[k], VMSG_NOPAYLOAD };
	*niov = any ? k + 1 : 0;
	return b->fb_iov;
}

/* What process_packet() needs, passed down the walk as one pointer. */
struct run {
	struct nfqmsg_batch *b;
	const struct conf *c;
	struct proc_state *ps;
	struct stats *s;
};

/* A packet message that fails the checks (a bad attribute, or cut short at
 * len bytes): if its id can be read it is accepted untouched in this
 * batch's verdict. Without an id no verdict can name it; it was never a
 * message the kernel sent whole, and a batch verdict with a later id (this
 * batch's, or the sweep at stop) covers it if it was a packet. */
static void
run_malformed(struct run *r, const uint8_t *msg, size_t len)
{
	uint32_t id;

	r->s->malformed++;
	if (id_find(msg, len, &id) < 0)
		return;
	r->s->packets++;
	nfqmsg_batch_add(r->b, id, PROC_PASS, NULL, 0);
}

static void
run_packet(struct run *r, struct nlmsghdr *nlh)
{
	struct nfqmsg_pkt a;
	struct proc_pkt pk = { 0 };
	enum proc_result res = PROC_PASS;

	if (attrs_parse(nlh, &a) < 0) {
		run_malformed(r, (const uint8_t *)nlh, nlh->nlmsg_len);
		return;
	}
	r->s->packets++;
	if (a.ct_malformed)
		r->s->ct_malformed++;
	if (!a.payload) {
		r->s->truncated++;
	} else if (r->b->nhdr < NFQMSG_BATCH) {
		/* (full only if datagrams carried several packets each:
		 * then the rest is accepted as received) */
		pk.buf = a.payload;
		pk.len = a.payload_len;
		pk.truncated = a.cap_len > a.payload_len;
		pk.csum = nfqmsg_csum_mode(a.skb_info);
		pk.indev = a.indev;
		pk.mark = a.mark;
		pk.outdev = a.outdev;
		pk.wait_ms = nfqmsg_wait_ms(a.has_tstamp, a.tstamp_ms, r->ps->now_ms);
		pk.has_ct = a.has_ct;
		pk.ct_status = a.ct_status;
		if (a.has_ct_labels) {
			pk.has_ct_labels = true;
			memcpy(pk.ct_labels, a.ct_labels, sizeof(pk.ct_labels));
		}
		res = process_packet(r->c, r->ps, &pk, r->s);
	}
	if (r->ps->ha && r->ps->ha->verdict_labels) {
		/* HA pairs with the conntrack glue: the record rides on the
		 * packet's own verdict (ha_label) */
		struct nfqmsg_ct_labels ct;

		r->ps->ha->verdict_labels = false;
		memcpy(ct.labels, r->ps->ha->v_labels, sizeof(ct.labels));
		memcpy(ct.mask, r->ps->ha->v_mask, sizeof(ct.mask));
		if (nfqmsg_batch_add_ct(r->b, a.id, res, pk.buf, pk.len, &ct) == 0) {
			r->s->labels_written += res != PROC_DROP;
			return;
		}
		r->s->label_errors++;	/* no room for a verdict of its own */
	}
	nfqmsg_batch_add(r->b, a.id, res, pk.buf, pk.len);
}

/* The messages of one datagram, each checked as mnl_nlmsg_ok() checks it;
 * bytes that do not hold a whole message (a datagram cut short) end the
 * walk and count as malformed, its packet accepted if its id is there. */
static void
run_datagram(struct run *r, uint8_t *buf, size_t len)
{
	if ((uintptr_t)buf % NLMSG_ALIGNTO) {
		r->s->malformed++;	/* never read a header misaligned */
		return;
	}
	while (len) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		size_t step;

		if (len < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN) {
			r->s->malformed++;
			return;
		}
		if (nlh->nlmsg_len > len) {
			run_malformed(r, buf, len);
			return;
		}
		if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
			run_packet(r, nlh);
		} else if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *err = NLMSG_DATA(nlh);

			/* an asynchronous verdict error must not stop the loop */
			if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*err)) && err->error)
				r->s->verdict_errors++;
		}
		step = NLMSG_ALIGN(nlh->nlmsg_len);
		if (step >= len)
			return;
		buf += step;
		len -= step;
	}
}

unsigned
nfqmsg_batch_run(struct nfqmsg_batch *b, const struct conf *c, struct proc_state *ps,
		 struct stats *s, const struct mmsghdr *rx, unsigned n)
{
	struct run r = { b, c, ps, s };
	uint64_t before = s->packets;

	s->batches++;
	nfqmsg_batch_begin(b);
	for (unsigned i = 0; i < n; i++)
		run_datagram(&r, rx[i].msg_hdr.msg_iov[0].iov_base, rx[i].msg_len);
	nfqmsg_batch_end(b, s);
	return (unsigned)(s->packets - before);
}
