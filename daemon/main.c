/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c - command line, startup order, signals -> the control loop.
 *
 * Startup: parse and validate the config, bind every queue (so that "queue
 * busy" is an immediate exit 1), start the workers, then tell systemd READY.
 * Signals are blocked in every thread and read from a signalfd here: the
 * handlers do nothing, all work happens in this loop. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/random.h>

#include "conf.h"
#include "ctlsrv.h"
#include "discofile.h"
#include "discovery.h"
#include "domain.h"
#include "engine.h"
#include "log.h"
#include "reload.h"
#include "rtnl.h"
#include "rules.h"
#include "ruleswatch.h"
#include "marks.h"
#include "notes.h"
#include "offline.h"
#include "offload.h"
#include "state.h"
#include "takeover.h"
#include "warn.h"

#ifndef TSNATD_VERSION
#define TSNATD_VERSION "0.1.0"
#endif

static _Atomic(struct conf *) current;
static struct domains *domains;
static struct notes_log *notes;		/* what the workers noted, logged */
/* The discovery table lives as long as the daemon: the workers fill it,
 * the control socket reads it. */
static struct discovery *discovery;
static struct offload *offload;		/* rewrite's kernel data path, or NULL */
static struct offload *offload_retired;	/* the one a reload replaced */
static struct ruleswatch *ruleswatch;	/* the rules that feed the queues */

/* What the workers noted, logged (rate-limited: notes.c). */
static void ha_new_address(void *arg, int family, const uint8_t *addr);

static void
log_notes(const struct engine *e)
{
	struct timespec mono;
	struct proc_note n;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	for (unsigned i = 0; i < engine_nworkers(e); i++)
		while (engine_note(e, i, &n))
			notes_log(notes, &n, domains, (uint32_t)mono.tv_sec);
}

/* Monotonic seconds, as the workers count them. */
static uint32_t
mono_s(void)
{
	struct timespec mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (uint32_t)mono.tv_sec;
}

/* Wall clock milliseconds since the epoch. */
static uint64_t
wall_ms(void)
{
	struct timespec real;

	clock_gettime(CLOCK_REALTIME, &real);
	return (uint64_t)real.tv_sec * 1000 + (uint64_t)real.tv_nsec / 1000000;
}

/* Only rewrite stamps timestamps: a strip-only daemon writes no marks. */
static void
checkpoint(const struct conf *c, const struct engine *e, time_t *last)
{
	time_t now = time(NULL);

	if (!(conf_modes(c) & (1u << MODE_REWRITE)) && !engine_flow_count(e))
		return;
	if (*last && now - *last < MARKS_INTERVAL_S && now >= *last)
		return;
	if (marks_save(c->state_dir, domains, wall_ms()) < 0)
		log_warn("writing the marks checkpoint to %s", c->state_dir);
	*last = now;
}

static void
warn_line(void *ctx, const char *line)
{
	(void)ctx;
	log_warnx("%s", line);
}

/* The counters that mean trouble, warned the moment they move (rate
 * limited by warn.c), not only on SIGUSR1. */
static void
log_live_warnings(const struct engine *e, struct warn_state *ws)
{
	struct stats total = { 0 }, s;
	struct timespec now;

	for (unsigned i = 0; i < engine_nworkers(e); i++) {
		engine_stats(e, i, &s);
		stats_add(&total, &s);
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	warn_check(ws, &total, (uint64_t)now.tv_sec, warn_line, NULL);
}

static void
log_policies(const struct conf *c)
{
	log_info("%s; %zu polic%s; queues %u..%u", c->enabled ? "enabled" : "disabled (all new flows pass)",
		 c->npol, c->npol == 1 ? "y" : "ies", c->queue_first,
		 c->queue_first + c->queue_count - 1);
	for (size_t i = 0; i < c->npol; i++)
		log_info("policy '%s': mode %s, %zu destination(s), %s",
			 c->pol[i].name, policy_mode_name(c->pol[i].mode), c->pol[i].ndst,
			 c->pol[i].nsrc ? "listed sources" : "any source");
	if (c->enabled && (conf_modes(c) & (1u << MODE_STRIP)))
		log_info("strip: servers on 4.0-4.11 / RHEL7 kernels that saw timestamped "
			 "connections from this gateway in the last 60 s may still drop "
			 "SYNs without timestamps until that minute has passed");
}

static void
log_counters(const struct engine *e)
{
	struct stats total = { 0 }, s;
	char line[1024];

	for (unsigned i = 0; i < engine_nworkers(e); i++) {
		engine_stats(e, i, &s);
		stats_add(&total, &s);
		stats_format(&s, line, sizeof(line));
		log_info("queue %u: %s", engine_queue(e, i), line);
	}
	stats_format(&total, line, sizeof(line));
	log_info("total: %s", line);
}

/* The engine's flow tables as the state module takes them (at most 64
 * queues, the configuration's limit). */
static unsigned
state_queues(const struct engine *e, struct state_queue *q)
{
	unsigned n = engine_nworkers(e);

	for (unsigned i = 0; i < n; i++)
		q[i] = (struct state_queue){ engine_queue(e, i), engine_flows(e, i) };
	return n;
}

/* The engine's workers as the reload waits for them. */
static unsigned
workers_count(const void *e)
{
	return engine_nworkers(e);
}

static unsigned
workers_epoch(const void *e, unsigned i)
{
	return engine_epoch(e, i);
}

/* Whatever the workers noted under the old conf is logged before it goes
 * (notes carry copies of what they name, so this only keeps the order). */
static void
workers_drain(const void *e)
{
	log_notes(e);
}

/* Workers tick every 250 ms: look again every 20 ms. */
static void
workers_pause(const void *e)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	(void)e;
	nanosleep(&ts, NULL);
}

/* The kernel data path follows the new configuration. The one it
 * replaced the workers may read until their next batch: it is closed at
 * the next reload, after reload_apply has waited for every worker to move
 * on, or at stop. */
static void
reload_offload(struct engine *e)
{
	struct offload *r;

	offload_close(offload_retired);
	offload = offload_follow(offload, atomic_load(&current), &r);
	offload_retired = r;
	engine_set_offload(e, offload_path(offload));
}

static bool
reload(struct engine *e, const char *path, struct textbuf *errs)
{
	const struct reload_workers w = { workers_count, workers_epoch, workers_pause, e,
					  workers_drain };

	if (reload_apply(&current, path, domains, &w, errs)) {
		reload_offload(e);
		ruleswatch_conf(ruleswatch, atomic_load(&current));
		log_policies(atomic_load(&current));
		sd_notify(0, "RELOADING=0\nREADY=1\nSTATUS=configuration reloaded");
		return true;
	}
	sd_notify(0, "RELOADING=0\nREADY=1\nSTATUS=reload failed: running configuration kept");
	return false;
}

/* tsnatctl reload: what SIGHUP does; a refused file's errors go into
 * errs (NULL for SIGHUP: the log has them) for the answer. */
struct ctl_reload {
	struct engine *e;
	const char *path;
	const struct ctlsrv *ctl;
};

static bool
ctl_reload(void *ctx, struct textbuf *errs)
{
	const struct ctl_reload *r = ctx;
	bool ok;

	sd_notify(0, "RELOADING=1");
	ok = reload(r->e, r->path, errs);
	if (ok && strcmp(atomic_load(&current)->control_socket, ctlsrv_path(r->ctl)) != 0)
		log_warnx("control_socket changed: the daemon keeps listening on '%s' until "
			  "it is restarted", ctlsrv_path(r->ctl));
	return ok;
}

/* Ping the watchdog only while every worker is still turning. */
static void
watchdog(const struct engine *e, unsigned *last)
{
	for (unsigned i = 0; i < engine_nworkers(e); i++) {
		unsigned ep = engine_epoch(e, i);

		if (ep == last[i])
			return;
		last[i] = ep;
	}
	sd_notify(0, "WATCHDOG=1");
}

/* Signals are read from a descriptor in the loop; blocked before any
 * thread exists so that every thread inherits the mask. */
static int
signals_open(void)
{
	sigset_t set;
	int sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		fatal("sigprocmask");
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		fatal("signalfd");
	return sfd;
}

/* Startup order: bind every queue (a busy queue is an immediate exit 1),
 * restore rewrite state, learn the interface addresses, then start the
 * workers. NULL if the engine cannot run. */
static struct engine *
start(struct conf *c, struct state_queue *sq, unsigned *nq, struct rtnl **rt)
{
	struct engine *e;
	uint32_t seed = 0;
	long nflows;

	domains = domains_new(c->queue_count);
	if (!domains)
		fatal("domains");
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint32_t)time(NULL);
	e = engine_open(c, domains, discovery, seed);
	if (!e)
		return NULL;
	*nq = state_queues(e, sq);
	nflows = state_restore(c->state_dir, sq, *nq, domains, c->flows_idle_timeout);
	if (nflows > 0)
		log_info("restored %ld rewritten flows from %s", nflows, c->state_dir);
	nflows = discofile_restore(c->state_dir, discovery, domains, mono_s());
	if (nflows > 0)
		log_info("restored %ld observed servers from %s", nflows, c->state_dir);
	/* After a crash (no state saved): start above what was stamped. */
	if (marks_restore(c->state_dir, domains, wall_ms()) > 0)
		log_warnx("no clean stop before this start: SYNs start from the timestamp "
			  "marks checkpointed in %s, up to %u ms ahead of the clock",
			  c->state_dir, MARKS_COVER_MS);
	reload_bind_domains(c, domains);
	*rt = rtnl_open(domains);
	if (*rt)
		rtnl_on_new_address(*rt, ha_new_address, NULL);
	offload = offload_start(c);
	engine_set_offload(e, offload_path(offload));
	if (engine_start(e, &current) < 0) {
		engine_stop(e);
		engine_free(e);
		return NULL;
	}
	return e;
}

