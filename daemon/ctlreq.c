/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlreq.c - the control request: parsed and written back (see
 * ctlreq.h). Pure; linked by the daemon and by tsnatctl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlreq.h"

static const char *const control_names[] = {
	[CONTROL_STATUS] = "status", [CONTROL_STATS] = "stats", [CONTROL_FLOWS] = "flows",
	[CONTROL_DOMAINS] = "domains", [CONTROL_SERVERS] = "servers",
	[CONTROL_RELOAD] = "reload", [CONTROL_METRICS] = "metrics",
	[CONTROL_TAKEOVER] = "takeover",
};
#define CONTROL_NCMD (sizeof(control_names) / sizeof(control_names[0]))

const char *
control_cmd_name(enum control_cmd c)
{
	return (size_t)c < CONTROL_NCMD ? control_names[c] : "?";
}

/* One option, wherever it stands; --limit's value is the next word.
 * Whether the command takes it is checked once the command is known.
 * 0, or -1 with err set. */
static int
control_option(const char *w, char **save, struct control_req *r, bool *limited,
	       char *err, size_t errlen)
{
	char *end;
	unsigned long n;

	if (strcmp(w, "--json") == 0) {
		r->json = true;
		return 0;
	}
	if (strcmp(w, "--limit") != 0) {
		/* The word is the client's, but holds no control character
		 * (checked before) and err bounds its length. */
		snprintf(err, errlen, "unknown option %s (--json; flows also --limit N)", w);
		return -1;
	}
	w = strtok_r(NULL, " \t", save);
	n = w ? strtoul(w, &end, 10) : 0;
	if (!w || *end || w[0] == '-' || w[0] == '+' || n < 1 || n > CONTROL_FLOWS_MAX) {
		snprintf(err, errlen, "--limit takes 1..%d", CONTROL_FLOWS_MAX);
		return -1;
	}
	r->limit = (unsigned)n;
	*limited = true;
	return 0;
}

/* The command a word names, or -1. */
static int
control_cmd_of(const char *w)
{
	for (size_t c = 0; c < CONTROL_NCMD; c++)
		if (strcmp(w, control_names[c]) == 0)
			return (int)c;
	return -1;
}

int
control_parse(const char *line, struct control_req *r, char *err, size_t errlen)
{
	char buf[CONTROL_LINE_MAX + 1], *save = NULL, *w;
	bool have_cmd = false, limited = false;
	int c;

	*r = (struct control_req){ .limit = CONTROL_FLOWS_DEFAULT };
	if (strlen(line) > CONTROL_LINE_MAX) {
		snprintf(err, errlen, "request too long");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		if (*p < 0x20 && *p != '\t') {
			snprintf(err, errlen, "control character in the request");
			return -1;
		}
	snprintf(buf, sizeof(buf), "%s", line);
	for (w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (w[0] == '-') {
			if (control_option(w, &save, r, &limited, err, errlen) < 0)
				return -1;
			continue;
		}
		if (have_cmd) {
			snprintf(err, errlen, "one command at a time: %s after %s", w,
				 control_cmd_name(r->cmd));
			return -1;
		}
		if ((c = control_cmd_of(w)) < 0) {
			snprintf(err, errlen, "unknown command %s (status, stats, flows, "
				 "domains, servers, reload, metrics)", w);
			return -1;
		}
		r->cmd = (enum control_cmd)c;
		have_cmd = true;
	}
	if (!have_cmd) {
		snprintf(err, errlen, "no command (status, stats, flows, domains, servers, "
			 "reload, metrics)");
		return -1;
	}
	if (limited && r->cmd != CONTROL_FLOWS) {
		snprintf(err, errlen, "unknown option --limit for %s (flows only)",
			 control_cmd_name(r->cmd));
		return -1;
	}
	return 0;
}

int
control_format(const struct control_req *r, char *line, size_t len)
{
	int n;

	if (r->cmd == CONTROL_FLOWS && r->limit != CONTROL_FLOWS_DEFAULT)
		n = snprintf(line, len, "%s%s --limit %u\n", control_cmd_name(r->cmd),
			     r->json ? " --json" : "", r->limit);
	else
		n = snprintf(line, len, "%s%s\n", control_cmd_name(r->cmd),
			     r->json ? " --json" : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
