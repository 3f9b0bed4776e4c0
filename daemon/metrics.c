/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics.c - the Prometheus text exposition and its textfile (see
 * metrics.h). Pure but for metrics_file_write. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"

/* Label values here are addresses, policy names (letters, digits, ".",
 * "_", "-"), mode names and versions: nothing to escape but for safety
 * '\\', '"' and newlines are escaped as the format asks. */
static void
metrics_label(struct textbuf *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			textbuf_printf(o, "\\%c", *v);
		else if (*v == '\n')
			textbuf_printf(o, "\\n");
		else
			textbuf_printf(o, "%c", *v);
	}
}

static void
metrics_family(struct textbuf *o, const char *name, const char *type, const char *help)
{
	textbuf_printf(o, "# HELP tsnatd_%s %s\n# TYPE tsnatd_%s %s\n", name, help, name, type);
}

static void
metrics_info(const struct control_data *d, struct textbuf *o)
{
	const struct conf *c = d->conf;

	metrics_family(o, "up", "gauge", "1 while tsnatd runs and answers");
	textbuf_printf(o, "tsnatd_up 1\n");
	metrics_family(o, "build_info", "gauge", "the running version, as a label");
	textbuf_printf(o, "tsnatd_build_info{version=\"");
	metrics_label(o, d->version);
	textbuf_printf(o, "\"} 1\n");
	metrics_family(o, "uptime_seconds", "gauge", "seconds since tsnatd started");
	textbuf_printf(o, "tsnatd_uptime_seconds %llu\n", (unsigned long long)d->uptime_s);
	metrics_family(o, "enabled", "gauge", "1 if enabled, 0 if every new flow passes");
	textbuf_printf(o, "tsnatd_enabled %d\n", c->enabled ? 1 : 0);
	metrics_family(o, "policy_info", "gauge", "the policies and their modes");
	for (size_t i = 0; i < c->npol; i++) {
		textbuf_printf(o, "tsnatd_policy_info{policy=\"");
		metrics_label(o, c->pol[i].name);
		textbuf_printf(o, "\",mode=\"%s\"} 1\n", policy_mode_name(c->pol[i].mode));
	}
}

/* Every counter of struct stats, per queue. */
static void
metrics_stats(const struct control_data *d, struct textbuf *o)
{
#define METRICS_STAT(name, desc)					\
	metrics_family(o, #name "_total", "counter", desc);		\
	for (unsigned i = 0; i < d->nq; i++)				\
		textbuf_printf(o, "tsnatd_" #name "_total{queue=\"%u\"} %llu\n", \
			       d->q[i].queue, (unsigned long long)d->q[i].st.name);
	STATS_FIELDS(METRICS_STAT)
#undef METRICS_STAT
	metrics_family(o, "conntrack_glue", "gauge", "1 if the queue's packets carry their "
		       "conntrack entry (NFQA_CT: flows with destination NAT stay in NFQUEUE)");
	for (unsigned i = 0; i < d->nq; i++)
		textbuf_printf(o, "tsnatd_conntrack_glue{queue=\"%u\"} %d\n", d->q[i].queue,
			       d->q[i].ct_glue ? 1 : 0);
	metrics_family(o, "flows", "gauge", "rewrite flows in the table of each queue");
	for (unsigned i = 0; i < d->nq; i++)
		textbuf_printf(o, "tsnatd_flows{queue=\"%u\"} %llu\n", d->q[i].queue,
			       (unsigned long long)d->q[i].flows);
}

static void
metrics_domains(const struct control_data *d, struct textbuf *o)
{
	char name[INET6_ADDRSTRLEN + 8];

	metrics_family(o, "domain_mark_distance_seconds", "gauge",
		       "a translated source's highest TSval sent minus the wall clock");
	for (size_t i = 0; i < d->ndom; i++) {
		if (!d->dom[i].has_mark)
			continue;
		control_domain_name(d, d->dom[i].id, name, sizeof(name));
		textbuf_printf(o, "tsnatd_domain_mark_distance_seconds{translated_source=\"");
		metrics_label(o, name);
		textbuf_printf(o, "\"} %.3f\n", (double)d->dom[i].distance_ms / 1000);
	}
}

/* One per-server counter family over the top servers. */
static void
metrics_server_family(const struct control_data *d, struct textbuf *o, const char *name,
		      const char *help, size_t off)
{
	size_t top = d->nsrv < METRICS_SERVERS_TOP ? d->nsrv : METRICS_SERVERS_TOP;
	char a[INET6_ADDRSTRLEN], dom[INET6_ADDRSTRLEN + 8];

	metrics_family(o, name, "counter", help);
	for (size_t i = 0; i < top; i++) {
		const struct discovery_server *s = &d->srv[i];
		uint64_t v;

		memcpy(&v, (const char *)s + off, sizeof(v));
		inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, s->server, a, sizeof(a));
		control_domain_name(d, s->domain, dom, sizeof(dom));
		textbuf_printf(o, "tsnatd_%s{server=\"%s\",translated_source=\"%s\"} %llu\n",
			       name, a, dom, (unsigned long long)v);
	}
}

