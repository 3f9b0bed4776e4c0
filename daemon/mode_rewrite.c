/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mode_rewrite.c - keep timestamps, make them monotonic per translated
 * source. The first SYN of a flow gets TSval' = the domain's next value and
 * the flow remembers offset = TSval' - TSval; every later packet of the flow
 * is shifted by it, TSval on the way out and TSecr on the way back. Every
 * packet of such a flow is queued, in both directions. */
#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "mode.h"
#include "offload.h"

static const struct action pass = { .kind = ACT_PASS };

/* The first policy matching a connection client -> server. */
static const struct policy *
first_policy(const struct conf *c, int family, const uint8_t *client, const uint8_t *server)
{
	return family == 4 ? policy_match4(c->dst4, c->ndst4, client, server) :
	       policy_match(c->pol, c->npol, family, client, server);
}

static void label_answer(const struct conf *c, struct proc_state *ps, struct stats *s,
			 bool glue, int family, const uint8_t *client, const uint8_t *server,
			 uint16_t cport, uint16_t sport, uint32_t offset, uint32_t syn_val,
			 uint32_t syn_ms);

/* 16 bits as they are in the packet (network order). */
static inline uint16_t
pkt_get16n(const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return v;
}

_Static_assert(DOMAIN_MAX <= 512, "a flow keeps its domain in 9 bits");

/* The server echoes a raw value we never sent (packets passed unrewritten,
 * e.g. while tsnatd restarted or the queue failed open): it now holds the
 * client's own clock, so rewriting further would only make its PAWS drop
 * us, and the flow must go raw. For a non-zero TSecr of a flow with an
 * offset. */
static bool
echo_is_raw(const struct flow *f, uint32_t tsecr)
{
	return (int32_t)((tsecr - f->offset) - f->last_raw) > 0 &&
	       (int32_t)(tsecr - f->last_raw) <= 0;
}

/* The highest TSval' the flow may send now: its SYN's TSval' plus the time
 * since, at a rate of at most 1 + 1/1024 ticks per millisecond (RFC 7323
 * allows one). A rate margin, never a fixed allowance per flow: a client
 * could ratchet that forward once per new connection. So nothing a client
 * sends moves its domain's clock faster than real time, beyond 0.1%. */
static uint32_t
flow_bound(struct flow *f, uint32_t mono_ms)
{
	int32_t elapsed = (int32_t)(mono_ms - f->syn_ms);
	uint32_t bound;

	if (elapsed < 0)
		elapsed = 0;
	bound = f->syn_val + (uint32_t)elapsed + ((uint32_t)elapsed >> 10);
	/* A flow 2^30 ms old (12 days) restarts its bound from where it
	 * stands: the same line, so no allowance is gained, and its age never
	 * reads as negative (2^31 ms), which would free it from the bound. A
	 * flow idle longer than FLOW_TIMEOUT_MAX (12 h) has expired before. */
	if ((uint32_t)elapsed >= 1u << 30) {
		f->syn_val = bound;
		f->syn_ms = mono_ms;
	}
	return bound;
}

/* The worker's window of SYN waits (proc_state.syn_wait): two buckets of
 * SYN_WAIT_BUCKET s, so a wait is remembered one to two minutes, about as
 * long as the compression it causes lasts (1024 x the wait, at the bound's
 * rate margin) for waits up to 60 ms. */
#define SYN_WAIT_BUCKET 60

static void
syn_wait_note(struct proc_state *ps, uint32_t wait_ms)
{
	uint32_t age = ps->now - ps->syn_wait.since;

	if (age >= SYN_WAIT_BUCKET) {
		ps->syn_wait.prev = age < 2 * SYN_WAIT_BUCKET ? ps->syn_wait.cur : 0;
		ps->syn_wait.cur = 0;
		ps->syn_wait.since = ps->now;
	}
	if (wait_ms > ps->syn_wait.cur)
		ps->syn_wait.cur = wait_ms;
}

static uint32_t
syn_wait_max(const struct proc_state *ps)
{
	return ps->syn_wait.cur > ps->syn_wait.prev ? ps->syn_wait.cur : ps->syn_wait.prev;
}

