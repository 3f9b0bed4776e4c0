/* SPDX-License-Identifier: GPL-2.0-or-later */
/* refmodel.c - the reference model of one packet's fate (see refmodel.h).
 *
 * Written for reading, not for speed: every rule is one plain step, in the
 * order the rules give them, on plain data. Nothing here calls the
 * daemon's decision, flow, domain, option or checksum code. */
#include <string.h>

#include "offload.h"
#include "packet_int.h"
#include "policy.h"
#include "refflows.h"
#include "refmodel.h"

#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define TCP_FIN 0x01
#define TCP_RST 0x04
#define TS_KIND 8
#define TS_LEN 10
#define SEG_TS_MAX 8

/* What the model reads of a parsed packet, by its own walk. */
struct seg {
	int family;
	size_t alen, src_at, dst_at;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint8_t flags;
	size_t l4, hlen, end;		/* end: where the IP header says it ends */
	bool whole;
	unsigned nts;			/* timestamp options of length 10 */
	size_t ts[SEG_TS_MAX];		/* their offsets in the TCP header */
	uint32_t tsval, tsecr;		/* of the last one */
};

static uint32_t
get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
	return get16(p) << 16 | get16(p + 2);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* a is later, or earlier, than b in 32-bit serial arithmetic; at exactly
 * 2^31 apart a is earlier and not later (the rules' "max" reads "the clock
 * unless it is before the mark", "the mark unless the new value is after
 * it", "the bound if the value is after it"). */
static bool
after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static bool
before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

void
ref_init(struct ref_model *m, const struct conf *c, bool table, unsigned max)
{
	memset(m, 0, sizeof(*m));
	m->conf = c;
	m->table = table;
	m->max = max < REF_FLOWS_MAX ? max : REF_FLOWS_MAX;
}

void
ref_set_floor(struct ref_model *m, uint32_t floor)
{
	m->floored = true;
	m->floor = floor;
}

void
ref_set_ifindex(struct ref_model *m, int family, uint32_t ifindex, uint16_t dom)
{
	if (ifindex < REF_IFINDEX_MAX)
		m->ifdom[family == 6][ifindex] = dom;
}

/* The IP header: family, addresses, where TCP starts and where the packet
 * ends. The parser accepted the packet, so the headers are in the buffer;
 * the model checks anyway and reports what it cannot follow. */
static const char *
seg_ip(const uint8_t *buf, size_t len, struct seg *s)
{
	uint8_t nh;

	if (buf[0] >> 4 == 4) {
		s->family = 4, s->alen = 4, s->src_at = 12, s->dst_at = 16;
		s->l4 = (size_t)(buf[0] & 15) * 4;
		s->end = get16(buf + 2);
		return NULL;
	}
	s->family = 6, s->alen = 16, s->src_at = 8, s->dst_at = 24;
	s->end = 40 + get16(buf + 4);
	s->l4 = 40;
	for (nh = buf[6]; nh != 6; ) {	/* hop-by-hop, routing, dest. options */
		if (s->l4 + 8 > len)
			return "IPv6 extension header past the buffer";
		nh = buf[s->l4];
		s->l4 += ((size_t)buf[s->l4 + 1] + 1) * 8;
	}
	return NULL;
}

/* The TCP options as Linux walks them: EOL ends the list, NOP is one byte,
 * anything else has a length of at least 2 that stays in the header. */
static const char *
seg_options(const uint8_t *tcp, struct seg *s)
{
	size_t i = 20;

	s->nts = 0;
	while (i < s->hlen && tcp[i] != 0) {
		if (tcp[i] == 1) {
			i++;
			continue;
		}
		if (i + 2 > s->hlen || tcp[i + 1] < 2 || i + tcp[i + 1] > s->hlen)
			return "an option the parser accepted is malformed";
		if (tcp[i] == TS_KIND && tcp[i + 1] == TS_LEN) {
			s->ts[s->nts++] = i;
			s->tsval = get32(tcp + i + 2);
			s->tsecr = get32(tcp + i + 6);
		}
		i += tcp[i + 1];
	}
	return NULL;
}

static const char *
seg_read(const uint8_t *buf, size_t len, const struct ref_in *in, struct seg *s)
{
	const uint8_t *tcp;
	const char *err;

	memset(s, 0, sizeof(*s));
	if ((err = seg_ip(buf, len, s)))
		return err;
	if (s->l4 + 20 > len || s->l4 + 20 > s->end)
		return "TCP header past the buffer";
	tcp = buf + s->l4;
	s->hlen = (size_t)(tcp[12] >> 4) * 4;
	if (s->l4 + s->hlen > len)
		return "TCP options past the buffer";
	s->src = buf + s->src_at;
	s->dst = buf + s->dst_at;
	s->sport = (uint16_t)get16(tcp);
	s->dport = (uint16_t)get16(tcp + 2);
	s->flags = tcp[13];
	s->whole = len >= s->end && !in->truncated;
	return seg_options(tcp, s);
}

/* ---- flows (refflows.c) ---- */

static struct ref_flow *
ref_find(struct ref_model *m, const struct seg *s, bool *from_client)
{
	int i = ref_flows_index(m, s->family, s->src, s->sport, s->dst, s->dport, from_client);

	return i < 0 ? NULL : &m->flow[i];
}

const struct ref_flow *
ref_flow_of(const struct ref_model *m, const struct ref_out *out, const uint8_t *buf,
	    bool *from_client)
{
	int i = ref_flows_index(m, out->family, buf + out->src_at,
				(uint16_t)get16(buf + out->l4), buf + out->dst_at,
				(uint16_t)get16(buf + out->l4 + 2), from_client);

	return i < 0 ? NULL : &m->flow[i];
}

/* ---- clock domains ---- */

static void
mark_raise(struct ref_model *m, uint16_t dom, uint32_t tsval)
{
	if (!m->marked[dom] || after(tsval, m->mark[dom]))
		m->mark[dom] = tsval;
	m->marked[dom] = true;
}

/* A new SYN's TSval': the wall clock, or the mark if that is later, or
 * the floor if that is later still; never 0. The mark is repeated, not
 * passed: SYNs alone never run the clock ahead. */
static uint32_t
next_tsval(struct ref_model *m, uint16_t dom)
{
	uint32_t v = m->now_ms;

	if (m->marked[dom] && before(v, m->mark[dom])) {
		v = m->mark[dom];
		m->paths.syn_from_mark++;
	}
	if (m->floored && before(v, m->floor)) {
		v = m->floor;
		m->paths.syn_from_floor++;
	}
	return v ? v : 1;
}

/* ---- the edits ---- */

static enum proc_result
edit_strip(struct ref_model *m, uint8_t *buf, const struct seg *s)
{
	for (unsigned i = 0; i < s->nts; i++)
		memset(buf + s->l4 + s->ts[i], 1, TS_LEN);
	m->st.stripped++;
	m->paths.two_ts += s->nts > 1;
	return PROC_MODIFIED;
}

/* TSval += add and TSecr -= sub in every timestamp option; a TSecr of 0
 * ("no echo") stays 0. */
static enum proc_result
edit_shift(struct ref_model *m, uint8_t *buf, const struct seg *s, uint32_t add, uint32_t sub)
{
	for (unsigned i = 0; i < s->nts; i++) {
		uint8_t *v = buf + s->l4 + s->ts[i] + 2;
		uint32_t ecr = get32(v + 4);

		put32(v, get32(v) + add);
		put32(v + 4, ecr ? ecr - sub : 0);
	}
	m->st.rewritten++;
	m->paths.two_ts += s->nts > 1;
	return PROC_MODIFIED;
}

/* strip mode, the strip fallback of a full table, a client over quota */
static enum proc_result
strip_syn(struct ref_model *m, uint8_t *buf, const struct seg *s)
{
	if (s->nts == 0)
		return PROC_PASS;
	if (!s->whole) {
		m->st.truncated++;
		return PROC_PASS;
	}
	return edit_strip(m, buf, s);
}

/* ---- rewrite: the packet of a flow ---- */

/* The server echoes a value the client sent raw: it now holds the client's
 * own clock, and the flow goes raw. */
static bool
echo_raw(const struct ref_flow *f, uint32_t tsecr)
{
	return after(tsecr - f->offset, f->last_raw) && !after(tsecr, f->last_raw);
}

/* The most a flow may send now: its SYN's TSval' plus the milliseconds of
 * real (monotonic) time since, and one more per 1024 of them. Time that
 * reads as negative (2^31 ms or more) counts as none (*stalled). Once 2^30
 * ms have passed, the bound starts again from where it stands now. */
static uint32_t
real_time_bound(const struct ref_model *m, struct ref_flow *f, bool *stalled)
{
	uint32_t since = m->mono_ms - f->syn_ms, bound;

	*stalled = (int32_t)since < 0;
	if (*stalled)
		since = 0;
	bound = f->syn_val + since + since / 1024;
	if (since >= 0x40000000u) {
		f->syn_val = bound;
		f->syn_ms = m->mono_ms;
	}
	return bound;
}

/* The client's TSval': its own plus the offset, never past the bound; the
 * mark takes what is sent. Returns what is added to TSval. */
static uint32_t
client_ts(struct ref_model *m, struct ref_flow *f, const struct seg *s)
{
	uint32_t v, bound;
	bool stalled;

	if (f->rebase && s->tsval != 0 && !(s->flags & TCP_SYN)) {
		f->offset -= s->tsval;
		f->rebase = false;
		m->paths.rebased++;
	}
	f->last_raw = s->tsval;
	v = s->tsval + f->offset;
	bound = real_time_bound(m, f, &stalled);
	if (after(v, bound)) {
		/* counted beyond the SYN's wait at the gateway (none here: the
		 * model's packets come with no NFQA_TIMESTAMP) and the grace */
		if (v - bound > SHIFT_CLAMP_GRACE)
			m->st.ts_clamped++;
		v = bound;
		m->paths.clamped_stalled += stalled;
	}
	mark_raise(m, f->domain, v);
	return v - s->tsval;
}

/* What is taken from the server's TSecr; *resync when the flow goes raw. */
static uint32_t
server_ts(struct ref_model *m, const struct ref_flow *f, const struct seg *s, bool *resync)
{
	if (s->tsecr == 0 || f->offset == 0)
		return 0;
	if (!f->rebase && echo_raw(f, s->tsecr)) {
		m->st.flows_resynced++;
		*resync = true;
		return 0;
	}
	return f->offset;
}

static enum proc_result
ref_segment(struct ref_model *m, struct ref_flow *f, bool from_client, uint8_t *buf,
	    const struct seg *s)
{
	enum proc_result v = PROC_PASS;
	uint32_t add = 0, sub = 0;
	bool resync = false;

	ref_flows_touch(m, f);
	if (!from_client && !f->answered)
		ref_flows_answer(m, f);
	if (s->nts && from_client)
		add = client_ts(m, f, s);
	else if (s->nts)
		sub = server_ts(m, f, s, &resync);
	if (resync) {			/* raw from now on: the flow is gone */
		ref_flows_drop(m, f);
		return PROC_PASS;
	}
	if ((add || sub) && !s->whole) {
		m->st.truncated++;
		m->st.dropped++;
		v = PROC_DROP;
	} else if (add || sub) {
		v = edit_shift(m, buf, s, add, sub);
	}
	if (s->flags & TCP_RST) {
		ref_flows_drop(m, f);
		m->paths.resets++;
	} else if (s->flags & TCP_FIN) {
		ref_flows_fin(m, f, from_client);
	}
	return v;
}

/* ---- rewrite: a client SYN that matched ---- */

static uint16_t
domain_of(const struct ref_model *m, const struct policy *pol, const struct seg *s,
	  const struct ref_in *in)
{
	if (!pol->ts_auto)
		return pol->domain;
	return in->outdev < REF_IFINDEX_MAX ? m->ifdom[s->family == 6][in->outdev] :
	       DOMAIN_SHARED;
}

/* The client's quota: flows.per_client, else a sixteenth of flows.max
 * but at least 16. Closing flows do not count toward it. */
static bool
over_quota(struct ref_model *m, const struct seg *s)
{
	unsigned quota = m->conf->flows_per_client;
	unsigned held = ref_flows_count(m, s->family, s->src, false);

	if (!quota)
		quota = m->conf->flows_max / 16 < 16 ? 16 : m->conf->flows_max / 16;
	if (held < quota) {
		m->paths.quota_spared += ref_flows_count(m, s->family, s->src, true) >= quota;
		return false;
	}
	m->st.flows_over_quota++;
	return true;
}

/* A full table: flows.on_full. False: no flow, *v is the verdict. */
static bool
room_when_full(struct ref_model *m, uint8_t *buf, const struct seg *s, enum proc_result *v)
{
	m->st.flows_full++;
	*v = PROC_PASS;
	switch (m->conf->flows_on_full) {
	case ON_FULL_STRIP:
		*v = strip_syn(m, buf, s);
		return false;
	case ON_FULL_EVICT_IDLE:
		if (ref_flows_evict(m))
			m->st.flows_evicted++;
		return m->nflows < m->max;
	default:
		return false;
	}
}

static enum proc_result
rewrite_syn(struct ref_model *m, const struct policy *pol, uint8_t *buf,
	    const struct seg *s, const struct ref_in *in)
{
	uint16_t dom = domain_of(m, pol, s, in);
	enum proc_result v;
	struct ref_flow *f;

	if (s->nts == 0) {
		m->st.syn_without_ts++;
		return PROC_PASS;
	}
	if (!s->whole) {
		m->st.truncated++;
		return PROC_PASS;
	}
	if (over_quota(m, s))
		return strip_syn(m, buf, s);
	if (m->nflows == m->max && !room_when_full(m, buf, s, &v))
		return v;
	f = ref_flows_new(m, s->family, s->src, s->sport, s->dst, s->dport);
	m->st.flows_created++;
	f->domain = dom;
	f->syn_val = next_tsval(m, dom);
	f->syn_ms = m->mono_ms;
	f->offset = f->syn_val - s->tsval;
	f->rebase = s->tsval == 0;
	return ref_segment(m, f, true, buf, s);
}

/* ---- the decision ---- */

static bool
in_set(const struct cidr *set, size_t n, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&set[i], family, addr))
			return true;
	return false;
}

