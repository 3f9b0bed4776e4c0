/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ruleswatch.c - the rules watched from a thread of their own (see
 * ruleswatch.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "rules.h"
#include "ruleswatch.h"
#include "rulestool_int.h"
#include "warn.h"

/* What the thread checks for: copied from the conf, which a reload frees. */
struct watched {
	enum conf_rules rules;
	unsigned families;
	unsigned qfirst, qcount;
};

struct ruleswatch {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop, again;		/* lock */
	struct watched want;		/* lock */
	struct rulescheck last;		/* lock */
	uint64_t checks, drifted;	/* lock: checks done, and how many drifted */
	/* main thread only */
	enum rulescheck_state said;
	char said_line[512];
	struct warn_slot reminder;
};

static uint64_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* One tool's listing judged into r; its error output is not ours to log
 * every few seconds: it goes into the verdict's detail. */
static void
check_kind(const struct tools *t, enum rules_kind kind, const struct watched *w,
	   struct rulescheck *r)
{
	const char *tool = t->path[kind == RULES_NFT ? TOOL_NFT : kind == RULES_IPTABLES ?
				   TOOL_IPT : TOOL_IP6T];
	const char *ipt[] = { tool, "-t", "mangle", "-S", NULL };
	const char *tables[] = { tool, "list", "tables", NULL };
	const char *nft[] = { tool, "list", "table", "inet", RULES_NFT_TABLE, NULL };
	char *listing = NULL, *errors = NULL, *sink = NULL, why[160];
	size_t sinklen = 0;
	FILE *err = open_memstream(&sink, &sinklen);
	struct rulescheck_seen s;
	int rc;

	if (!err)
		return;
	if (!*tool) {
		rulescheck_unknown(kind, "not in PATH", r);
		goto out;
	}
	rc = tool_run(kind == RULES_NFT ? tables : ipt, NULL, 0, &listing, &errors, err);
	if (rc == 0 && kind == RULES_NFT && strstr(listing, "table inet " RULES_NFT_TABLE "\n")) {
		free(listing);
		free(errors);
		listing = errors = NULL;
		rc = tool_run(nft, NULL, 0, &listing, &errors, err);
	} else if (rc == 0 && kind == RULES_NFT) {
		listing[0] = '\0';	/* no table: missing */
	}
	if (rc != 0) {
		snprintf(why, sizeof(why), "listing failed (exit %d): %.100s", rc,
			 errors && *errors ? errors : "no message");
		why[strcspn(why, "\n")] = '\0';
		rulescheck_unknown(kind, why, r);
		goto out;
	}
	if (kind == RULES_NFT)
		rulescheck_read_nft(listing, &s);
	else
		rulescheck_read_ipt(listing, &s);
	rulescheck_judge(kind, &s, w->qfirst, w->qcount, r);
out:
	free(listing);
	free(errors);
	fclose(err);
	free(sink);
}

/* One check of what w wants. */
static void
check(const struct watched *w, struct rulescheck *r)
{
	struct rules_choice ch;
	struct tools t;

	*r = (struct rulescheck){ .at_s = mono_s() };
	if (w->rules == CONF_RULES_NONE) {
		r->state = RULESCHECK_NOT_CHECKED;
		return;
	}
	if (!w->families) {
		r->state = RULESCHECK_UNNEEDED;
		return;
	}
	tools_find(NULL, &t);
	ch = rules_choose(w->rules, t.have, w->families);
	if (ch.backend == RULES_BACKEND_NFT) {
		check_kind(&t, RULES_NFT, w, r);
		return;
	}
	if (ch.backend == RULES_BACKEND_NONE) {
		/* the tool the file names is missing: say which */
		if (w->rules == CONF_RULES_NFT)
			rulescheck_unknown(RULES_NFT, ch.error, r);
		else
			rulescheck_unknown(RULES_IPTABLES, ch.error, r);
		return;
	}
	if (w->families & RULES_IPV4)
		check_kind(&t, RULES_IPTABLES, w, r);
	if (w->families & RULES_IPV6)
		check_kind(&t, RULES_IP6TABLES, w, r);
}

static void *
watch(void *arg)
{
	struct ruleswatch *w = arg;
	struct rulescheck r;
	struct watched want;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct timespec until;

		want = w->want;
		w->again = false;
		pthread_mutex_unlock(&w->lock);
		check(&want, &r);
		pthread_mutex_lock(&w->lock);
		w->last = r;
		w->checks++;
		w->drifted += rulescheck_drifts(r.state);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += RULESWATCH_INTERVAL_S;
		while (!w->stop && !w->again &&
		       pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static struct watched
watched_of(const struct conf *c)
{
	return (struct watched){ .rules = c->rules, .families = rules_families(c),
				 .qfirst = c->queue_first, .qcount = c->queue_count };
}

struct ruleswatch *
ruleswatch_start(const struct conf *c)
{
	struct ruleswatch *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;

	if (!w)
		fatal("calloc");
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	w->want = watched_of(c);
	w->said = RULESCHECK_UNCHECKED;
	if (pthread_create(&w->thread, NULL, watch, w) != 0) {
		log_warnx("cannot start the thread that watches the firewall rules: "
			  "tsnatctl status will not say whether they are there");
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

void
ruleswatch_conf(struct ruleswatch *w, const struct conf *c)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->want = watched_of(c);
	w->again = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void
ruleswatch_get(struct ruleswatch *w, struct rulescheck *out)
{
	if (!w) {
		*out = (struct rulescheck){ .state = RULESCHECK_UNCHECKED };
		return;
	}
	pthread_mutex_lock(&w->lock);
	*out = w->last;
	pthread_mutex_unlock(&w->lock);
}

static void
warn_line(void *ctx, const char *line)
{
	(void)ctx;
	log_warnx("%s", line);
}

void
ruleswatch_tick(struct ruleswatch *w, uint64_t now)
{
	struct rulescheck r;
	struct watched want;
	uint64_t drifted;
	char line[512];

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	r = w->last;
	want = w->want;
	drifted = w->drifted;
	pthread_mutex_unlock(&w->lock);
	if (r.state == RULESCHECK_UNCHECKED)
		return;
	rulescheck_format(&r, want.qfirst, want.qcount, line, sizeof(line));
	/* each change once; the reminders below count drifting checks */
	if (r.state != w->said || (rulescheck_drifts(r.state) && strcmp(line, w->said_line))) {
		if (rulescheck_drifts(r.state))
			log_warnx("firewall rules: %s", line);
		else
			log_info("firewall rules: %s", line);
		w->said = r.state;
		snprintf(w->said_line, sizeof(w->said_line), "%s", line);
		/* that line said it: the reminder counts from here */
		w->reminder.last = drifted;
		w->reminder.held = 0;
		w->reminder.said = true;
		w->reminder.said_at = now;
		return;
	}
	if (rulescheck_drifts(r.state))
		warn_counter(&w->reminder, drifted, now, "rules_drift",
			     "the firewall rules still do not queue to the daemon's queues "
			     "(tsnatctl status says how); run tsnatd --apply-rules or "
			     "systemctl reload tsnatd", warn_line, NULL);
	else
		w->reminder.last = drifted;
}

void
ruleswatch_stop(struct ruleswatch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
