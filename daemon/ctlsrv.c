/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlsrv.c - the control socket's data: gathered for each command from
 * what the workers publish, never from their tables (see ctlsrv.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "ctlsock.h"
#include "ctlsrv.h"
#include "flowsnap.h"
#include "log.h"
#include "metrics.h"

struct ctlsrv {
	struct ctlsrv_deps d;
	struct ctlsock *sock;
	char path[108];
	struct control_queue q[64];
	struct control_domain *dom;		/* DOMAIN_MAX */
	struct discovery_server *srv;		/* DISCOVERY_MAX_DEFAULT */
	struct control_flow *flows;		/* CONTROL_FLOWS_MAX */
	size_t nflows;				/* copied in the last round */
	uint64_t flows_total;
	bool round;				/* flow copies asked for */
	uint64_t round_at;
	uint64_t metrics_at;			/* last textfile write, ms */
	bool metrics_failing;
};

static uint64_t
ctlsrv_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t
ctlsrv_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Everything but the flows and the reload: cheap, gathered each time. */
static void
ctlsrv_gather(struct ctlsrv *s, struct control_data *cd)
{
	const struct engine *e = s->d.engine;
	uint32_t wall = ctlsrv_wall_ms();
	uint16_t nd = domains_count(s->d.domains);

	*cd = (struct control_data){ .version = s->d.version, .config_path = s->d.config_path,
		.uptime_s = (ctlsrv_mono_ms() - s->d.start_ms) / 1000,
		.conf = atomic_load(s->d.current), .q = s->q, .dom = s->dom };
	cd->nq = engine_nworkers(e) < 64 ? engine_nworkers(e) : 64;
	for (unsigned i = 0; i < cd->nq; i++) {
		s->q[i].queue = engine_queue(e, i);
		engine_stats(e, i, &s->q[i].st);
		s->q[i].flows = engine_queue_flows(e, i);
		cd->flows_total += s->q[i].flows;
	}
	for (uint16_t i = 0; i < nd && i < DOMAIN_MAX; i++) {
		struct control_domain *m = &s->dom[i];
		int fam = 0;

		*m = (struct control_domain){ .id = i };
		domains_get(s->d.domains, i, &fam, m->addr);
		m->family = (uint8_t)fam;
		m->has_mark = domains_hwm(s->d.domains, i, &m->mark);
		m->distance_ms = (int32_t)(m->mark - wall);
		cd->ndom++;
	}
	if (s->d.discovery)
		cd->nsrv = discovery_snapshot(s->d.discovery, s->srv, DISCOVERY_MAX_DEFAULT);
	if (s->d.offload)
		s->d.offload(&cd->offload);
	if (s->d.rules)
		s->d.rules(&cd->rules);
	cd->mono_s = ctlsrv_mono_ms() / 1000;
	cd->srv = s->srv;
}

/* A worker's copied flow, oriented client -> server. */
static void
ctlsrv_flow(const struct flowsnap *fs, const struct flow *f, unsigned queue,
	    struct control_flow *out)
{
	bool a = f->flags & FLOW_CLIENT_IS_A;

	*out = (struct control_flow){ .queue = queue, .family = (uint8_t)flow_family(f),
		.client_port = a ? f->pa : f->pb, .server_port = a ? f->pb : f->pa,
		.domain = f->domain, .offset = f->offset,
		.age_ms = fs->mono_ms - f->syn_ms,
		.idle_s = (uint16_t)((uint16_t)fs->now - f->last) };
	memcpy(out->client, a ? f->a : f->b, 16);
	memcpy(out->server, a ? f->b : f->a, 16);
}

/* Flow copies: ask every worker, then wait (AGAIN) until all served. */
static enum ctlsock_result
ctlsrv_flows(struct ctlsrv *s, struct textbuf *out)
{
	struct engine *e = s->d.engine;
	unsigned n = engine_nworkers(e);
	bool all = true;

	if (!s->round) {
		/* A worker still serving an older request counts as asked:
		 * what it serves next is at least as fresh. */
		for (unsigned i = 0; i < n; i++)
			flowsnap_post(engine_flowsnap(e, i));
		s->round = true;
		s->round_at = ctlsrv_mono_ms();
	}
	for (unsigned i = 0; i < n && all; i++)
		all = flowsnap_ready(engine_flowsnap(e, i));
	if (!all && ctlsrv_mono_ms() - s->round_at < CTLSRV_FLOWS_WAIT_MS)
		return CTLSOCK_AGAIN;
	s->round = false;
	if (!all) {
		control_error(out, "flows: a worker did not answer in time, try again");
		return CTLSOCK_DONE;
	}
	s->nflows = 0;
	s->flows_total = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct flowsnap *fs = engine_flowsnap(e, i);

		s->flows_total += fs->total;
		for (uint32_t k = 0; k < fs->n && s->nflows < CONTROL_FLOWS_MAX; k++)
			ctlsrv_flow(fs, &fs->buf[k], engine_queue(e, i), &s->flows[s->nflows++]);
	}
	return CTLSOCK_DONE;
}

