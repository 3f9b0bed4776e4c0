/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reload.h - replace the running configuration (SIGHUP) while the workers
 * run: load and validate a new one, refuse one that only a restart can
 * apply (other queues), publish it with one atomic store, and free the old one only once no
 * worker can still be reading it. A file with errors changes nothing. */
#ifndef TSNATD_RELOAD_H
#define TSNATD_RELOAD_H

#include <stdatomic.h>
#include <stdbool.h>

#include "conf.h"
#include "domain.h"
#include "textbuf.h"

/* The workers as the reload sees them: their number and each one's batch
 * counter (engine_epoch: it moves at least every 250 ms while the worker
 * runs, and a worker reads the conf pointer once per batch, after the
 * previous move, both seq_cst). pause() is called between two looks at a
 * counter that has not moved yet. drain(), if not NULL, is called once
 * every worker has moved on and before the old conf is freed: it consumes
 * what the workers left that may point into the old conf (their notes
 * name policies by pointer). */
struct reload_workers {
	unsigned (*count)(const void *ctx);
	unsigned (*epoch)(const void *ctx, unsigned i);
	void (*pause)(const void *ctx);
	const void *ctx;
	void (*drain)(const void *ctx);
};

/* Before c is published: each policy's explicit translated source (one
 * address, or an SNAT pool named by its first address) becomes its clock
 * domain in d. */
void reload_bind_domains(struct conf *c, struct domains *d);

/* Load path; on errors log every line ("file:line: message") as a warning,
 * append them to errs too (if not NULL; for tsnatctl reload's answer) and
 * return NULL. */
struct conf *reload_load(const char *path, struct textbuf *errs);

/* Wait until every worker has passed an epoch begun after the new conf was
 * published, drain, then free old. */
void reload_retire(const struct reload_workers *w, struct conf *old);

/* Do a and b name different queues (first or count)? The rules name
 * them, so only a restart may change them. */
bool reload_queues_differ(const struct conf *a, const struct conf *b);

/* The whole reload. Returns false, with *current untouched and nothing of
 * the running conf freed, if path has errors or names other queues than
 * the running ones ("restart required": see reload.c for why not live);
 * each error, or that one, is appended to errs as a line (if not NULL).
 * Else a changed queue.maxlen is replaced by the running one (with a
 * warning), the log level is applied, domains bound, the new conf
 * published in *current and the old one retired; returns true. */
bool reload_apply(_Atomic(struct conf *) *current, const char *path,
		  struct domains *d, const struct reload_workers *w, struct textbuf *errs);

#endif
