/* SPDX-License-Identifier: GPL-2.0-or-later */
/* flowsnap.c - a worker's flows copied between batches (the argument for
 * why it is race-free is in flowsnap.h). */
#include <stdlib.h>

#include "flowsnap.h"
#include "log.h"

bool
flowsnap_post(struct flowsnap *s)
{
	uint32_t req = atomic_load_explicit(&s->req, memory_order_relaxed);

	if (atomic_load_explicit(&s->done, memory_order_acquire) != req)
		return false;
	if (!s->buf) {
		s->buf = calloc(FLOWSNAP_MAX, sizeof(*s->buf));
		if (!s->buf)
			fatal("calloc flow snapshot");
	}
	atomic_store_explicit(&s->req, req + 1, memory_order_release);
	return true;
}

bool
flowsnap_ready(const struct flowsnap *s)
{
	return atomic_load_explicit(&s->done, memory_order_acquire) ==
	       atomic_load_explicit(&s->req, memory_order_relaxed);
}


static void
flowsnap_one(const struct flow *f, void *arg)
{
	struct flowsnap *s = arg;

	if (s->n < FLOWSNAP_MAX)
		s->buf[s->n++] = *f;
}

/* flow_foreach walks every flow even past FLOWSNAP_MAX: one pass over
 * the lists, a few milliseconds for a full table of a quarter million,
 * paid only when an operator asks (the socket limits how often). */
void
flowsnap_serve(struct flowsnap *s, const struct flow_table *t, uint32_t now, uint32_t mono_ms)
{
	uint32_t req = atomic_load_explicit(&s->req, memory_order_acquire);

	if (req == atomic_load_explicit(&s->done, memory_order_relaxed))
		return;
	s->n = 0;
	s->total = t ? flow_count(t) : 0;
	s->now = now;
	s->mono_ms = mono_ms;
	if (t)
		flow_foreach(t, flowsnap_one, s);
	atomic_store_explicit(&s->done, req, memory_order_release);
}

void
flowsnap_free(struct flowsnap *s)
{
	free(s->buf);
	s->buf = NULL;
}
