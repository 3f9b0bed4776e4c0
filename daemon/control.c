/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control.c - the control protocol's answers, rendered as aligned tables
 * or JSON (see control.h; the request is ctlreq.c's). Pure: the data
 * comes in. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctlabel.h"
#include "metrics.h"

void
control_error(struct textbuf *out, const char *msg)
{
	textbuf_printf(out, "error %s\n", msg);
}

/* A column's width in rows, per line: UTF-8 is not expected in cells. */
void
control_table(const struct textbuf *rows, struct textbuf *out)
{
	size_t width[32] = { 0 }, col = 0, cell = 0;
	const char *p = rows->p ? rows->p : "";

	for (const char *c = p; *c; c++) {
		if (*c == '\t' || *c == '\n') {
			if (col < 32 && cell > width[col])
				width[col] = cell;
			col = *c == '\t' ? col + 1 : 0;
			cell = 0;
		} else {
			cell++;
		}
	}
	col = 0;
	while (*p) {
		size_t n = strcspn(p, "\t\n");

		if (p[n] == '\t') {
			textbuf_printf(out, "%-*.*s  ", (int)(col < 32 ? width[col] : n),
				       (int)n, p);
			col++;
		} else {
			textbuf_printf(out, "%.*s\n", (int)n, p);
			col = 0;
		}
		p += n + (p[n] != '\0');
	}
}

void
control_domain_name(const struct control_data *d, uint16_t id, char *out, size_t len)
{
	const struct control_domain *dom = id < d->ndom ? &d->dom[id] : NULL;
	char a[INET6_ADDRSTRLEN];

	if (!dom)
		snprintf(out, len, "?");
	else if (dom->family == 0)
		snprintf(out, len, "shared");
	else
		snprintf(out, len, "%s",
			 inet_ntop(dom->family == 6 ? AF_INET6 : AF_INET, dom->addr, a, sizeof(a)));
}

static const char *
control_addr(int family, const uint8_t *addr, char *buf, size_t len)
{
	return inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len);
}

void
control_map_entries(uint32_t entries, uint32_t open, char *out, size_t len)
{
	snprintf(out, len, "%u map entr%s (%u open)", entries, entries == 1 ? "y" : "ies", open);
}

static const char *const offload_state_name[] = {
	[CONTROL_OFFLOAD_UNNEEDED] = "unneeded", [CONTROL_OFFLOAD_OFF] = "off",
	[CONTROL_OFFLOAD_ACTIVE] = "active", [CONTROL_OFFLOAD_DRAINING] = "draining",
};

/* The kernel data path in one line of text. */
static void
control_offload_line(const struct control_offload *ol, struct textbuf *rows)
{
	char n[64];

	control_map_entries(ol->flows, ol->open, n, sizeof(n));
	switch (ol->state) {
	case CONTROL_OFFLOAD_UNNEEDED:
		textbuf_printf(rows, "offload\tunneeded (no policy rewrites)\n");
		break;
	case CONTROL_OFFLOAD_OFF:
		textbuf_printf(rows, "offload\toff: %s\n", ol->reason ? ol->reason : "?");
		break;
	case CONTROL_OFFLOAD_ACTIVE:
		textbuf_printf(rows, "offload\tactive (%s %s), %s, on: %s\n",
			       ol->adopted ? "adopted from" : "loaded in", ol->dir ? ol->dir : "?",
			       n, *ol->interfaces ? ol->interfaces : "none yet");
		break;
	case CONTROL_OFFLOAD_DRAINING:
		textbuf_printf(rows, "offload\tdraining: %s still in the kernel\n", n);
		break;
	}
}

static void
control_offload_json(const struct control_offload *ol, struct textbuf *o)
{
	textbuf_printf(o, ", \"offload\": {\"state\": \"%s\", \"adopted\": %s, \"flows\": %u, "
		       "\"open\": %u, \"interfaces\": ", offload_state_name[ol->state],
		       ol->adopted ? "true" : "false", ol->flows, ol->open);
	textbuf_json_str(o, ol->interfaces);
	textbuf_printf(o, ", \"reason\": ");
	textbuf_json_str(o, ol->reason ? ol->reason : "");
	textbuf_printf(o, "}");
}

/* The firewall rules: which tool, there or not, whose queues. */
static void
control_rules_line(const struct control_data *d, struct textbuf *rows)
{
	const struct conf *c = d->conf;
	char line[512];

	rulescheck_format(&d->rules, c->queue_first, c->queue_count, line, sizeof(line));
	textbuf_printf(rows, "rules\t%s", line);
	if (d->rules.state != RULESCHECK_UNCHECKED && d->mono_s >= d->rules.at_s)
		textbuf_printf(rows, " (checked %llus ago)",
			       (unsigned long long)(d->mono_s - d->rules.at_s));
	textbuf_printf(rows, "\n");
}

