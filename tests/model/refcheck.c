/* SPDX-License-Identifier: GPL-2.0-or-later */
/* refcheck.c - the daemon against the reference model (see refcheck.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "flow.h"
#include "packet_int.h"
#include "refcheck.h"

static const char *
verdict_name(enum proc_result v)
{
	static const char *const names[] = { "PASS", "MODIFIED", "DROP" };

	return (unsigned)v < 3 ? names[v] : "(not a verdict)";
}

static __attribute__((format(printf, 3, 4))) bool
differ(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return false;
}

/* got and want agree on [from, to); the first byte that does not is named */
static bool
same_bytes(const uint8_t *got, const uint8_t *want, size_t from, size_t to,
	   char *why, size_t n)
{
	for (size_t i = from; i < to; i++)
		if (got[i] != want[i])
			return differ(why, n, "byte %zu: daemon 0x%02x, model 0x%02x",
				      i, got[i], want[i]);
	return true;
}

/* The TCP checksum, written again: one 16-bit word at a time. */
static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint32_t
fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* pseudo-header + the segment that o describes, its checksum field
 * included or not (o->whole: the segment is in buf) */
static uint32_t
segment_sum(const uint8_t *buf, const struct ref_out *o, bool with_field)
{
	const uint8_t *tcp = buf + o->l4;
	uint32_t sum = 6 + (uint32_t)o->seg_len;

	sum = sum16(sum, buf + o->src_at, o->alen);
	sum = sum16(sum, buf + o->dst_at, o->alen);
	sum = sum16(sum, tcp, 16);
	if (with_field)
		sum = sum16(sum, tcp + 16, 2);
	return sum16(sum, tcp + 18, o->seg_len - 18);
}

/* the value a full computation stores */
static uint16_t
full_csum(const uint8_t *buf, const struct ref_out *o)
{
	return (uint16_t)~fold(segment_sum(buf, o, false));
}

/* the stored value verifies */
static bool
csum_ok(const uint8_t *buf, const struct ref_out *o)
{
	return fold(segment_sum(buf, o, true)) == 0xffff;
}

static bool
check_checksum(const uint8_t *orig, const uint8_t *got, const struct ref_out *o,
	       enum csum_mode mode, char *why, size_t n)
{
	size_t at = o->l4 + 16;
	unsigned stored = (unsigned)got[at] << 8 | got[at + 1];

	switch (mode) {
	case CSUM_NONE:
		return same_bytes(got, orig, at, at + 2, why, n);
	case CSUM_FULL:
		if (stored != full_csum(got, o))
			return differ(why, n, "CSUM_FULL: checksum 0x%04x, full checksum 0x%04x",
				      stored, full_csum(got, o));
		return true;
	case CSUM_INCREMENTAL:
		if (csum_ok(orig, o) && !csum_ok(got, o))
			return differ(why, n, "CSUM_INCREMENTAL: a correct checksum became "
				      "0x%04x, full checksum 0x%04x", stored, full_csum(got, o));
		return true;
	}
	return differ(why, n, "unknown checksum mode %d", (int)mode);
}

static bool
check_packet(const uint8_t *orig, const uint8_t *got, const uint8_t *want, size_t len,
	     enum csum_mode mode, enum proc_result v, const struct ref_out *o,
	     char *why, size_t n)
{
	size_t at = o->l4 + 16;

	if (v != o->verdict)
		return differ(why, n, "verdict: daemon %s, model %s", verdict_name(v),
			      verdict_name(o->verdict));
	if (v != PROC_MODIFIED)
		return same_bytes(got, orig, 0, len, why, n);
	return same_bytes(got, want, 0, at, why, n) &&
	       same_bytes(got, want, at + 2, len, why, n) &&
	       check_checksum(orig, got, o, mode, why, n);
}