/* Drain the queues, save what rewritten flows need, free everything. */
static void
stop(struct engine *e, const struct state_queue *sq, unsigned nq, struct rtnl *rt)
{
	struct conf *c;
	long nflows;

	sd_notify(0, "STOPPING=1\nSTATUS=draining queues");
	log_info("stopping: draining queued packets");
	engine_stop(e);
	c = atomic_load(&current);
	/* the state saved holds what the kernel data path sent too */
	offload_fold_marks(offload, domains);
	/* Only rewrite needs state: a strip-only daemon leaves nothing. */
	if ((conf_modes(c) & (1u << MODE_REWRITE)) || engine_flow_count(e)) {
		nflows = state_save(c->state_dir, sq, nq, domains);
		if (nflows >= 0) {
			char path[512];

			log_info("saved %ld rewritten flows to %s", nflows, c->state_dir);
			/* the state file holds the marks exactly */
			snprintf(path, sizeof(path), "%s/%s", c->state_dir, MARKS_FILE);
			unlink(path);
		}
	}
	if (discovery_count(discovery) &&
	    (nflows = discofile_save(c->state_dir, discovery, domains, mono_s())) >= 0)
		log_info("saved %ld observed servers to %s", nflows, c->state_dir);
	log_counters(e);
	engine_free(e);
	/* the kernel data path stays: a restart adopts it (--unload ends it) */
	offload_close(offload);
	offload_close(offload_retired);
	offload = offload_retired = NULL;
	rtnl_close(rt);
	domains_free(domains);
	conf_free(c);
	log_info("stopped");
}