/* A client ran ahead of its bound: the bound is sent instead (the
 * server's view stays monotonic; an honest client whose SYN was delayed
 * more than its data loses a few ms of RTT accuracy, where a drop would
 * punish it). Counted only beyond what its SYN's wait at the gateway
 * explains (SHIFT_CLAMP_GRACE, shift.h; here the worker's longest recent
 * SYN wait stands for the flow's own); noted when it is more than jitter
 * explains. */
#define CLAMP_NOTE_MS 1000

static uint32_t
clamp(const struct flow *f, uint32_t v, uint32_t bound, const struct mode_ctx *x)
{
	uint32_t excess = v - bound;
	const struct pkt *p = x->p;

	if (excess <= syn_wait_max(x->ps) + SHIFT_CLAMP_GRACE)
		return bound;
	x->s->ts_clamped++;
	if (excess > CLAMP_NOTE_MS)
		mode_note(x->ps->notes, x->ps->now, NOTE_CLAMP, NULL, f->domain, excess, 0,
			  p->family, p->saddr, p->daddr);
	return bound;
}

/* The client's packet: TSval += offset, within the flow's bound; its TSval'
 * raises the domain's mark. */
static struct action
client_segment(struct flow *f, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	uint32_t v, bound;

	/* TSval-0 SYN: rebase on the flow's first non-zero TSval so that it
	 * continues from the SYN's TSval' (held in offset). */
	if ((f->flags & FLOW_REBASE) && p->tsval != 0 && !(p->tcp_flags & TCPF_SYN)) {
		f->offset -= p->tsval;
		f->flags &= (uint8_t)~FLOW_REBASE;
	}
	f->last_raw = p->tsval;
	v = p->tsval + f->offset;
	bound = flow_bound(f, x->ps->mono_ms);
	if ((int32_t)(v - bound) > 0)
		v = clamp(f, v, bound, x);
	domains_note(x->ps->domains, x->ps->worker, f->domain, v);
	return (struct action){ .kind = ACT_SHIFT, .add = v - p->tsval };
}

/* The server's packet: TSecr -= offset, unless the echo shows the server
 * went raw (resync) or the flow is still waiting for its rebase. */
static struct action
server_segment(struct flow *f, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	uint8_t change = FLOW_TOUCHED;

	if (p->tsecr == 0 || f->offset == 0)
		return (struct action){ .kind = ACT_PASS, .flow = FLOW_TOUCHED };
	if (!(f->flags & FLOW_REBASE) && echo_is_raw(f, p->tsecr)) {
		x->s->flows_resynced++;
		return (struct action){ .kind = ACT_PASS, .flow = FLOW_RESYNCED };
	}
	return (struct action){ .kind = ACT_SHIFT, .flow = change, .sub = f->offset };
}

struct action
rewrite_segment(struct flow *f, bool from_client, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	struct action a = pass;

	flow_touch(x->ps->flows, f, x->ps->now);
	if (!from_client && !(f->flags & FLOW_ANSWERED)) {
		flow_answered(x->ps->flows, f);
		if (x->ps->ha && !(f->flags & (FLOW_REBASE | FLOW_OBSERVE)))
			label_answer(x->conf, x->ps, x->s, x->in->has_ct, p->family, p->daddr,
				     p->saddr, pkt_get16n(p->tcp + 2), pkt_get16n(p->tcp),
				     f->offset, f->syn_val, f->syn_ms);
	}
	if (p->ts_count)
		a = from_client ? client_segment(f, x) : server_segment(f, x);
	if (a.kind == ACT_SHIFT && !a.add && !a.sub)
		a.kind = ACT_PASS;
	if (a.flow == FLOW_RESYNCED) {
		/* The flow goes raw: it leaves the table, and its packets pass
		 * untouched from now on. Not kept with offset 0: its raw TSvals
		 * must neither be clamped (its server follows them now) nor
		 * raise the domain's mark (a flow that went raw would then be
		 * a way to move everyone's clock). */
		flow_remove(x->ps->flows, f);
		return a;
	}
	if (p->tcp_flags & TCPF_RST) {
		flow_remove(x->ps->flows, f);
		a.flow = FLOW_REMOVED;
	} else if (p->tcp_flags & TCPF_FIN) {
		flow_fin(x->ps->flows, f, from_client, x->ps->now);
		a.flow = FLOW_FINISHED;
	} else if (a.flow == FLOW_KEPT) {
		a.flow = FLOW_TOUCHED;
	}
	return a;
}

