/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reload.c - swap the running configuration safely (see reload.h). */
#include <stdatomic.h>
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
reload_load(const char *path, struct textbuf *errs_out)
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
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
			log_warnx("%s", line);
			if (errs_out)
				textbuf_printf(errs_out, "%s\n", line);
		}
	}
	free(text);
	return c;
}

/* The handover. The new conf was stored (release) before this call; each
 * worker, per turn, loads the conf pointer (seq_cst), uses what it loaded,
 * then increments its epoch (seq_cst, so also release).
 *
 * Why the seq_cst fence below: without it this is the store-buffering
 * pattern (main: store pointer, load epoch; worker: store epoch, load
 * pointer), in which release/acquire allow both loads to return stale
 * values, and x86 really does so (a store waits in the store buffer while
 * later loads go ahead): the snapshot could miss the increment that ended
 * a turn while that worker's next load still returned the old pointer;
 * waiting for one more increment would then free a conf the worker is
 * using. With the fence here and the workers' seq_cst operations, there is
 * one order S of the fence and those operations, and for each turn that
 * loaded the old pointer the load comes before the fence in S (after it,
 * the load would see the new pointer); so does the increment before that
 * load, which the snapshot therefore sees (C11 7.17.3, on seq_cst
 * fences). Hence each such turn is either over at the snapshot or ends
 * with the first increment after it, which the loop below waits for; that
 * increment (release) read by engine_epoch (acquire) orders the turn's
 * reads before conf_free(). On x86 the workers' side costs nothing extra
 * (lock xadd, plain load). */
void
reload_retire(const struct reload_workers *w, struct conf *old)
{
	unsigned n = w->count(w->ctx), seen[RELOAD_MAX_WORKERS];

	if (n > RELOAD_MAX_WORKERS)
		fatalx("reload: %u workers, at most %d", n, RELOAD_MAX_WORKERS);
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned i = 0; i < n; i++)
		seen[i] = w->epoch(w->ctx, i);
	for (unsigned i = 0; i < n; i++)
		while (w->epoch(w->ctx, i) == seen[i])
			w->pause(w->ctx);
	if (w->drain)
		w->drain(w->ctx);
	conf_free(old);
}

bool
reload_queues_differ(const struct conf *a, const struct conf *b)
{
	return a->queue_first != b->queue_first || a->queue_count != b->queue_count;
}

/* Queue changes refuse the reload whole rather than apply live. Live, the
 * rules and the workers cannot change in one step: between --apply-rules
 * and the workers' start (or stop) the kernel would hash flows to queues
 * nobody listens on, which --queue-bypass lets through unfixed, or the
 * reverse; and every flow that rewrite holds would hash to another
 * worker's table, which never saw its SYN, and lose its offset (its
 * server drops it: PAWSEstab). A restart is the one step that moves both
 * (the unit removes the rules, starts the daemon on the new queues, and
 * the state file carries the rewritten flows over). maxlen names no queue
 * in the rules: a change keeps the running value, warned. */
bool
reload_apply(_Atomic(struct conf *) *current, const char *path, struct domains *d,
	     const struct reload_workers *w, struct textbuf *errs)
{
	struct conf *old = atomic_load(current), *c;
	char why[192];

	log_info("reloading %s", path);
	if (!(c = reload_load(path, errs))) {
		log_warnx("reload failed: keeping the running configuration");
		return false;
	}
	if (reload_queues_differ(c, old)) {
		snprintf(why, sizeof(why), "%s: queue settings changed (queues %u..%u in the "
			 "file, %u..%u running): restart required; nothing was changed", path,
			 c->queue_first, c->queue_first + c->queue_count - 1,
			 old->queue_first, old->queue_first + old->queue_count - 1);
		log_warnx("reload refused: %s", why);
		if (errs)
			textbuf_printf(errs, "%s\n", why);
		conf_free(c);
		return false;
	}
	if (c->queue_maxlen != old->queue_maxlen) {
		log_warnx("queue.maxlen changed: it applies after a restart; keeping %u",
			  old->queue_maxlen);
		c->queue_maxlen = old->queue_maxlen;
	}
	log_set_level(c->log_level);
	reload_bind_domains(c, d);
	/* release: c is complete before a worker can load it; the rest of
	 * the handover is reload_retire's */
	atomic_store_explicit(current, c, memory_order_release);
	reload_retire(w, old);
	return true;
}