/* One signal: false when the daemon is to stop. */
static bool
on_signal(int sfd, struct ctl_reload *rl)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return true;
	switch (si.ssi_signo) {
	case SIGHUP:
		ctl_reload(rl, NULL);
		break;
	case SIGUSR1:
		log_counters(rl->e);
		break;
	case SIGTERM:
	case SIGINT:
		return false;
	}
	return true;
}

/* The monotonic clock in ms: the start time the control socket reports. */
static uint64_t
mono_ms(void)
{
	struct timespec mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (uint64_t)mono.tv_sec * 1000 + (uint64_t)mono.tv_nsec / 1000000;
}

/* The kernel data path and the rules for tsnatctl status and the metrics. */
static void
offload_status(struct control_offload *out)
{
	offload_report(offload, atomic_load(&current), out);
}

static void
rules_status(struct rulescheck *out)
{
	ruleswatch_get(ruleswatch, out);
}

/* HA pairs: the last takeover, and a new one when asked (tsnatctl
 * takeover, from keepalived's notify script once conntrackd committed the
 * other gateway's entries; or a translated source's address appearing). */
static struct control_ha ha_last;

static void
ha_takeover(const char *why)
{
	const struct conf *c = atomic_load(&current);
	struct takeover t = { .conf = c, .d = domains, .disc = discovery,
			      .now_ms = (uint32_t)wall_ms(), .now_s = (uint32_t)mono_s() };
	int r = takeover_run(&t);

	ha_last = (struct control_ha){ .takeovers = ha_last.takeovers + 1, .at_s = mono_s(),
				       .failed = r < 0, .entries = t.entries,
				       .labelled = t.labelled, .legacy = t.legacy,
				       .highest = t.highest };
	if (r < 0)
		log_warn("takeover (%s): the conntrack table could not be read; every clock "
			 "domain starts %u ms ahead of this gateway's clock (ha_clock_skew), "
			 "flows' records are not counted", why, c->ha_clock_skew);
	else
		log_info("takeover (%s): %lu of %lu conntrack entries hold tsnatd's record; "
			  "every clock domain starts above what the other gateway may have "
			  "sent (ha_clock_skew %u ms); %lu servers legacy by auto", why,
			  t.labelled, t.entries, c->ha_clock_skew, t.legacy);
}

