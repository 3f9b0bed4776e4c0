/* SPDX-License-Identifier: GPL-2.0-or-later */
/* notes.c - the workers' notes, logged with addresses and rate-limited. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "notes.h"

#define SEEN_MAX 256

struct notes_log {
	struct { uint16_t dom; uint8_t server[16]; } seen[SEEN_MAX];
	unsigned nseen;
	uint32_t next[NOTE_KINDS];	/* per kind: when the next line may come */
	uint32_t held[NOTE_KINDS];	/* per kind: notes held back since the last */
};

struct notes_log *
notes_log_new(void)
{
	return calloc(1, sizeof(struct notes_log));
}

void
notes_log_free(struct notes_log *l)
{
	free(l);
}

static void
addr_text(int family, const uint8_t *a, char *out, size_t len)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)len))
		snprintf(out, len, "?");
}

void
notes_format(const struct proc_note *n, const struct domains *d, uint32_t held,
	     char *out, size_t len)
{
	char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN], src[INET6_ADDRSTRLEN] = "unknown";
	char more[64] = "";
	uint8_t addr[16];
	int fam;

	addr_text(n->family, n->client, client, sizeof(client));
	addr_text(n->family, n->server, server, sizeof(server));
	if (n->domain != DOMAIN_SHARED && domains_get(d, n->domain, &fam, addr))
		addr_text(fam, addr, src, sizeof(src));
	if (held)
		snprintf(more, sizeof(more), " (%u more like it since the last)", held);
	switch (n->kind) {
	case NOTE_SYN_WITHOUT_TS:
		snprintf(out, len, "policy '%s': SYNs without timestamp from translated source "
			 "%s to %s pass untouched: rewrite cannot protect them (a 4.x "
			 "server drops them after timestamped connections); use strip for "
			 "those clients", n->policy, src, server);
		break;
	case NOTE_CLAMP:
		snprintf(out, len, "client %s sent TSvals %u ms ahead of real time since its "
			 "SYN (to %s): clamped, so that it cannot move the clock of "
			 "translated source %s (counter ts_clamped)%s",
			 client, n->value, server, src, more);
		break;
	case NOTE_VERDICT:
		snprintf(out, len, "server %s (from translated source %s) classified %s: %s",
			 server, src, discovery_verdict_name((enum discovery_verdict)n->value),
			 n->value == DISCOVERY_LEGACY ?
			 "it dropped SYNs behind what it recorded (tcp_tw_recycle); "
			 "policies in mode auto now give it their action" :
			 n->value == DISCOVERY_NOT_LEGACY ?
			 "it answered SYNs a legacy server would have dropped" :
			 "the evidence is mixed now");
		break;
	case NOTE_QUOTA:
		snprintf(out, len, "client %s holds %u flows, its quota (flows.per_client): "
			 "its new connections get strip (counter flows_over_quota)%s",
			 client, n->value, more);
		break;
	case NOTE_UNADOPTED:
		snprintf(out, len, "packets of client %s's connection to %s, which a rewrite "
			 "policy covers, pass with the client's own timestamps: tsnatd has "
			 "no state for it and its conntrack entry no label to adopt "
			 "(counter flows_unadopted). After a failover or a restart without "
			 "state the server may drop them; with ha_labels on both gateways "
			 "and conntrackd syncing, it should not happen%s",
			 client, server, more);
		break;
	default:
		snprintf(out, len, "note of unknown kind %u", n->kind);
		break;
	}
}

/* Once per (domain, server); the table is bounded: past it, always. */
static bool
first_time(struct notes_log *l, const struct proc_note *n)
{
	for (unsigned k = 0; k < l->nseen; k++)
		if (l->seen[k].dom == n->domain && !memcmp(l->seen[k].server, n->server, 16))
			return false;
	if (l->nseen < SEEN_MAX) {
		l->seen[l->nseen].dom = n->domain;
		memcpy(l->seen[l->nseen++].server, n->server, 16);
	}
	return true;
}

bool
notes_log(struct notes_log *l, const struct proc_note *n, const struct domains *d,
	  uint32_t now)
{
	char line[512];
	unsigned k = n->kind;

	if (k == NOTE_SYN_WITHOUT_TS) {
		if (!first_time(l, n))
			return false;
	} else if (k == NOTE_CLAMP || k == NOTE_QUOTA || k == NOTE_UNADOPTED) {
		if ((int32_t)(now - l->next[k]) < 0 && l->next[k]) {
			l->held[k]++;
			return false;
		}
		l->next[k] = now + NOTES_INTERVAL_S;
	}
	if (k >= NOTE_KINDS)
		k = NOTE_SYN_WITHOUT_TS;	/* never: a note the worker made */
	notes_format(n, d, l->held[k], line, sizeof(line));
	l->held[k] = 0;
	log_warnx("%s", line);
	return true;
}