/* The flows one client address may hold in a worker's table. */
static uint32_t
client_quota(const struct conf *c)
{
	uint32_t q = c->flows_max / 16;

	if (c->flows_per_client)
		return c->flows_per_client;
	return q < 16 ? 16 : q;
}

/* A client over its quota gets strip for its new connections: it cannot
 * push other clients out of the table (into on_full), and strip hurts
 * nobody else (a 4.x server may drop its stripped SYNs for a minute; it
 * records nothing for them). */
static bool
quota_hit(const struct mode_ctx *x, uint32_t quota)
{
	const struct pkt *p = x->p;

	x->s->flows_over_quota++;
	mode_note(x->ps->notes, x->ps->now, NOTE_QUOTA, NULL, 0, quota, 0, p->family,
		  p->saddr, p->daddr);
	return true;
}

static bool
over_quota(const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	uint32_t quota = client_quota(x->conf);

	if (flow_client_count(x->ps->flows, p->family, p->saddr) < quota)
		return false;
	return quota_hit(x, quota);
}

/* A full table: the configured fallback, counted. NULL: no flow. */
static struct flow *
insert_when_full(const struct mode_ctx *x, struct action *fallback)
{
	x->s->flows_full++;
	switch (x->conf->flows_on_full) {
	case ON_FULL_STRIP:
		*fallback = (struct action){ .kind = ACT_STRIP };
		return NULL;
	case ON_FULL_PASS:
		break;
	case ON_FULL_EVICT_IDLE:
		if (flow_evict_idle(x->ps->flows))
			x->s->flows_evicted++;
		return flow_insert(x->ps->flows, x->p, x->ps->now);
	}
	return NULL;
}

/* A client SYN for the kernel data path (offload.h). */
struct offload_syn {
	struct shift_key k;
	uint32_t tsval, indev, now_ms, mono_ms, quota, wait_ms;
	uint16_t dom;
	unsigned worker;
	bool dnat;		/* its conntrack entry shows destination NAT */
};

/* The programs key a flow by the tuple they see on the client's
 * interface, which is the one before DNAT (tc ingress runs before
 * PREROUTING, egress after POSTROUTING's reverse NAT); the daemon sees
 * the one after it in FORWARD. An entry written under the tuple after
 * DNAT would match none of the flow's packets: the client's would
 * escape to the daemon (shifted there), but the replies would go out
 * with the server's TSecr unshifted and the client would refuse its
 * SYN-ACK. So a flow whose conntrack entry shows destination NAT stays
 * in NFQUEUE, from its SYN or when adopted (rewrite_adopt). Known only
 * where the queue has the conntrack glue (NFQA_CT, nfqmsg_parse);
 * without it such flows are offloaded as before (the documented limit:
 * offload = false on a gateway that DNATs them). */
static bool
ct_has_dnat(const struct proc_pkt *in)
{
	return in->has_ct && (in->ct_status & IPS_DST_NAT);
}

/* The map's key of a client packet: addresses as parsed, the ports from
 * its TCP header (network order, as the programs read them). */
static void
offload_key(struct shift_key *k, int family, const uint8_t *saddr, const uint8_t *daddr,
	    const uint8_t *tcp)
{
	size_t alen = family == 4 ? 4 : 16;

	*k = (struct shift_key){ .family = (uint8_t)family };
	memcpy(k->client, saddr, alen);
	memcpy(k->server, daddr, alen);
	memcpy(&k->client_port, tcp, 2);
	memcpy(&k->server_port, tcp + 2, 2);
}

enum offload_outcome {
	OFFLOAD_NO,		/* the flow stays in NFQUEUE */
	OFFLOAD_SHIFT,		/* the kernel has it: the SYN gets *v */
	OFFLOAD_QUOTA,		/* its client is over its quota: strip */
};

