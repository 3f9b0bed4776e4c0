/* reload.c - swap the running configuration safely (see reload.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reload.h"

/* At most 64 workers: the limit of queue.count. */
#define RELOAD_MAX_WORKERS 64

void
reload_bind_domains(struct conf *c, struct domains *d)
{
	for (size_t i = 0; i < c->npol; i++) {
		struct policy *p = &c->pol[i];

		if (!p->ts_auto && p->ntsrc)
			p->domain = domains_intern(d, p->tsrc[0].family, p->tsrc[0].addr);
	}
}

struct conf *
reload_load(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *errs = open_memstream(&text, &len);
	struct conf *c;

	if (!errs)
		fatal("open_memstream");
	c = conf_load(path, errs);
	fclose(errs);
	if (!c) {
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
			log_warnx("%s", line);
	}
	free(text);
	return c;
}

void
reload_retire(const struct reload_workers *w, struct conf *old)
{
	unsigned n = w->count(w->ctx), seen[RELOAD_MAX_WORKERS];

	if (n > RELOAD_MAX_WORKERS)
		fatalx("reload: %u workers, at most %d", n, RELOAD_MAX_WORKERS);
	for (unsigned i = 0; i < n; i++)
		seen[i] = w->epoch(w->ctx, i);
	for (unsigned i = 0; i < n; i++)
		while (w->epoch(w->ctx, i) == seen[i])
			w->pause(w->ctx);
	conf_free(old);
}

bool
reload_apply(_Atomic(struct conf *) *current, const char *path, struct domains *d,
	     const struct reload_workers *w)
{
	struct conf *old = atomic_load(current), *c;

	log_info("reloading %s", path);
	if (!(c = reload_load(path))) {
		log_warnx("reload failed: keeping the running configuration");
		return false;
	}
	if (c->queue_first != old->queue_first || c->queue_count != old->queue_count ||
	    c->queue_maxlen != old->queue_maxlen) {
		log_warnx("queue settings changed: they apply after a restart; "
			  "keeping queues %u..%u", old->queue_first,
			  old->queue_first + old->queue_count - 1);
		c->queue_first = old->queue_first;
		c->queue_count = old->queue_count;
		c->queue_maxlen = old->queue_maxlen;
	}
	log_set_level(c->log_level);
	reload_bind_domains(c, d);
	atomic_store_explicit(current, c, memory_order_release);
	reload_retire(w, old);
	return true;
}