static bool
check_stats(const struct stats *got, const struct stats *want, char *why, size_t n)
{
#define STATS_CMP(name, desc)						\
	if (got->name != want->name)					\
		return differ(why, n, "counter " #name ": daemon %llu, model %llu", \
			      (unsigned long long)got->name,		\
			      (unsigned long long)want->name);
	STATS_FIELDS(STATS_CMP)
#undef STATS_CMP
	return true;
}

static bool
check_flow(const struct flow *f, bool fc, const struct ref_flow *r, bool rc,
	   char *why, size_t n)
{
	if (!f != !r)
		return differ(why, n, "the packet's flow: daemon %s, model %s",
			      f ? "has one" : "none", r ? "has one" : "none");
	if (!f)
		return true;
	if (fc != rc || flow_family(f) != r->family || f->domain != r->domain)
		return differ(why, n, "flow: direction %d/%d, family %d/%d, domain %u/%u "
			      "(daemon/model)", fc, rc, flow_family(f), r->family,
			      (unsigned)f->domain, (unsigned)r->domain);
	if (f->offset != r->offset || f->last_raw != r->last_raw || f->last != r->last)
		return differ(why, n, "flow: offset %u/%u, last_raw %u/%u, last %u/%u "
			      "(daemon/model)", f->offset, r->offset, f->last_raw, r->last_raw,
			      (unsigned)f->last, (unsigned)r->last);
	if (f->syn_val != r->syn_val || f->syn_ms != r->syn_ms)
		return differ(why, n, "flow: syn_val %u/%u, syn_ms %u/%u (daemon/model)",
			      f->syn_val, r->syn_val, f->syn_ms, r->syn_ms);
	if (!(f->flags & FLOW_REBASE) != !r->rebase ||
	    !(f->flags & FLOW_ANSWERED) != !r->answered ||
	    !(f->flags & FLOW_FIN_CLIENT) != !r->fin_client ||
	    !(f->flags & FLOW_FIN_SERVER) != !r->fin_server ||
	    flow_closing(f) != ref_closing(r))
		return differ(why, n, "flow flags: daemon 0x%02x, model rebase %d answered %d "
			      "fin %d/%d", (unsigned)f->flags, r->rebase, r->answered,
			      r->fin_client, r->fin_server);
	return true;
}

/* Every domain's high-water mark. */
static bool
check_marks(const struct ref_pair *w, char *why, size_t n)
{
	for (uint16_t dom = 0; dom < domains_count(w->ps->domains); dom++) {
		uint32_t hwm;
		bool marked = domains_hwm(w->ps->domains, dom, &hwm);

		if (marked != w->m->marked[dom] || (marked && hwm != w->m->mark[dom]))
			return differ(why, n, "domain %u mark: daemon %s %u, model %s %u",
				      (unsigned)dom, marked ? "set" : "unset", hwm,
				      w->m->marked[dom] ? "set" : "unset", w->m->mark[dom]);
	}
	return true;
}

/* flow_foreach(): every flow of the daemon's table, held to the model's. */
struct table_walk {
	const struct ref_model *m;
	char *why;
	size_t n;
	bool ok;
};

static void
check_one(const struct flow *f, void *arg)
{
	struct table_walk *tw = arg;
	bool a_is_client = f->flags & FLOW_CLIENT_IS_A;
	const uint8_t *client = a_is_client ? f->a : f->b, *server = a_is_client ? f->b : f->a;
	uint16_t cport = a_is_client ? f->pa : f->pb, sport = a_is_client ? f->pb : f->pa;
	const struct ref_flow *r;

	if (!tw->ok)
		return;
	r = ref_flow_find(tw->m, flow_family(f), client, cport, server, sport);
	if (!r) {
		tw->ok = differ(tw->why, tw->n, "the daemon holds a flow of client port %u, "
				"server port %u that the model does not", cport, sport);
		return;
	}
	tw->ok = check_flow(f, true, r, true, tw->why, tw->n);
}

/* Both tables hold the same flows, in the same states; the daemon never
 * counts fewer flows for a client than the model (its sketch may count
 * more, the contract says, never fewer). */