/* raw + the entry's offset, within the entry's bound, and in the client's
 * order a function of raw alone (as the programs' ingress_value()): a
 * newer raw gets at least the last value and gains at most what raw
 * gained since; an older one gets at most the last value. */
static uint32_t
entry_value(const struct shift_flow *f, uint32_t raw, uint32_t mono_ms, struct stats *s)
{
	uint32_t e = (int32_t)(mono_ms - f->syn_ms) < 0 ? 0 : mono_ms - f->syn_ms;
	uint32_t bound = f->syn_val + e + (e >> 10), v = raw + f->offset;
	uint32_t cap = f->last_val + (raw - f->last_raw);

	if ((int32_t)(v - bound) > 0) {
		if (v - bound > f->syn_wait + SHIFT_CLAMP_GRACE)
			s->ts_clamped++;
		v = bound;
	}
	if ((int32_t)(raw - f->last_raw) < 0)
		return (int32_t)(v - f->last_val) > 0 ? f->last_val : v;
	if ((int32_t)(v - f->last_val) < 0)
		return f->last_val;
	return (int32_t)(v - cap) > 0 ? cap : v;
}

/* The SYN's TSval' when the kernel data path takes the flow.
 * - First, whatever happens, the domain learns the highest TSval' the
 *   programs sent, so that no SYN (NFQUEUE's included) starts below it.
 * - Then the tuple's entry: one without a FIN is this SYN's
 *   retransmission (its offset, within its bound; its time refreshed);
 *   one with a FIN belongs to a connection that ended, and goes before
 *   anything else takes the tuple (else the programs would shift the new
 *   connection's packets with the old offset, on top of whatever the new
 *   one gets).
 * - A new entry: a client with quota entries already gets strip, as in
 *   NFQUEUE (over_quota): it cannot push other clients' flows out of the
 *   map's LRU; else the programs go on the SYN's input interface if they
 *   are not there yet, and the entry is written with the domain's next
 *   value before the SYN's verdict, so that the SYN-ACK finds it.
 * OFFLOAD_NO: the flow stays in NFQUEUE (the rules queue whatever the
 * programs did not mark): a flow with destination NAT (counted; its
 * tuple is not the programs', so the map is not even looked at), a
 * TSval-0 SYN (its rebase is NFQUEUE's), a draining data path (no put),
 * or a refusal (counted). */
static enum offload_outcome
offload_syn_in(const struct offload_path *ol, struct domains *d, const struct offload_syn *in,
	       struct stats *s, uint32_t *v, struct shift_flow *out)
{
	struct shift_flow f;
	uint32_t mark;
	int r;

	if (ol->ops->mark(ol->ctx, in->worker, in->mono_ms, &mark))
		domains_note(d, in->worker, in->dom, mark);
	if (in->dnat) {
		if (ol->ops->put)
			s->offload_dnat++;	/* it would have taken the flow */
		return OFFLOAD_NO;
	}
	if ((r = ol->ops->get(ol->ctx, &in->k, &f)) < 0)
		goto refused;
	if (r == 1 && !(f.flags & (SHIFT_FIN_CLIENT | SHIFT_FIN_SERVER))) {
		*v = entry_value(&f, in->tsval, in->mono_ms, s);
		domains_note(d, in->worker, in->dom, *v);
		if ((int32_t)(in->tsval - f.last_raw) >= 0) {
			f.last_raw = in->tsval;
			f.last_val = *v;
		}
		if (ol->ops->put)
			ol->ops->put(ol->ctx, &in->k, &f, false);
		*out = f;
		return OFFLOAD_SHIFT;
	}
	if (r == 1 && ol->ops->del(ol->ctx, &in->k) < 0)
		goto refused;
	if (in->tsval == 0 || !ol->ops->put)
		return OFFLOAD_NO;
	if (ol->ops->client_flows &&
	    ol->ops->client_flows(ol->ctx, in->worker, &in->k, false) >= in->quota)
		return OFFLOAD_QUOTA;
	if (ol->ops->attach(ol->ctx, in->indev) < 0)
		goto refused;
	f = (struct shift_flow){ .syn_ms = in->mono_ms, .last_raw = in->tsval,
				 .domain = in->dom, .syn_wait = in->wait_ms };
	f.syn_val = f.last_val = domains_next_tsval(d, in->dom, in->now_ms);
	f.offset = f.syn_val - in->tsval;
	if (ol->ops->put(ol->ctx, &in->k, &f, true) < 0)
		goto refused;
	domains_note(d, in->worker, in->dom, f.syn_val);
	if (ol->ops->client_flows)
		ol->ops->client_flows(ol->ctx, in->worker, &in->k, true);
	s->flows_offloaded++;
	s->flows_created++;
	*v = f.syn_val;
	*out = f;
	return OFFLOAD_SHIFT;
refused:
	s->offload_refused++;
	return OFFLOAD_NO;
}