static enum ctlsock_result
ctlsrv_answer(void *ctx, const char *line, bool first, struct textbuf *out)
{
	struct ctlsrv *s = ctx;
	struct textbuf reload_errs = { 0 };
	struct control_data cd;
	struct control_req r;
	char err[160];

	(void)first;
	if (control_parse(line, &r, err, sizeof(err)) < 0) {
		control_error(out, err);
		return CTLSOCK_DONE;
	}
	if (r.cmd == CONTROL_FLOWS) {
		if (ctlsrv_flows(s, out) == CTLSOCK_AGAIN)
			return CTLSOCK_AGAIN;
		if (out->len)
			return CTLSOCK_DONE;	/* a worker did not answer */
	}
	ctlsrv_gather(s, &cd);
	if (r.cmd == CONTROL_FLOWS) {
		cd.flows = s->flows;
		cd.nflows = s->nflows;
		cd.flows_total = s->flows_total;
	}
	if (s->d.ha)
		s->d.ha(&cd.ha, r.cmd == CONTROL_TAKEOVER);
	if (r.cmd == CONTROL_RELOAD) {
		cd.reload_ok = s->d.reload(s->d.reload_ctx, &reload_errs);
		cd.reload_errors = reload_errs.p;
		cd.conf = atomic_load(s->d.current);
	}
	control_render(&r, &cd, out);
	textbuf_free(&reload_errs);
	return CTLSOCK_DONE;
}

struct ctlsrv *
ctlsrv_new(const struct ctlsrv_deps *deps)
{
	struct ctlsrv *s = calloc(1, sizeof(*s));
	const struct conf *c = atomic_load(deps->current);

	if (!s)
		fatal("calloc");
	s->d = *deps;
	s->dom = calloc(DOMAIN_MAX, sizeof(*s->dom));
	s->srv = calloc(DISCOVERY_MAX_DEFAULT, sizeof(*s->srv));
	s->flows = calloc(CONTROL_FLOWS_MAX, sizeof(*s->flows));
	if (!s->dom || !s->srv || !s->flows)
		fatal("calloc");
	if (c->control_socket[0]) {
		s->sock = ctlsock_open(c->control_socket, ctlsrv_answer, s);
		if (s->sock)
			snprintf(s->path, sizeof(s->path), "%s", c->control_socket);
		else
			log_warnx("running without a control socket: tsnatctl will not reach "
				  "this daemon");
	}
	return s;
}

void
ctlsrv_free(struct ctlsrv *s)
{
	if (!s)
		return;
	ctlsock_close(s->sock);
	free(s->dom);
	free(s->srv);
	free(s->flows);
	free(s);
}

const char *
ctlsrv_path(const struct ctlsrv *s)
{
	return s->path;
}

int
ctlsrv_pollfds(const struct ctlsrv *s, struct pollfd *pfd)
{
	return s->sock ? ctlsock_pollfds(s->sock, pfd) : 0;
}

int
ctlsrv_timeout(const struct ctlsrv *s, int timeout)
{
	return s->sock ? ctlsock_timeout(s->sock, timeout) : timeout;
}

void
ctlsrv_run(struct ctlsrv *s, const struct pollfd *pfd, int n)
{
	if (s->sock)
		ctlsock_run(s->sock, pfd, n);
}

void
ctlsrv_tick(struct ctlsrv *s)
{
	const struct conf *c = atomic_load(s->d.current);
	uint64_t now = ctlsrv_mono_ms();
	struct textbuf t = { 0 };
	struct control_data cd;

	if (!c->metrics_file[0] ||
	    (s->metrics_at && now - s->metrics_at < (uint64_t)c->metrics_interval * 1000))
		return;
	s->metrics_at = now;
	ctlsrv_gather(s, &cd);
	metrics_render(&cd, &t);
	if (metrics_file_write(c->metrics_file, t.p, t.len) < 0) {
		if (!s->metrics_failing)
			log_warn("writing the metrics file %s", c->metrics_file);
		s->metrics_failing = true;
	} else if (s->metrics_failing) {
		log_info("metrics file %s written again", c->metrics_file);
		s->metrics_failing = false;
	}
	textbuf_free(&t);
}
