/* mode_rewrite.c - keep timestamps, make them monotonic per translated
 * source. The first SYN of a flow gets TSval' = the domain's next value and
 * the flow remembers offset = TSval' - TSval; every later packet of the flow
 * is shifted by it, TSval on the way out and TSecr on the way back. Every
 * packet of such a flow is queued, in both directions. */
#include <string.h>

#include "domain.h"
#include "mode.h"

static const struct action pass = { .kind = ACT_PASS };

/* A SYN without timestamp hit a rewrite policy: the main thread logs each
 * (domain, server) pair once; a small filter here keeps the ring quiet. */
static __attribute__((noinline, cold)) void
note_syn_without_ts(struct proc_notes *n, const char *policy, uint16_t dom,
		    uint8_t family, const uint8_t *server)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t head, h = dom * 31u + server[alen - 1] * 7u + server[0];
	struct proc_note *slot;

	if (!n || n->seen[h & 255])
		return;
	n->seen[h & 255] = 1;
	head = atomic_load_explicit(&n->head, memory_order_relaxed);
	if (head - atomic_load_explicit(&n->tail, memory_order_acquire) >= PROC_NOTES)
		return;
	slot = &n->ring[head % PROC_NOTES];
	slot->domain = dom;
	slot->family = family;
	memcpy(slot->server, server, alen);
	slot->policy = policy;
	atomic_store_explicit(&n->head, head + 1, memory_order_release);
}

static uint16_t
domain_of(const struct policy *pol, const struct mode_ctx *x)
{
	if (!pol->ts_auto)
		return pol->domain;
	return domains_for_ifindex(x->ps->domains, x->p->family, x->in->outdev);
}

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

/* The client's packet: TSval += offset; its TSval' raises the domain's mark. */
static struct action
client_segment(struct flow *f, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;

	/* TSval-0 SYN: rebase on the flow's first non-zero TSval so that it
	 * continues from the SYN's TSval' (held in offset). */
	if ((f->flags & FLOW_REBASE) && p->tsval != 0 && !(p->tcp_flags & TCPF_SYN)) {
		f->offset -= p->tsval;
		f->flags &= (uint8_t)~FLOW_REBASE;
	}
	f->last_raw = p->tsval;
	domains_note(x->ps->domains, x->ps->worker, f->domain, p->tsval + f->offset);
	return (struct action){ .kind = ACT_SHIFT, .add = f->offset };
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
		f->offset = 0;
		x->s->flows_resynced++;
		change = FLOW_RESYNCED;
	}
	return (struct action){ .kind = f->offset ? ACT_SHIFT : ACT_PASS,
				.flow = change, .sub = f->offset };
}

struct action
rewrite_segment(struct flow *f, bool from_client, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	struct action a = pass;

	flow_touch(x->ps->flows, f, x->ps->now);
	if (p->ts_count)
		a = from_client ? client_segment(f, x) : server_segment(f, x);
	if (a.kind == ACT_SHIFT && !a.add && !a.sub)
		a.kind = ACT_PASS;
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

struct action
rewrite_client_syn(const struct policy *pol, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	uint16_t dom = domain_of(pol, x);
	struct action fallback = pass, a;
	struct flow *f;

	if (p->ts_count == 0) {
		/* Only strip could keep the invariant for such a client. */
		x->s->syn_without_ts++;
		note_syn_without_ts(x->ps->notes, pol->name, dom, p->family, p->daddr);
		return pass;
	}
	if (!p->complete || x->in->truncated) {
		/* no flow we could not rewrite from its first packet on */
		x->s->truncated++;
		return pass;
	}
	f = flow_insert(x->ps->flows, p, x->ps->now);
	if (!f && !(f = insert_when_full(x, &fallback)))
		return fallback;
	x->s->flows_created++;
	f->domain = dom;
	f->offset = domains_next_tsval(x->ps->domains, dom, x->ps->now_ms) - p->tsval;
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