static void
ha_status(struct control_ha *out, bool run)
{
	if (run)
		ha_takeover("tsnatctl takeover");
	*out = ha_last;
}

/* A new address on the gateway: when it is a clock domain's translated
 * source (keepalived moved a virtual address here) and ha_labels is on,
 * a takeover. */
static void
ha_new_address(void *arg, int family, const uint8_t *addr)
{
	const struct conf *c = atomic_load(&current);
	uint16_t n = domains_count(domains);

	(void)arg;
	if (!c->ha_labels)
		return;
	for (uint16_t dom = 1; dom < n; dom++) {
		int f;
		uint8_t a[16];

		if (domains_get(domains, dom, &f, a) && f == family &&
		    !memcmp(a, addr, family == 4 ? 4 : 16)) {
			ha_takeover("a translated source address appeared");
			return;
		}
	}
}

/* The control socket and what it reads; NULL never (a socket that cannot
 * be opened is warned about and the daemon runs on). */
static struct ctlsrv *
control_open(struct engine *e, const char *path, uint64_t start, struct ctl_reload *rl)
{
	const struct ctlsrv_deps deps = {
		.current = &current, .engine = e, .domains = domains, .discovery = discovery,
		.config_path = path, .version = TSNATD_VERSION, .start_ms = start,
		.reload = ctl_reload, .reload_ctx = rl, .offload = offload_status,
		.rules = rules_status, .ha = ha_status,
	};
	struct ctlsrv *ctl = ctlsrv_new(&deps);

	*rl = (struct ctl_reload){ e, path, ctl };
	return ctl;
}

/* One round of the loop: housekeeping, then poll the signals, rtnetlink
 * and the control socket. False when the daemon is to stop. */
static bool
loop_round(struct rtnl *rt, struct ctlsrv *ctl, struct ctl_reload *rl,
	   int sfd, int timeout)
{
	struct pollfd pfd[2 + CTLSRV_NFDS] = { { .fd = sfd, .events = POLLIN },
					       { .fd = rt ? rtnl_fd(rt) : -1, .events = POLLIN } };
	int nctl = ctlsrv_pollfds(ctl, pfd + 2);

	if (poll(pfd, (nfds_t)(2 + nctl), ctlsrv_timeout(ctl, timeout)) < 0)
		return true;
	if (pfd[1].revents & POLLIN)
		rtnl_event(rt);
	ctlsrv_run(ctl, pfd + 2, nctl);
	if (pfd[0].revents & POLLIN)
		return on_signal(sfd, rl);
	return true;
}

