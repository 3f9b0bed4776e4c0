/* SPDX-License-Identifier: GPL-2.0-or-later */
/* discovery.c - the table of observed servers and the legacy server's
 * model per (translated source, server). See discovery.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "discovery.h"

#define PAWS_WINDOW 1		/* a legacy server drops when recorded - TSval > 1 */

struct entry {
	struct discovery_server s;
	bool used, has_record;
	uint32_t record_ts, record_stamp;
};

struct discovery {
	pthread_mutex_t lock;
	size_t max;
	struct entry *e;
};

struct discovery *
discovery_new(size_t max)
{
	struct discovery *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->max = max ? max : 1;
	d->e = calloc(d->max, sizeof(*d->e));
	if (!d->e) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

void
discovery_free(struct discovery *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d->e);
	free(d);
}

static bool
same(const struct entry *e, uint16_t dom, int family, const uint8_t *server)
{
	return e->used && e->s.domain == dom && e->s.family == family &&
	       !memcmp(e->s.server, server, family == 4 ? 4 : 16);
}

/* The entry of (dom, server); created (making room by the least recently
 * seen) when create. Linear: the table is small and observe queues only
 * SYNs, FINs and RSTs. Under the lock. */
static struct entry *
find(struct discovery *d, uint16_t dom, int family, const uint8_t *server, bool create,
     uint32_t now)
{
	struct entry *free_e = NULL, *oldest = NULL;

	for (size_t i = 0; i < d->max; i++) {
		struct entry *e = &d->e[i];

		if (same(e, dom, family, server))
			return e;
		if (!e->used && !free_e)
			free_e = e;
		else if (e->used && (!oldest || (int32_t)(e->s.last_seen - oldest->s.last_seen) < 0))
			oldest = e;
	}
	if (!create)
		return NULL;
	if (!free_e)
		free_e = oldest ? oldest : &d->e[0];	/* max >= 1: never the latter */
	memset(free_e, 0, sizeof(*free_e));
	free_e->used = true;
	free_e->s.family = (uint8_t)family;
	free_e->s.domain = dom;
	memcpy(free_e->s.server, server, family == 4 ? 4 : 16);
	free_e->s.last_seen = now;
	return free_e;
}

static bool
record_fresh(const struct entry *e, uint32_t now)
{
	return e->has_record && now - e->record_stamp < DISCOVERY_RECORD_S;
}

/* out of line: it takes the table's lock; inlined, it would only crowd
 * the per-packet path */
__attribute__((noinline)) unsigned
discovery_syn(struct discovery *d, uint16_t dom, int family, const uint8_t *server,
	      bool has_ts, uint32_t tsval, uint32_t now)
{
	struct entry *e;
	unsigned drop = 0;

	pthread_mutex_lock(&d->lock);
	e = find(d, dom, family, server, true, now);
	e->s.syns++;
	e->s.last_seen = now;
	if (record_fresh(e, now)) {
		bool behind = has_ts && (int32_t)(e->record_ts - tsval) > PAWS_WINDOW;

		if (behind)
			drop |= DISCOVERY_DROP_310;
		if (behind || !has_ts)
			drop |= DISCOVERY_DROP_4X;
	}
	e->s.predicted_310 += !!(drop & DISCOVERY_DROP_310);
	e->s.predicted_4x += !!(drop & DISCOVERY_DROP_4X);
	pthread_mutex_unlock(&d->lock);
	return drop;
}

/* out of line: it takes the table's lock; inlined, it would only crowd
 * the per-packet path */
__attribute__((noinline)) void
discovery_record(struct discovery *d, uint16_t dom, int family, const uint8_t *server,
		 uint32_t tsval, uint32_t now)
{
	struct entry *e;

	pthread_mutex_lock(&d->lock);
	e = find(d, dom, family, server, true, now);
	/* tcp_tw_remember_stamp(): the higher value, or a fresh one once the
	 * old record is past its window */
	if (!e->has_record || (int32_t)(e->record_ts - tsval) <= 0 || !record_fresh(e, now)) {
		e->record_ts = tsval;
		e->record_stamp = now;
		e->has_record = true;
	}
	e->s.last_seen = now;
	pthread_mutex_unlock(&d->lock);
}

static enum discovery_verdict
judge(const struct discovery_server *s)
{
	if (s->confirmed >= DISCOVERY_LEGACY_CONFIRMED && s->confirmed > s->contrary)
		return DISCOVERY_LEGACY;
	if (s->contrary >= DISCOVERY_NOT_LEGACY_CONTRARY && s->confirmed == 0)
		return DISCOVERY_NOT_LEGACY;
	return DISCOVERY_UNKNOWN;
}