static const struct policy *
first_match(const struct conf *c, const struct seg *s)
{
	for (size_t i = 0; i < c->npol; i++) {
		const struct policy *p = &c->pol[i];

		if (in_set(p->dst, p->ndst, s->family, s->dst) &&
		    (p->nsrc == 0 || in_set(p->src, p->nsrc, s->family, s->src)))
			return p;
	}
	return NULL;
}

/* Whether the first policy matching s (its reverse with swap) rewrites. */
static bool
rewrite_first(const struct conf *c, const struct seg *s, bool swap)
{
	struct seg r = *s;
	const struct policy *p;

	if (swap) {
		r.src = s->dst;
		r.dst = s->src;
	}
	p = first_match(c, &r);
	return p && (p->mode == MODE_REWRITE ||
		     (p->mode == MODE_AUTO && p->action == MODE_REWRITE));
}

static enum proc_result
decide(struct ref_model *m, uint8_t *buf, const struct seg *s, const struct ref_in *in)
{
	bool client_syn = (s->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN, from_client;
	struct ref_flow *f = m->table ? ref_find(m, s, &from_client) : NULL;
	const struct policy *pol;

	if (f && !(client_syn && from_client && (f->fin_client || f->fin_server)))
		return ref_segment(m, f, from_client, buf, s);
	if (f) {
		ref_flows_drop(m, f);
		m->paths.reopened++;
	}
	if (!client_syn) {
		/* a rewrite connection's packet without state: counted
		 * (flows_unadopted; no conntrack labels in this model) */
		if (s->nts && (rewrite_first(m->conf, s, false) || rewrite_first(m->conf, s, true)))
			m->st.flows_unadopted++;
		return PROC_PASS;
	}
	if (!m->conf->enabled)
		return PROC_PASS;
	if (!(pol = first_match(m->conf, s))) {
		m->st.unmatched++;
		return PROC_PASS;
	}
	switch (pol->mode) {
	case MODE_STRIP:
		return strip_syn(m, buf, s);
	case MODE_REWRITE:
		return m->table ? rewrite_syn(m, pol, buf, s, in) : PROC_PASS;
	default:			/* pass; observe is not implemented */
		return PROC_PASS;
	}
}

void
ref_process(struct ref_model *m, uint8_t *buf, size_t len, const struct ref_in *in,
	    struct ref_out *out)
{
	struct pkt p;
	struct seg s;

	memset(out, 0, sizeof(*out));
	out->verdict = PROC_PASS;
	switch (pkt_parse_general(buf, len, &p)) {
	case PKT_OK:
		break;
	case PKT_NOT_OURS:
		m->st.not_tcp++;
		return;
	case PKT_TRUNCATED:
		m->st.truncated++;
		return;
	case PKT_MALFORMED:
		m->st.malformed++;
		return;
	}
	if ((out->error = seg_read(buf, len, in, &s)))
		return;
	*out = (struct ref_out){ .parsed = true, .whole = s.whole, .family = s.family,
		.alen = s.alen, .src_at = s.src_at, .dst_at = s.dst_at, .l4 = s.l4,
		.seg_len = s.end - s.l4 };
	out->verdict = decide(m, buf, &s, in);
}
