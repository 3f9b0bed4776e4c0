/* state.h - what rewritten flows depend on, kept across a restart: the
 * flow tables of every queue and the domains' high-water marks, written to
 * a state directory on shutdown and read (then removed) on start. Files are
 * versioned; an incompatible or unreadable file is ignored with a warning. */
#ifndef TSNATD_STATE_H
#define TSNATD_STATE_H

#include "domain.h"
#include "engine.h"

/* Main thread, workers stopped. Returns the number of flows saved, or -1. */
long state_save(const char *dir, const struct engine *e, const struct domains *d);

/* Main thread, workers not started. Returns the number of flows restored. */
long state_restore(const char *dir, const struct engine *e, struct domains *d,
		   uint32_t max_age_s);

#endif