static int
run(const char *path)
{
	unsigned wd_last[64] = { 0 }, nq = 0;
	struct state_queue sq[64];
	struct warn_state ws = { 0 };
	uint64_t wd_usec = 0, started = mono_ms();
	struct engine *e;
	struct rtnl *rt = NULL;
	struct ctlsrv *ctl;
	struct ctl_reload rl;
	int sfd = signals_open(), timeout = 1000;
	time_t last_checkpoint = 0;
	bool running = true;

	notes = notes_log_new();
	discovery = discovery_new(DISCOVERY_MAX_DEFAULT);
	if (!notes || !discovery)
		fatal("notes, discovery");
	e = start(atomic_load(&current), sq, &nq, &rt);
	if (!e)
		return 1;
	ctl = control_open(e, path, started, &rl);
	ruleswatch = ruleswatch_start(atomic_load(&current));
	log_info("tsnatd %s running (config %s)", TSNATD_VERSION, path);
	log_policies(atomic_load(&current));
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec / 2000 < (uint64_t)timeout)
		timeout = (int)(wd_usec / 2000);
	sd_notify(0, "READY=1\nSTATUS=processing packets");
	while (running) {
		if (wd_usec)
			watchdog(e, wd_last);
		log_notes(e);
		log_live_warnings(e, &ws);
		checkpoint(atomic_load(&current), e, &last_checkpoint);
		ctlsrv_tick(ctl);
		ruleswatch_tick(ruleswatch, mono_ms() / 1000);
		offload_tick(offload, atomic_load(&current), domains, mono_ms() / 1000);
		running = loop_round(rt, ctl, &rl, sfd, timeout);
	}
	ruleswatch_stop(ruleswatch);
	ctlsrv_free(ctl);
	stop(e, sq, nq, rt);
	discovery_free(discovery);
	notes_log_free(notes);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "print-rules", required_argument, NULL, 'r' },
		{ "apply-rules", no_argument, NULL, 'A' },
		{ "remove-rules", no_argument, NULL, 'R' },
		{ "unload", no_argument, NULL, 'u' },
		/* hidden: the key reference, "man" for tsnatd.conf(5) */
		{ "print-config-keys", optional_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONF_DEFAULT_PATH;
	enum offline_action action = OFF_NONE;
	int ch, rules = -1;
	struct conf *c;

	log_init(LOG_INFO);
	while ((ch = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			if (!offline_set_action(&action, OFF_TEST))
				return 1;
			break;
		case 'r':
			if ((rules = rules_kind_parse(optarg)) < 0) {
				fprintf(stderr, "tsnatd: --print-rules takes iptables, ip6tables or nft\n");
				return 1;
			}
			if (!offline_set_action(&action, OFF_PRINT))
				return 1;
			break;
		case 'A':
			if (!offline_set_action(&action, OFF_APPLY))
				return 1;
			break;
		case 'R':
			if (!offline_set_action(&action, OFF_REMOVE))
				return 1;
			break;
		case 'u':
			if (!offline_set_action(&action, OFF_UNLOAD))
				return 1;
			break;
		case 'k':
			conf_doc_print(stdout, optarg && strcmp(optarg, "man") == 0 ?
				       CONF_DOC_MAN : CONF_DOC_TEXT);
			return 0;
		case 'h':
			offline_usage(stdout);
			return 0;
		case 'V':
			printf("tsnatd %s\n", TSNATD_VERSION);
			return 0;
		default:
			offline_usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		offline_usage(stderr);
		return 1;
	}

	if (action != OFF_NONE)
		return offline_run(path, action, rules);
	c = conf_load(path, stderr);
	if (!c) {
		fprintf(stderr, "tsnatd: %s: configuration has errors\n", path);
		return 1;
	}
	log_set_level(c->log_level);
	atomic_store(&current, c);
	return run(path);
}