/* out of line: it takes the table's lock; inlined, it would only crowd
 * the per-packet path */
__attribute__((noinline)) enum discovery_verdict
discovery_evidence(struct discovery *d, uint16_t dom, int family, const uint8_t *server,
		   bool confirmed, uint32_t now, bool *changed)
{
	enum discovery_verdict v;
	struct entry *e;

	pthread_mutex_lock(&d->lock);
	e = find(d, dom, family, server, true, now);
	if (confirmed)
		e->s.confirmed++;
	else
		e->s.contrary++;
	v = judge(&e->s);
	*changed = v != e->s.verdict;
	e->s.verdict = v;
	e->s.last_seen = now;
	pthread_mutex_unlock(&d->lock);
	return v;
}

/* out of line: it takes the table's lock; inlined, it would only crowd
 * the per-packet path */
__attribute__((noinline)) enum discovery_verdict
discovery_verdict(struct discovery *d, uint16_t dom, int family, const uint8_t *server)
{
	enum discovery_verdict v = DISCOVERY_UNKNOWN;
	struct entry *e;

	pthread_mutex_lock(&d->lock);
	if ((e = find(d, dom, family, server, false, 0)))
		v = e->s.verdict;
	pthread_mutex_unlock(&d->lock);
	return v;
}

static int
by_evidence(const void *a, const void *b)
{
	const struct discovery_server *x = a, *y = b;

	if (x->confirmed != y->confirmed)
		return x->confirmed > y->confirmed ? -1 : 1;
	if (x->syns != y->syns)
		return x->syns > y->syns ? -1 : 1;
	return 0;
}

size_t
discovery_snapshot(struct discovery *d, struct discovery_server *out, size_t max)
{
	struct discovery_server *all;
	size_t n = 0;

	pthread_mutex_lock(&d->lock);
	all = malloc(d->max * sizeof(*all));
	for (size_t i = 0; all && i < d->max; i++)
		if (d->e[i].used)
			all[n++] = d->e[i].s;
	pthread_mutex_unlock(&d->lock);
	if (!all)
		return 0;
	qsort(all, n, sizeof(*all), by_evidence);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(*all));
	free(all);
	return n;
}

size_t
discovery_count(struct discovery *d)
{
	size_t n = 0;

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->max; i++)
		n += d->e[i].used;
	pthread_mutex_unlock(&d->lock);
	return n;
}

const char *
discovery_verdict_name(enum discovery_verdict v)
{
	switch (v) {
	case DISCOVERY_LEGACY:
		return "legacy";
	case DISCOVERY_NOT_LEGACY:
		return "not-legacy";
	case DISCOVERY_UNKNOWN:
		break;
	}
	return "unknown";
}

void
discovery_foreach(struct discovery *d, uint32_t now,
		  void (*fn)(const struct discovery_entry_state *e, void *arg), void *arg)
{
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->max; i++) {
		const struct entry *e = &d->e[i];
		struct discovery_entry_state st;

		if (!e->used)
			continue;
		st = (struct discovery_entry_state){ .s = e->s, .has_record = e->has_record,
			.record_ts = e->record_ts, .record_age = now - e->record_stamp };
		fn(&st, arg);
	}
	pthread_mutex_unlock(&d->lock);
}

void
discovery_restore(struct discovery *d, const struct discovery_entry_state *st, uint32_t now)
{
	struct entry *e;

	pthread_mutex_lock(&d->lock);
	e = find(d, st->s.domain, st->s.family, st->s.server, true, now);
	e->s = st->s;
	e->s.last_seen = now;
	e->s.verdict = judge(&e->s);
	e->has_record = st->has_record;
	e->record_ts = st->record_ts;
	e->record_stamp = now - st->record_age;
	pthread_mutex_unlock(&d->lock);
}

bool
discovery_adopt_legacy(struct discovery *d, uint16_t dom, int family, const uint8_t *server,
		       uint32_t now)
{
	struct entry *e;
	bool was;

	pthread_mutex_lock(&d->lock);
	e = find(d, dom, family, server, true, now);
	was = e->s.verdict == DISCOVERY_LEGACY;
	if (e->s.confirmed < DISCOVERY_LEGACY_CONFIRMED + e->s.contrary)
		e->s.confirmed = DISCOVERY_LEGACY_CONFIRMED + e->s.contrary;
	e->s.verdict = judge(&e->s);
	pthread_mutex_unlock(&d->lock);
	return !was && e->s.verdict == DISCOVERY_LEGACY;
}