/* The same, given the packet's fields: called from the per-packet path,
 * where the parsed packet must stay in registers (see mode_note). */
static __attribute__((noinline, cold)) enum offload_outcome
offload_syn(const struct offload_path *ol, struct domains *d, struct stats *s, int family,
	    const uint8_t *saddr, const uint8_t *daddr, const uint8_t *tcp, uint32_t tsval,
	    const struct proc_state *ps, uint32_t indev, uint32_t wait_ms, bool dnat,
	    uint16_t dom, uint32_t quota, uint32_t *v, struct shift_flow *out)
{
	struct offload_syn in = { .tsval = tsval, .indev = indev, .now_ms = ps->now_ms,
				  .mono_ms = ps->mono_ms, .quota = quota, .dom = dom,
				  .worker = ps->worker, .wait_ms = wait_ms, .dnat = dnat };

	offload_key(&in.k, family, saddr, daddr, tcp);
	return offload_syn_in(ol, d, &in, s, v, out);
}

/* A client packet of an offloaded flow that the programs did not shift
 * (no offload_mark: an IPv4 fragment the gateway reassembled, an IPv6
 * extension header, an entry swept or evicted in between) and that has no
 * flow of its own here: shifted here from its entry, within its bound,
 * rather than let its raw TSval reach the server: ACT_SHIFT, or ACT_PASS
 * when there is nothing to shift. */
__attribute__((noinline, cold)) struct action
rewrite_escaped(const struct conf *c, struct proc_state *ps, struct stats *s, uint32_t mark,
		int family, const uint8_t *saddr, const uint8_t *daddr, const uint8_t *tcp,
		uint32_t tsval, unsigned ts_count)
{
	const struct offload_path *ol = ps->offload;
	struct domains *d = ps->domains;
	struct shift_key k;
	struct shift_flow f;
	uint32_t v;

	if (!ts_count || (mark & c->offload_mark) || !ol->ops->get)
		return pass;	/* nothing to shift, or the programs did */
	offload_key(&k, family, saddr, daddr, tcp);
	if (ol->ops->get(ol->ctx, &k, &f) != 1)
		return pass;
	v = entry_value(&f, tsval, ps->mono_ms, s);
	domains_note(d, ps->worker, (uint16_t)f.domain, v);
	s->offload_escaped++;
	return (struct action){ .kind = ACT_SHIFT, .add = v - tsval };
}

/* HA pairs: the flow's record into its conntrack entry's labels, at the
 * server's first answer (its SYN-ACK), with its verdict (the conntrack
 * glue) or written after this batch's verdicts. Not at the SYN: a SYN that
 * nobody answers (a flood, a scan, a dead server) then costs no label
 * write and no conntrackd sync. A TSval-0 SYN's flow is not written: its
 * offset is only known at its rebase. Given fields, as mode_note; ports
 * in network order. */
static __attribute__((noinline, cold)) void
label_answer(const struct conf *c, struct proc_state *ps, struct stats *s, bool glue,
	     int family, const uint8_t *client, const uint8_t *server, uint16_t cport,
	     uint16_t sport, uint32_t offset, uint32_t syn_val, uint32_t syn_ms)
{
	const struct policy *pol = first_policy(c, family, client, server);
	struct ctlabel l = { .flags = CTLABEL_SHIFT, .offset = offset, .syn_val = syn_val,
			     .syn_wall = ps->now_ms - (ps->mono_ms - syn_ms) };
	struct ct_tuple t;

	if (pol && pol->mode == MODE_AUTO)
		l.flags |= CTLABEL_AUTO;
	ha_tuple(&t, family, client, server, cport, sport);
	if (!ha_label(ps->ha, glue, &t, &l))
		s->label_errors++;
}

