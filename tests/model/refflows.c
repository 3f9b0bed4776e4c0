/* SPDX-License-Identifier: GPL-2.0-or-later */
/* refflows.c - the reference model's flow table (see refflows.h): every
 * rule about which flow is kept, moved, counted or dropped, written on a
 * plain array. Nothing here calls the daemon's flow code. */
#include <string.h>

#include "refflows.h"

static size_t
alen_of(int family)
{
	return family == 4 ? 4 : 16;
}

bool
ref_closing(const struct ref_flow *f)
{
	return f->fin_client && f->fin_server;
}

enum ref_list
ref_list_of(const struct ref_flow *f)
{
	if (ref_closing(f))
		return REF_CLOSING;
	return f->answered ? REF_OPEN : REF_HALF_OPEN;
}

static bool
is_tuple(const struct ref_flow *f, int family, const uint8_t *c, uint16_t cport,
	 const uint8_t *s, uint16_t sport)
{
	size_t n = alen_of(family);

	return f->family == family && f->cport == cport && f->sport == sport &&
	       !memcmp(f->client, c, n) && !memcmp(f->server, s, n);
}

int
ref_flows_index(const struct ref_model *m, int family, const uint8_t *src, uint16_t sport,
		const uint8_t *dst, uint16_t dport, bool *from_client)
{
	for (unsigned i = 0; i < m->nflows; i++) {
		if (is_tuple(&m->flow[i], family, src, sport, dst, dport)) {
			*from_client = true;
			return (int)i;
		}
		if (is_tuple(&m->flow[i], family, dst, dport, src, sport)) {
			*from_client = false;
			return (int)i;
		}
	}
	return -1;
}

const struct ref_flow *
ref_flow_find(const struct ref_model *m, int family, const uint8_t *client, uint16_t cport,
	      const uint8_t *server, uint16_t sport)
{
	for (unsigned i = 0; i < m->nflows; i++)
		if (is_tuple(&m->flow[i], family, client, cport, server, sport))
			return &m->flow[i];
	return NULL;
}

struct ref_flow *
ref_flows_new(struct ref_model *m, int family, const uint8_t *client, uint16_t cport,
	      const uint8_t *server, uint16_t sport)
{
	struct ref_flow *f = &m->flow[m->nflows++];

	memset(f, 0, sizeof(*f));
	f->family = (uint8_t)family;
	memcpy(f->client, client, alen_of(family));
	memcpy(f->server, server, alen_of(family));
	f->cport = cport;
	f->sport = sport;
	f->last = (uint16_t)m->now;
	f->stamp = ++m->stamps;
	return f;
}

void
ref_flows_drop(struct ref_model *m, struct ref_flow *f)
{
	*f = m->flow[--m->nflows];
}

void
ref_flows_touch(struct ref_model *m, struct ref_flow *f)
{
	if (f->last == (uint16_t)m->now)
		return;
	f->last = (uint16_t)m->now;
	f->stamp = ++m->stamps;
}

/* f's state changed: on another list, it is the most recent there. */
static void
moved(struct ref_model *m, struct ref_flow *f, enum ref_list was)
{
	if (ref_list_of(f) != was)
		f->stamp = ++m->stamps;
}

void
ref_flows_answer(struct ref_model *m, struct ref_flow *f)
{
	enum ref_list was = ref_list_of(f);

	f->answered = true;
	moved(m, f, was);
	m->paths.answered++;
}

void
ref_flows_fin(struct ref_model *m, struct ref_flow *f, bool from_client)
{
	enum ref_list was = ref_list_of(f);

	if (from_client)
		f->fin_client = true;
	else
		f->fin_server = true;
	moved(m, f, was);
	m->paths.fins += was != REF_CLOSING && ref_closing(f);
	f->last = (uint16_t)m->now;
}

/* The least recent flow of list l, or NULL. */
static struct ref_flow *
oldest(struct ref_model *m, enum ref_list l)
{
	struct ref_flow *best = NULL;

	for (unsigned i = 0; i < m->nflows; i++)
		if (ref_list_of(&m->flow[i]) == l && (!best || m->flow[i].stamp < best->stamp))
			best = &m->flow[i];
	return best;
}

bool
ref_flows_evict(struct ref_model *m)
{
	static const enum ref_list order[] = { REF_HALF_OPEN, REF_CLOSING, REF_OPEN };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct ref_flow *f = oldest(m, order[i]);

		if (!f)
			continue;
		m->paths.evicted[order[i]]++;
		m->paths.evicted_before_open += order[i] == REF_HALF_OPEN &&
						oldest(m, REF_OPEN) != NULL;
		ref_flows_drop(m, f);
		return true;
	}
	return false;
}

unsigned
ref_expire(struct ref_model *m, const struct flow_timeouts *to, unsigned limit)
{
	const struct { enum ref_list l; uint32_t timeout; } lists[] = {
		{ REF_HALF_OPEN, to->half_open }, { REF_CLOSING, to->closing },
		{ REF_OPEN, to->idle },
	};
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct ref_flow *f;

		while (n < limit && (f = oldest(m, lists[i].l)) &&
		       (uint16_t)(m->now - f->last) >= lists[i].timeout) {
			ref_flows_drop(m, f);
			m->paths.expired++;
			m->paths.expired_half_open += lists[i].l == REF_HALF_OPEN;
			n++;
		}
	}
	return n;
}

unsigned
ref_flows_count(const struct ref_model *m, int family, const uint8_t *addr,
		bool with_closing)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->nflows; i++) {
		const struct ref_flow *f = &m->flow[i];

		n += f->family == family && !memcmp(f->client, addr, alen_of(family)) &&
		     (with_closing || !ref_closing(f));
	}
	return n;
}

unsigned
ref_client_flows(const struct ref_model *m, int family, const uint8_t *addr)
{
	return ref_flows_count(m, family, addr, false);
}