static void
metrics_servers(const struct control_data *d, struct textbuf *o)
{
	static const enum discovery_verdict verdicts[] = {
		DISCOVERY_LEGACY, DISCOVERY_NOT_LEGACY, DISCOVERY_UNKNOWN };

	metrics_family(o, "servers", "gauge",
		       "servers in the discovery table, by verdict");
	for (size_t v = 0; v < sizeof(verdicts) / sizeof(verdicts[0]); v++) {
		size_t n = 0;

		for (size_t i = 0; i < d->nsrv; i++)
			n += d->srv[i].verdict == verdicts[v];
		textbuf_printf(o, "tsnatd_servers{verdict=\"%s\"} %zu\n",
			       discovery_verdict_name(verdicts[v]), n);
	}
	metrics_server_family(d, o, "server_syns_total",
			      "client SYNs seen (top servers by confirmed drops)",
			      offsetof(struct discovery_server, syns));
	metrics_server_family(d, o, "server_predicted_drops_310_total",
			      "SYNs a 3.10 legacy server would drop (top servers)",
			      offsetof(struct discovery_server, predicted_310));
	metrics_server_family(d, o, "server_predicted_drops_4x_total",
			      "SYNs a 4.x legacy server would drop (top servers)",
			      offsetof(struct discovery_server, predicted_4x));
	metrics_server_family(d, o, "server_confirmed_drops_total",
			      "predicted drops seen unanswered and retransmitted (top servers)",
			      offsetof(struct discovery_server, confirmed));
	metrics_server_family(d, o, "server_contrary_total",
			      "predicted drops the server answered (top servers)",
			      offsetof(struct discovery_server, contrary));
}

/* The firewall rules: 1 while they are missing or queue elsewhere. */
static void
metrics_rules(const struct control_data *d, struct textbuf *o)
{
	metrics_family(o, "rules_drift", "gauge", "1 while the firewall rules are missing or "
		       "name other queues than the daemon listens on (tsnatctl status)");
	textbuf_printf(o, "tsnatd_rules_drift %d\n", rulescheck_drifts(d->rules.state));
}

/* The kernel data path: its state and the programs' counters. */
static void
metrics_offload(const struct control_data *d, struct textbuf *o)
{
	static const struct { const char *name, *help; int idx; } ctr[] = {
		{ "offload_clamped_total", "client TSvals the kernel clamped to their bound", 2 },
		{ "offload_no_timestamp_total", "packets of offloaded flows without timestamp", 3 },
		{ "offload_errors_total", "packet edits the kernel refused (sent unshifted)", 5 },
		{ "offload_resets_total", "offloaded flows ended by a RST", 6 },
	};
	const struct control_offload *ol = &d->offload;

	metrics_family(o, "offload_active", "gauge",
		       "1 while rewritten flows are shifted in the kernel (tc BPF)");
	textbuf_printf(o, "tsnatd_offload_active %d\n", ol->state == CONTROL_OFFLOAD_ACTIVE);
	metrics_family(o, "offload_flows", "gauge",
		       "entries in the kernel's map at the last sweep, open and closed");
	textbuf_printf(o, "tsnatd_offload_flows %u\n", ol->flows);
	metrics_family(o, "offload_open_flows", "gauge",
		       "of those, flows not closed (no RST, not both FINs)");
	textbuf_printf(o, "tsnatd_offload_open_flows %u\n", ol->open);
	metrics_family(o, "offload_shifted_packets_total", "counter",
		       "packets the kernel shifted: ingress TSval, egress TSecr");
	textbuf_printf(o, "tsnatd_offload_shifted_packets_total{direction=\"ingress\"} %llu\n",
		       (unsigned long long)ol->counters[0]);
	textbuf_printf(o, "tsnatd_offload_shifted_packets_total{direction=\"egress\"} %llu\n",
		       (unsigned long long)ol->counters[1]);
	for (size_t i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++) {
		metrics_family(o, ctr[i].name, "counter", ctr[i].help);
		textbuf_printf(o, "tsnatd_%s %llu\n", ctr[i].name,
			       (unsigned long long)ol->counters[ctr[i].idx]);
	}
}

void
metrics_render(const struct control_data *d, struct textbuf *o)
{
	metrics_info(d, o);
	metrics_stats(d, o);
	metrics_offload(d, o);
	metrics_rules(d, o);
	metrics_domains(d, o);
	metrics_servers(d, o);
}

/* The temporary file is "<path>.XXXXXX": node_exporter's textfile
 * collector reads only names ending in .prom, so it never sees one. */
int
metrics_file_write(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	int fd, err;
	bool ok;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = fchmod(fd, 0644) == 0;
	for (size_t off = 0; ok && off < len;) {
		ssize_t n = write(fd, text + off, len - off);

		ok = n > 0;
		off += ok ? (size_t)n : 0;
	}
	if (close(fd) < 0)
		ok = false;
	if (ok && rename(tmp, path) == 0)
		return 0;
	err = errno ? errno : EIO;
	unlink(tmp);
	errno = err;
	return -1;
}