/* Adoption: a packet of a rewrite policy's connection that this daemon
 * has no state for (the other gateway of an HA pair started it, or this
 * one before a restart that lost its state), with the record of
 * label_syn() in its conntrack entry, as conntrackd synced it.
 * - The connection's sides come from the policies: the packet's source is
 *   the client when a rewrite policy matches it as one, else its
 *   destination.
 * - The record comes from NFQA_CT where the queue has the conntrack glue,
 *   else from one lookup (ha_lookup: rate-limited, misses remembered).
 * - The flow then continues where the other daemon left it: the same
 *   offset, its bound as old as its SYN plus ha_clock_skew (the clocks
 *   may be that far apart, and the other may have sent up to its bound),
 *   into the kernel data path's map when it runs (not a DNATed flow:
 *   ct_has_dnat), else the flow table;
 *   under the same quota as a new flow. The domain's mark rises to that
 *   bound: no later SYN starts below what the flow may have sent.
 * A connection without a record is counted (flows_unadopted, per packet)
 * and passes as today: its timestamps are the client's own. */
struct adopt {
	const struct policy *pol;
	bool from_client;
	const uint8_t *client, *server;
	uint16_t cport, sport;		/* network order */
	struct ctlabel l;
};

static const struct policy *
rewrite_policy(const struct conf *c, int family, const uint8_t *client, const uint8_t *server)
{
	const struct policy *pol = first_policy(c, family, client, server);

	if (!pol || !(pol->mode == MODE_REWRITE ||
		      (pol->mode == MODE_AUTO && pol->action == MODE_REWRITE)))
		return NULL;
	return pol;
}

static bool
adopt_sides(const struct mode_ctx *x, struct adopt *a)
{
	const struct pkt *p = x->p;
	uint16_t sp, dp;

	memcpy(&sp, p->tcp, 2);
	memcpy(&dp, p->tcp + 2, 2);
	if ((a->pol = rewrite_policy(x->conf, p->family, p->saddr, p->daddr))) {
		*a = (struct adopt){ .pol = a->pol, .from_client = true, .client = p->saddr,
				     .server = p->daddr, .cport = sp, .sport = dp };
		return true;
	}
	if ((a->pol = rewrite_policy(x->conf, p->family, p->daddr, p->saddr))) {
		*a = (struct adopt){ .pol = a->pol, .from_client = false, .client = p->daddr,
				     .server = p->saddr, .cport = dp, .sport = sp };
		return true;
	}
	return false;
}

static uint16_t
adopt_domain(const struct mode_ctx *x, const struct adopt *a)
{
	if (!a->pol->ts_auto)
		return a->pol->domain;
	/* the translated source's interface: the client's packets leave by it,
	 * the server's come in by it */
	return domains_for_ifindex(x->ps->domains, x->p->family,
				   a->from_client ? x->in->outdev : x->in->indev);
}

static void
unadopted(const struct mode_ctx *x)
{
	x->s->flows_unadopted++;
	mode_note(x->ps->notes, x->ps->now, NOTE_UNADOPTED, NULL, 0, 0, 0, x->p->family,
		  x->p->saddr, x->p->daddr);
}