static void
control_rules_json(const struct control_data *d, struct textbuf *o)
{
	const struct rulescheck *r = &d->rules;

	textbuf_printf(o, ", \"rules\": {\"state\": \"%s\", \"tools\": ",
		       rulescheck_state_name(r->state));
	textbuf_json_str(o, r->tools);
	if (r->have_queues)
		textbuf_printf(o, ", \"queue_first\": %u, \"queue_last\": %u", r->first, r->last);
	else
		textbuf_printf(o, ", \"queue_first\": null, \"queue_last\": null");
	textbuf_printf(o, ", \"detail\": ");
	textbuf_json_str(o, r->detail);
	textbuf_printf(o, ", \"age_s\": %llu}", (unsigned long long)
		       (d->mono_s >= r->at_s && r->state != RULESCHECK_UNCHECKED ?
			d->mono_s - r->at_s : 0));
}

/* HA pairs: labels on or off, adoptions, the last takeover. */
static void
control_ha_line(const struct control_data *d, struct textbuf *rows)
{
	const struct conf *c = d->conf;
	const struct control_ha *h = &d->ha;
	struct stats t = { 0 };

	for (unsigned i = 0; i < d->nq; i++)
		stats_add(&t, &d->q[i].st);
	if (!c->ha_labels) {
		textbuf_printf(rows, "ha	labels off (ha_labels)");
	} else {
		textbuf_printf(rows, "ha	labels on (bits %u-%u, clock skew %u ms): %llu flows "
			       "adopted, %llu packets without state or label, %llu labels "
			       "written, %llu label errors", c->ha_label_first,
			       c->ha_label_first + CTLABEL_BITS - 1, c->ha_clock_skew,
			       (unsigned long long)t.flows_adopted,
			       (unsigned long long)t.flows_unadopted,
			       (unsigned long long)t.labels_written,
			       (unsigned long long)t.label_errors);
	}
	if (h->takeovers)
		textbuf_printf(rows, "; last takeover %llus ago: %s%lu labelled of %lu entries, "
			       "%lu servers legacy by auto", (unsigned long long)
			       (d->mono_s >= h->at_s ? d->mono_s - h->at_s : 0),
			       h->failed ? "table not read, clock floor only; " : "",
			       h->labelled, h->entries, h->legacy);
	textbuf_printf(rows, "\n");
}

static void
control_ha_json(const struct control_data *d, struct textbuf *o)
{
	const struct conf *c = d->conf;
	const struct control_ha *h = &d->ha;
	struct stats t = { 0 };

	for (unsigned i = 0; i < d->nq; i++)
		stats_add(&t, &d->q[i].st);
	textbuf_printf(o, ", \"ha\": {\"labels\": %s, \"label_first\": %u, \"clock_skew_ms\": %u, "
		       "\"flows_adopted\": %llu, \"flows_unadopted\": %llu, \"takeovers\": %llu, "
		       "\"last_takeover\": ", c->ha_labels ? "true" : "false", c->ha_label_first,
		       c->ha_clock_skew, (unsigned long long)t.flows_adopted,
		       (unsigned long long)t.flows_unadopted, (unsigned long long)h->takeovers);
	if (!h->takeovers)
		textbuf_printf(o, "null}");
	else
		textbuf_printf(o, "{\"age_s\": %llu, \"table_read\": %s, \"entries\": %lu, "
			       "\"labelled\": %lu, \"legacy\": %lu}}", (unsigned long long)
			       (d->mono_s >= h->at_s ? d->mono_s - h->at_s : 0),
			       h->failed ? "false" : "true", h->entries, h->labelled, h->legacy);
}

/* What a policy does: its mode, and for auto the action legacy servers
 * get. */
static const char *
control_action(const struct policy *p)
{
	return p->mode == MODE_AUTO ? policy_mode_name(p->action) : "-";
}