static bool
check_table(const struct ref_pair *w, char *why, size_t n)
{
	struct table_walk tw = { .m = w->m, .why = why, .n = n, .ok = true };

	if (!w->ps->flows)
		return true;
	flow_foreach(w->ps->flows, check_one, &tw);
	for (unsigned i = 0; tw.ok && i < w->m->nflows; i++) {
		const struct ref_flow *r = &w->m->flow[i];
		uint32_t got = flow_client_count(w->ps->flows, r->family, r->client);
		unsigned want = ref_client_flows(w->m, r->family, r->client);

		if (got < want)
			return differ(why, n, "a client's flows: daemon counts %u, model %u",
				      got, want);
	}
	return tw.ok;
}

static bool
check_flows(const struct ref_pair *w, const uint8_t *orig, size_t len,
	    const struct ref_out *o, char *why, size_t n)
{
	uint32_t count = w->ps->flows ? flow_count(w->ps->flows) : 0;
	const struct flow *f = NULL;
	const struct ref_flow *r = NULL;
	bool fc = false, rc = false;
	struct pkt p;

	if (count != w->m->nflows)
		return differ(why, n, "flow count: daemon %u, model %u", count, w->m->nflows);
	if (!check_marks(w, why, n) || !check_table(w, why, n))
		return false;
	if (!o->parsed || !w->ps->flows)
		return true;
	if (pkt_parse_general(orig, len, &p) != PKT_OK)
		return differ(why, n, "the parser no longer accepts the packet");
	f = flow_lookup(w->ps->flows, &p, &fc);
	r = ref_flow_of(w->m, o, orig, &rc);
	return check_flow(f, fc, r, rc, why, n);
}

static uint8_t *
copy_of(const uint8_t *pkt, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	if (!c)
		abort();
	memcpy(c, pkt, len);
	return c;
}

bool
ref_pair_step(struct ref_pair *w, const uint8_t *pkt, size_t len,
	      const struct ref_in *in, enum proc_result *verdict, uint8_t *out,
	      char *why, size_t n)
{
	uint8_t *got = copy_of(pkt, len), *want = copy_of(pkt, len);
	struct proc_pkt pp = { .buf = got, .len = len, .csum = in->csum,
			       .outdev = in->outdev, .truncated = in->truncated };
	enum proc_result v;
	struct ref_out o;
	bool ok;

	w->m->now = w->ps->now;
	w->m->now_ms = w->ps->now_ms;
	w->m->mono_ms = w->ps->mono_ms;
	v = process_packet(w->conf, w->ps, &pp, w->st);
	ref_process(w->m, want, len, in, &o);
	if (verdict)
		*verdict = v;
	if (out)
		memcpy(out, got, len);
	if (o.error)
		ok = differ(why, n, "the model cannot follow the packet: %s", o.error);
	else
		ok = check_packet(pkt, got, want, len, in->csum, v, &o, why, n) &&
		     check_stats(w->st, &w->m->st, why, n) &&
		     check_flows(w, pkt, len, &o, why, n);
	free(got);
	free(want);
	return ok;
}

bool
ref_pair_expire(struct ref_pair *w, const struct flow_timeouts *to, unsigned limit,
		char *why, size_t n)
{
	uint32_t got = 0, want;

	w->m->now = w->ps->now;
	if (w->ps->flows)
		got = flow_expire(w->ps->flows, w->ps->now, to, limit);
	want = ref_expire(w->m, to, limit);
	if (got != want)
		return differ(why, n, "expired flows: daemon %u, model %u", got, want);
	if ((w->ps->flows ? flow_count(w->ps->flows) : 0) != w->m->nflows)
		return differ(why, n, "flow count after expiry: daemon %u, model %u",
			      w->ps->flows ? flow_count(w->ps->flows) : 0, w->m->nflows);
	return check_table(w, why, n);
}