/* Into the kernel data path: an entry the programs shift from now on. */
static struct action
adopt_offload(const struct mode_ctx *x, const struct adopt *a, const struct shift_key *k,
	      uint16_t dom, uint32_t age)
{
	const struct offload_path *ol = x->ps->offload;
	const struct pkt *p = x->p;
	uint32_t raw = a->from_client ? p->tsval : p->tsecr - a->l.offset, v;
	struct shift_flow f = { .offset = a->l.offset, .syn_val = a->l.syn_val,
				.syn_ms = x->ps->mono_ms - age, .last_raw = raw,
				.domain = dom, .syn_wait = x->ps->ha->skew };

	f.last_val = raw + f.offset;
	if ((int32_t)(f.last_val - ctlabel_bound(&a->l, age)) > 0)
		f.last_val = ctlabel_bound(&a->l, age);
	if (ol->ops->client_flows &&
	    ol->ops->client_flows(ol->ctx, x->ps->worker, k, false) >= client_quota(x->conf)) {
		quota_hit(x, client_quota(x->conf));
		unadopted(x);
		return pass;
	}
	if (ol->ops->attach(ol->ctx, a->from_client ? x->in->indev : x->in->outdev) < 0 ||
	    ol->ops->put(ol->ctx, k, &f, true) < 0) {
		x->s->offload_refused++;
		unadopted(x);
		return pass;
	}
	if (ol->ops->client_flows)
		ol->ops->client_flows(ol->ctx, x->ps->worker, k, true);
	x->s->flows_adopted++;
	x->s->flows_offloaded++;
	if (!a->from_client)
		return pass;	/* the egress program shifts it, now that it has the entry */
	v = f.last_val;
	domains_note(x->ps->domains, x->ps->worker, dom, v);
	return (struct action){ .kind = ACT_SHIFT, .add = v - p->tsval };
}

/* Into the flow table. */
static struct action
adopt_table(const struct mode_ctx *x, const struct adopt *a, uint16_t dom, uint32_t age)
{
	const struct pkt *p = x->p;
	struct pkt q = *p;
	uint8_t ports[4];
	struct flow *f;

	if (flow_client_count(x->ps->flows, p->family, a->client) >= client_quota(x->conf)) {
		quota_hit(x, client_quota(x->conf));
		unadopted(x);
		return pass;
	}
	/* the flow's key as its client's packets have it */
	memcpy(ports, &a->cport, 2);
	memcpy(ports + 2, &a->sport, 2);
	q.saddr = a->client;
	q.daddr = a->server;
	q.tcp = ports;
	if (!(f = flow_insert(x->ps->flows, &q, x->ps->now))) {
		struct action fallback = pass;

		if (!(f = insert_when_full(x, &fallback))) {
			unadopted(x);
			return pass;
		}
	}
	f->domain = dom;
	f->offset = a->l.offset;
	f->syn_val = a->l.syn_val;
	f->syn_ms = x->ps->mono_ms - age;
	f->last_raw = a->from_client ? p->tsval : p->tsecr - a->l.offset;
	flow_answered(x->ps->flows, f);	/* established: the open list, not half-open */
	x->s->flows_adopted++;
	return rewrite_segment(f, a->from_client, x);
}

static struct action
adopt(const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	struct proc_ha *ha = x->ps->ha;
	struct shift_key k;
	struct shift_flow ent;
	struct ct_tuple t;
	struct adopt a;
	enum ha_found found;
	uint32_t age;
	uint16_t dom;

	if (!p->ts_count || !adopt_sides(x, &a))
		return pass;
	if (x->ps->offload) {
		/* a flow the programs hold (its SYN-ACK, a reply they let
		 * through to the queue) is theirs, not one to adopt */
		offload_key(&k, p->family, a.client, a.server, p->tcp);
		memcpy(&k.client_port, &a.cport, 2);
		memcpy(&k.server_port, &a.sport, 2);
		if (x->ps->offload->ops->get &&
		    x->ps->offload->ops->get(x->ps->offload->ctx, &k, &ent) == 1) {
			/* its server's first answer: the record (label_answer) */
			if (ha && !a.from_client && (p->tcp_flags & TCPF_SYN))
				label_answer(x->conf, x->ps, x->s, x->in->has_ct, p->family,
					     a.client, a.server, a.cport, a.sport, ent.offset,
					     ent.syn_val, ent.syn_ms);
			return pass;
		}
	}
	if (!ha) {
		found = HA_NONE;	/* no labels to look at: counted all the same */
	} else if (x->in->has_ct) {
		found = ha_from_labels(ha, x->in->has_ct_labels, x->in->ct_labels, &a.l);
	} else {
		ha_tuple(&t, p->family, a.client, a.server, a.cport, a.sport);
		found = ha_lookup(ha, &t, x->ps->now, &a.l);
	}
	if (found == HA_ERROR)
		x->s->label_errors++;
	if (found == HA_NOENTRY)
		return pass;	/* no conntrack entry: the firewall drops it as INVALID */
	if (found != HA_LABEL || !(a.l.flags & CTLABEL_SHIFT)) {
		unadopted(x);
		return pass;
	}
	age = ctlabel_age(&a.l, x->ps->now_ms, ha->skew);
	dom = adopt_domain(x, &a);
	domains_note(x->ps->domains, x->ps->worker, dom, ctlabel_bound(&a.l, age));
	if (x->ps->offload && x->ps->offload->ops->put) {
		/* the programs would not know a DNATed flow's tuple either
		 * (ct_has_dnat): into the flow table with it */
		if (!ct_has_dnat(x->in))
			return adopt_offload(x, &a, &k, dom, age);
		x->s->offload_dnat++;
	}
	if (!x->ps->flows)
		return pass;
	return adopt_table(x, &a, dom, age);
}