static void
control_status(const struct control_data *d, bool json, struct textbuf *o)
{
	const struct conf *c = d->conf;
	struct textbuf rows = { 0 };

	if (json) {
		textbuf_printf(o, "{\"version\": ");
		textbuf_json_str(o, d->version);
		textbuf_printf(o, ", \"uptime_s\": %llu, \"config\": ",
			       (unsigned long long)d->uptime_s);
		textbuf_json_str(o, d->config_path);
		textbuf_printf(o, ", \"enabled\": %s, \"queue_first\": %u, \"queue_count\": %u, "
			       "\"policies\": [", c->enabled ? "true" : "false", c->queue_first,
			       c->queue_count);
		for (size_t i = 0; i < c->npol; i++) {
			textbuf_printf(o, "%s{\"name\": ", i ? ", " : "");
			textbuf_json_str(o, c->pol[i].name);
			textbuf_printf(o, ", \"mode\": ");
			textbuf_json_str(o, policy_mode_name(c->pol[i].mode));
			if (c->pol[i].mode == MODE_AUTO) {
				textbuf_printf(o, ", \"action\": ");
				textbuf_json_str(o, control_action(&c->pol[i]));
			}
			textbuf_printf(o, ", \"destinations\": %zu}", c->pol[i].ndst);
		}
		textbuf_printf(o, "]");
		control_offload_json(&d->offload, o);
		control_rules_json(d, o);
		control_ha_json(d, o);
		textbuf_printf(o, "}\n");
		return;
	}
	textbuf_printf(&rows, "version\t%s\nuptime\t%llus\nconfig\t%s\nenabled\t%s\n"
		       "queues\t%u..%u\n", d->version, (unsigned long long)d->uptime_s,
		       d->config_path, c->enabled ? "yes" : "no (all new flows pass)",
		       c->queue_first, c->queue_first + c->queue_count - 1);
	control_offload_line(&d->offload, &rows);
	control_rules_line(d, &rows);
	control_ha_line(d, &rows);
	control_table(&rows, o);
	textbuf_reset(&rows);
	textbuf_printf(o, "\n");
	textbuf_printf(&rows, "POLICY\tMODE\tACTION\tDESTINATIONS\tSOURCES\n");
	for (size_t i = 0; i < c->npol; i++)
		textbuf_printf(&rows, "%s\t%s\t%s\t%zu\t%s\n", c->pol[i].name,
			       policy_mode_name(c->pol[i].mode), control_action(&c->pol[i]),
			       c->pol[i].ndst, c->pol[i].nsrc ? "listed" : "any");
	control_table(&rows, o);
	textbuf_free(&rows);
}

