/* conf.h - the configuration file (libconfig) parsed into a struct conf.
 * A conf is immutable once loaded: a reload loads a new one and swaps. */
#ifndef TSNATD_CONF_H
#define TSNATD_CONF_H

#include <stdbool.h>
#include <stdio.h>

#include "policy.h"

#define CONF_DEFAULT_PATH "/etc/tsnatd/tsnatd.conf"

enum flows_on_full {
	ON_FULL_STRIP,		/* new flow gets strip: no timestamps at all */
	ON_FULL_PASS,		/* new flow passes untouched: may be dropped */
	ON_FULL_EVICT_IDLE,	/* evict the longest-idle flow: its rewrite stops */
};

struct conf {
	bool enabled;
	int log_level;			/* LOG_ERR .. LOG_DEBUG */
	unsigned queue_first;
	unsigned queue_count;
	unsigned queue_maxlen;
	unsigned flows_max;
	unsigned flows_idle_timeout;	/* seconds */
	enum flows_on_full flows_on_full;
	char state_dir[256];		/* flow state across restarts */
	struct policy *pol;
	size_t npol;
	struct policy_dst4 *dst4;	/* pol's IPv4 destinations, flattened */
	size_t ndst4;
	unsigned modes;			/* 1 << MODE_x of every policy */
};

/* Load and validate path. On any error every problem found is written to
 * errs as "file:line: message" and NULL is returned. */
struct conf *conf_load(const char *path, FILE *errs);

void conf_free(struct conf *c);

/* Modes used by any policy (bit 1 << MODE_x). */
unsigned conf_modes(const struct conf *c);

#endif