/* Given fields, as rewrite_escaped: the caller's parsed packet stays in
 * registers. The packet is rebuilt here for what adoption reads. */
__attribute__((noinline, cold)) struct action
rewrite_adopt(const struct conf *c, struct proc_state *ps, const struct proc_pkt *in,
	      struct stats *s, int family, const uint8_t *saddr, const uint8_t *daddr,
	      const uint8_t *tcp, uint8_t tcp_flags, unsigned ts_count, uint32_t tsval,
	      uint32_t tsecr)
{
	struct pkt p = { .family = (uint8_t)family, .addr_len = family == 4 ? 4 : 16,
			 .tcp_flags = tcp_flags, .ts_count = (uint8_t)ts_count, .tsval = tsval,
			 .tsecr = tsecr, .saddr = saddr, .daddr = daddr, .tcp = tcp };

	return adopt(&(struct mode_ctx){ .conf = c, .ps = ps, .p = &p, .in = in, .s = s });
}

struct action
rewrite_client_syn(const struct policy *pol, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	uint16_t dom = mode_domain(pol, x);
	struct action fallback = pass, a;
	struct flow *f;

	if (p->ts_count == 0) {
		/* Only strip could keep the invariant for such a client. */
		x->s->syn_without_ts++;
		mode_note(x->ps->notes, x->ps->now, NOTE_SYN_WITHOUT_TS, pol->name, dom, 0, 0,
			  p->family, p->saddr, p->daddr);
		return pass;
	}
	if (!p->complete || x->in->truncated) {
		/* no flow we could not rewrite from its first packet on */
		x->s->truncated++;
		return pass;
	}
	if (over_quota(x))
		return (struct action){ .kind = ACT_STRIP };
	syn_wait_note(x->ps, x->in->wait_ms);
	if (x->ps->offload) {
		uint32_t v, quota = client_quota(x->conf);
		struct shift_flow e;

		switch (offload_syn(x->ps->offload, x->ps->domains, x->s, p->family, p->saddr,
				    p->daddr, p->tcp, p->tsval, x->ps, x->in->indev,
				    x->in->wait_ms, ct_has_dnat(x->in), dom, quota, &v, &e)) {
		case OFFLOAD_SHIFT:
			return (struct action){ .kind = ACT_SHIFT, .add = v - p->tsval };
		case OFFLOAD_QUOTA:
			quota_hit(x, quota);
			return (struct action){ .kind = ACT_STRIP };
		case OFFLOAD_NO:
			break;
		}
	}
	f = flow_insert(x->ps->flows, p, x->ps->now);
	if (!f && !(f = insert_when_full(x, &fallback)))
		return fallback;
	x->s->flows_created++;
	f->domain = dom;
	f->syn_val = domains_next_tsval(x->ps->domains, dom, x->ps->now_ms);
	f->syn_ms = x->ps->mono_ms;
	f->offset = f->syn_val - p->tsval;
	if (p->tsval == 0)
		f->flags |= FLOW_REBASE;
	a = rewrite_segment(f, true, x);
	a.flow = FLOW_CREATED;
	return a;
}

const struct mode_ops mode_rewrite = {
	.name = "rewrite",
	.queue_out = QUEUE_ALL,
	.queue_in = QUEUE_ALL,
	.needs_flows = true,
	.client_syn = rewrite_client_syn,
	.segment = rewrite_segment,
};