/* One queue's counters as JSON members. */
static void
control_stats_json(const struct stats *s, struct textbuf *o)
{
	const char *sep = "";

#define CONTROL_STAT_JSON(name, desc)					\
	textbuf_printf(o, "%s\"%s\": %llu", sep, #name, (unsigned long long)s->name); \
	sep = ", ";
	STATS_FIELDS(CONTROL_STAT_JSON)
#undef CONTROL_STAT_JSON
}

static void
control_stats(const struct control_data *d, bool json, struct textbuf *o)
{
	struct stats total = { 0 };
	struct textbuf rows = { 0 };

	for (unsigned i = 0; i < d->nq; i++)
		stats_add(&total, &d->q[i].st);
	if (json) {
		textbuf_printf(o, "{\"queues\": [");
		for (unsigned i = 0; i < d->nq; i++) {
			textbuf_printf(o, "%s{\"queue\": %u, ", i ? ", " : "", d->q[i].queue);
			control_stats_json(&d->q[i].st, o);
			textbuf_printf(o, "}");
		}
		textbuf_printf(o, "], \"total\": {");
		control_stats_json(&total, o);
		textbuf_printf(o, "}}\n");
		return;
	}
	textbuf_printf(&rows, "COUNTER");
	for (unsigned i = 0; i < d->nq; i++)
		textbuf_printf(&rows, "\tQUEUE %u", d->q[i].queue);
	textbuf_printf(&rows, "\tTOTAL\n");
#define CONTROL_STAT_ROW(name, desc)					\
	textbuf_printf(&rows, "%s", #name);				\
	for (unsigned i = 0; i < d->nq; i++)				\
		textbuf_printf(&rows, "\t%llu", (unsigned long long)d->q[i].st.name); \
	textbuf_printf(&rows, "\t%llu\n", (unsigned long long)total.name);
	STATS_FIELDS(CONTROL_STAT_ROW)
#undef CONTROL_STAT_ROW
	control_table(&rows, o);
	textbuf_free(&rows);
}

static void
control_flows(const struct control_data *d, const struct control_req *r, struct textbuf *o)
{
	size_t n = d->nflows < r->limit ? d->nflows : r->limit;
	struct textbuf rows = { 0 };
	char cl[INET6_ADDRSTRLEN], sv[INET6_ADDRSTRLEN], dom[INET6_ADDRSTRLEN + 8];

	if (r->json)
		textbuf_printf(o, "{\"total\": %llu, \"shown\": %zu, \"flows\": [",
			       (unsigned long long)d->flows_total, n);
	else
		textbuf_printf(&rows, "QUEUE\tCLIENT\tSERVER\tTRANSLATED\tOFFSET\tAGE\tIDLE\n");
	for (size_t i = 0; i < n; i++) {
		const struct control_flow *f = &d->flows[i];

		control_addr(f->family, f->client, cl, sizeof(cl));
		control_addr(f->family, f->server, sv, sizeof(sv));
		control_domain_name(d, f->domain, dom, sizeof(dom));
		if (!r->json) {
			textbuf_printf(&rows, "%u\t%s%s%s:%u\t%s%s%s:%u\t%s\t%u\t%u.%03us\t%us\n",
				       f->queue, f->family == 6 ? "[" : "", cl,
				       f->family == 6 ? "]" : "", f->client_port,
				       f->family == 6 ? "[" : "", sv, f->family == 6 ? "]" : "",
				       f->server_port, dom, f->offset, f->age_ms / 1000,
				       f->age_ms % 1000, f->idle_s);
			continue;
		}
		textbuf_printf(o, "%s{\"queue\": %u, \"client\": \"%s\", \"client_port\": %u, "
			       "\"server\": \"%s\", \"server_port\": %u, \"translated_source\": ",
			       i ? ", " : "", f->queue, cl, f->client_port, sv, f->server_port);
		textbuf_json_str(o, dom);
		textbuf_printf(o, ", \"offset\": %u, \"age_ms\": %u, \"idle_s\": %u}",
			       f->offset, f->age_ms, f->idle_s);
	}
	if (r->json) {
		textbuf_printf(o, "]}\n");
	} else {
		control_table(&rows, o);
		textbuf_printf(o, "%zu of %llu flows shown\n", n,
			       (unsigned long long)d->flows_total);
	}
	textbuf_free(&rows);
}

static void
control_domains(const struct control_data *d, bool json, struct textbuf *o)
{
	struct textbuf rows = { 0 };
	char name[INET6_ADDRSTRLEN + 8];

	textbuf_printf(json ? o : &rows, json ? "[" : "TRANSLATED\tMARK\tDISTANCE_MS\n");
	for (size_t i = 0; i < d->ndom; i++) {
		const struct control_domain *m = &d->dom[i];

		control_domain_name(d, m->id, name, sizeof(name));
		if (json) {
			textbuf_printf(o, "%s{\"translated_source\": ", i ? ", " : "");
			textbuf_json_str(o, name);
			if (m->has_mark)
				textbuf_printf(o, ", \"mark\": %u, \"distance_ms\": %lld}", m->mark,
					       (long long)m->distance_ms);
			else
				textbuf_printf(o, ", \"mark\": null, \"distance_ms\": null}");
		} else if (m->has_mark) {
			textbuf_printf(&rows, "%s\t%u\t%+lld\n", name, m->mark,
				       (long long)m->distance_ms);
		} else {
			textbuf_printf(&rows, "%s\t-\t-\n", name);
		}
	}
	if (json)
		textbuf_printf(o, "]\n");
	else
		control_table(&rows, o);
	textbuf_free(&rows);
}

/* A policy block for the servers found legacy, each address once. */
static void
control_snippet(const struct control_data *d, struct textbuf *o)
{
	char a[INET6_ADDRSTRLEN];
	size_t shown = 0;

	for (size_t i = 0; i < d->nsrv; i++) {
		const struct discovery_server *s = &d->srv[i];
		bool dup = false;

		if (s->verdict != DISCOVERY_LEGACY)
			continue;
		for (size_t j = 0; j < i && !dup; j++)
			dup = d->srv[j].verdict == DISCOVERY_LEGACY && d->srv[j].family == s->family &&
			      memcmp(d->srv[j].server, s->server, 16) == 0;
		if (dup)
			continue;
		textbuf_printf(o, "%s\"%s\"", shown++ ? ", " : "\n# a policy for the servers "
			       "found legacy (tsnatd.conf, policies):\n{ name = \"legacy-found\"; "
			       "mode = \"strip\"; destinations = [ ",
			       control_addr(s->family, s->server, a, sizeof(a)));
	}
	if (shown)
		textbuf_printf(o, " ]; }\n");
	else
		textbuf_printf(o, "\n# no server found legacy yet\n");
}

static void
control_servers(const struct control_data *d, bool json, struct textbuf *o)
{
	struct textbuf rows = { 0 };
	char a[INET6_ADDRSTRLEN], dom[INET6_ADDRSTRLEN + 8];

	textbuf_printf(json ? o : &rows, json ? "[" : "SERVER\tTRANSLATED\tSYNS\tPRED_310\t"
		       "PRED_4X\tCONFIRMED\tCONTRARY\tVERDICT\n");
	for (size_t i = 0; i < d->nsrv; i++) {
		const struct discovery_server *s = &d->srv[i];

		control_addr(s->family, s->server, a, sizeof(a));
		control_domain_name(d, s->domain, dom, sizeof(dom));
		if (json) {
			textbuf_printf(o, "%s{\"server\": \"%s\", \"translated_source\": ",
				       i ? ", " : "", a);
			textbuf_json_str(o, dom);
			textbuf_printf(o, ", \"syns\": %llu, \"predicted_drops_310\": %llu, "
				       "\"predicted_drops_4x\": %llu, \"confirmed_drops\": %llu, "
				       "\"contrary\": %llu, \"verdict\": \"%s\"}",
				       (unsigned long long)s->syns,
				       (unsigned long long)s->predicted_310,
				       (unsigned long long)s->predicted_4x,
				       (unsigned long long)s->confirmed,
				       (unsigned long long)s->contrary,
				       discovery_verdict_name(s->verdict));
		} else {
			textbuf_printf(&rows, "%s\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%s\n", a, dom,
				       (unsigned long long)s->syns,
				       (unsigned long long)s->predicted_310,
				       (unsigned long long)s->predicted_4x,
				       (unsigned long long)s->confirmed,
				       (unsigned long long)s->contrary,
				       discovery_verdict_name(s->verdict));
		}
	}
	if (json) {
		textbuf_printf(o, "]\n");
	} else {
		control_table(&rows, o);
		control_snippet(d, o);
	}
	textbuf_free(&rows);
}

static void
control_metrics(const struct control_data *d, bool json, struct textbuf *o)
{
	struct textbuf m = { 0 };

	metrics_render(d, &m);
	if (json) {
		textbuf_printf(o, "{\"text\": ");
		textbuf_json_str(o, m.p ? m.p : "");
		textbuf_printf(o, "}\n");
	} else {
		textbuf_printf(o, "%s", m.p ? m.p : "");
	}
	textbuf_free(&m);
}

/* A refused reload: the error line, then the file's errors themselves,
 * "file:line: message", as many as an operator reads (the log has all). */
static void
control_reload_refused(const char *errors, struct textbuf *o)
{
	const char *p = errors ? errors : "";
	size_t lines = 0, more = 0;

	control_error(o, "reload failed: the running configuration is kept; the file's errors:");
	while (*p) {
		size_t n = strcspn(p, "\n");

		if (n && lines < CONTROL_RELOAD_ERRORS_MAX) {
			textbuf_printf(o, "%.*s\n", (int)n, p);
			lines++;
		} else if (n) {
			more++;
		}
		p += n + (p[n] == '\n');
	}
	if (more)
		textbuf_printf(o, "... and %zu more in the daemon's log\n", more);
	else if (!lines)
		textbuf_printf(o, "(none given: see the daemon's log)\n");
}

void
control_render(const struct control_req *r, const struct control_data *d, struct textbuf *o)
{
	if (r->cmd == CONTROL_RELOAD && !d->reload_ok) {
		control_reload_refused(d->reload_errors, o);
		return;
	}
	textbuf_printf(o, "ok\n");
	switch (r->cmd) {
	case CONTROL_STATUS:
		control_status(d, r->json, o);
		break;
	case CONTROL_STATS:
		control_stats(d, r->json, o);
		break;
	case CONTROL_FLOWS:
		control_flows(d, r, o);
		break;
	case CONTROL_DOMAINS:
		control_domains(d, r->json, o);
		break;
	case CONTROL_SERVERS:
		control_servers(d, r->json, o);
		break;
	case CONTROL_RELOAD:
		textbuf_printf(o, r->json ? "{\"reloaded\": true}\n" : "configuration reloaded\n");
		break;
	case CONTROL_METRICS:
		control_metrics(d, r->json, o);
		break;
	case CONTROL_TAKEOVER:
		if (r->json)
			textbuf_printf(o, "{\"table_read\": %s, \"entries\": %lu, \"labelled\": %lu, "
				       "\"legacy\": %lu}\n", d->ha.failed ? "false" : "true",
				       d->ha.entries, d->ha.labelled, d->ha.legacy);
		else
			textbuf_printf(o, "takeover: %s%lu labelled of %lu conntrack entries; "
				       "every clock domain raised above what the other gateway "
				       "may have sent; %lu servers legacy by auto\n",
				       d->ha.failed ? "conntrack table not read (clock floor "
				       "only); " : "", d->ha.labelled, d->ha.entries, d->ha.legacy);
		break;
	}
}
