/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulescheck.c - the loaded rules read and judged against the daemon's
 * queues (see rulescheck.h). Pure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rulescheck.h"

/* The range after `at` in "N" or "A:B" (iptables) / "A-B" (nft) form. */
static bool
read_range(const char *at, char sep, unsigned *first, unsigned *last)
{
	char *end;
	unsigned long a, b;

	if (*at < '0' || *at > '9')
		return false;
	a = strtoul(at, &end, 10);
	b = a;
	if (*end == sep) {
		if (end[1] < '0' || end[1] > '9')
			return false;
		b = strtoul(end + 1, &end, 10);
	}
	if (a > 65535 || b > 65535 || b < a || (*end && *end != ' ' && *end != '\n'))
		return false;
	*first = (unsigned)a;
	*last = (unsigned)b;
	return true;
}

/* One queue rule's range into s. */
static void
seen_queue(struct rulescheck_seen *s, unsigned first, unsigned last)
{
	if (s->nqueue && (first != s->first || last != s->last))
		s->mixed = true;
	if (!s->nqueue || first < s->first)
		s->first = first;
	if (!s->nqueue || last > s->last)
		s->last = last;
	s->nqueue++;
}

/* The next line of text at *p into line (cut at len - 1); false at the end. */
static bool
next_line(const char **p, char *line, size_t len)
{
	size_t n;

	if (!*p || !**p)
		return false;
	n = strcspn(*p, "\n");
	snprintf(line, len, "%.*s", (int)(n < len ? n : len - 1), *p);
	*p += n + ((*p)[n] == '\n');
	return true;
}

void
rulescheck_read_ipt(const char *listing, struct rulescheck_seen *s)
{
	const char *p = listing;
	char line[4096], *q;
	unsigned a, b;

	*s = (struct rulescheck_seen){ 0 };
	while (next_line(&p, line, sizeof(line))) {
		if (strcmp(line, "-N " RULES_CHAIN) == 0)
			s->chain = true;
		else if (strcmp(line, "-A FORWARD -j " RULES_CHAIN) == 0)
			s->jumps++;
		if (strncmp(line, "-A " RULES_CHAIN " ", sizeof("-A " RULES_CHAIN " ") - 1) != 0 ||
		    !strstr(line, " -j NFQUEUE"))
			continue;
		/* no --queue-num nor balance: queue 0 (NFQUEUE's default) */
		a = b = 0;
		if ((q = strstr(line, " --queue-num ")) &&
		    !read_range(q + strlen(" --queue-num "), 0, &a, &b))
			continue;
		if ((q = strstr(line, " --queue-balance ")) &&
		    !read_range(q + strlen(" --queue-balance "), ':', &a, &b))
			continue;
		seen_queue(s, a, b);
	}
}

void
rulescheck_read_nft(const char *listing, struct rulescheck_seen *s)
{
	const char *p = listing;
	char line[4096], *q;
	unsigned a, b;

	*s = (struct rulescheck_seen){ 0 };
	while (next_line(&p, line, sizeof(line))) {
		if (strncmp(line, "table inet " RULES_NFT_TABLE " ",
			    sizeof("table inet " RULES_NFT_TABLE " ") - 1) == 0)
			s->chain = true;
		if (strstr(line, "hook forward"))
			s->jumps++;
		if (!(q = strstr(line, " queue")) || (q[6] != ' ' && q[6] != '\0'))
			continue;
		a = b = 0;
		if (strstr(q, " num ") && !read_range(strstr(q, " num ") + 5, '-', &a, &b))
			continue;
		if (strstr(q, " to ") && !read_range(strstr(q, " to ") + 4, '-', &a, &b))
			continue;
		seen_queue(s, a, b);
	}
}

bool
rulescheck_drifts(enum rulescheck_state s)
{
	return s == RULESCHECK_MISSING || s == RULESCHECK_OTHER_QUEUES;
}

const char *
rulescheck_state_name(enum rulescheck_state s)
{
	static const char *const names[] = {
		[RULESCHECK_UNCHECKED] = "unchecked", [RULESCHECK_NOT_CHECKED] = "not-checked",
		[RULESCHECK_UNNEEDED] = "unneeded", [RULESCHECK_MATCH] = "match",
		[RULESCHECK_UNKNOWN] = "unknown", [RULESCHECK_MISSING] = "missing",
		[RULESCHECK_OTHER_QUEUES] = "other-queues",
	};

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static const char *
kind_tool(enum rules_kind kind)
{
	return kind == RULES_NFT ? "nft" : kind == RULES_IPTABLES ? "iptables" : "ip6tables";
}

/* The worse of two states. */
static enum rulescheck_state
worse(enum rulescheck_state a, enum rulescheck_state b)
{
	int ra = rulescheck_drifts(a) ? 3 : a == RULESCHECK_UNKNOWN ? 2 : 1;
	int rb = rulescheck_drifts(b) ? 3 : b == RULESCHECK_UNKNOWN ? 2 : 1;

	if (a == RULESCHECK_UNCHECKED)
		return b;
	return rb > ra ? b : a;
}

/* "tool" added to out's tool list, and "tool: text" to its detail. */
static void
note(struct rulescheck *out, enum rules_kind kind, const char *text)
{
	size_t n = strlen(out->tools), d = strlen(out->detail);

	snprintf(out->tools + n, sizeof(out->tools) - n, "%s%s", n ? ", " : "", kind_tool(kind));
	if (text)
		snprintf(out->detail + d, sizeof(out->detail) - d, "%s%s: %s", d ? "; " : "",
			 kind_tool(kind), text);
}

void
rulescheck_judge(enum rules_kind kind, const struct rulescheck_seen *s,
		 unsigned qfirst, unsigned qcount, struct rulescheck *out)
{
	unsigned qlast = qfirst + qcount - 1;
	enum rulescheck_state st = RULESCHECK_MATCH;
	const char *why = NULL;

	if (!s->chain)
		why = kind == RULES_NFT ? "no table inet " RULES_NFT_TABLE :
		      "no chain " RULES_CHAIN " in table mangle";
	else if (!s->jumps)
		why = kind == RULES_NFT ? "no forward hook" : "no jump to " RULES_CHAIN " from FORWARD";
	else if (!s->nqueue)
		why = "no rule queues";
	if (why) {
		st = RULESCHECK_MISSING;
	} else if (s->mixed || s->first != qfirst || s->last != qlast) {
		st = RULESCHECK_OTHER_QUEUES;
		why = s->mixed ? "its rules name different queues" : NULL;
	}
	if (s->nqueue) {
		/* the union over the tools judged */
		if (!out->have_queues || s->first < out->first)
			out->first = s->first;
		if (!out->have_queues || s->last > out->last)
			out->last = s->last;
		out->have_queues = true;
	}
	note(out, kind, why);
	out->state = worse(out->state, st);
}

void
rulescheck_unknown(enum rules_kind kind, const char *why, struct rulescheck *out)
{
	note(out, kind, why);
	out->state = worse(out->state, RULESCHECK_UNKNOWN);
}

void
rulescheck_format(const struct rulescheck *r, unsigned qfirst, unsigned qcount,
		  char *out, size_t len)
{
	unsigned qlast = qfirst + qcount - 1;

	switch (r->state) {
	case RULESCHECK_UNCHECKED:
		snprintf(out, len, "not checked yet");
		break;
	case RULESCHECK_NOT_CHECKED:
		snprintf(out, len, "not checked (rules = \"none\": the operator loads them)");
		break;
	case RULESCHECK_UNNEEDED:
		snprintf(out, len, "none needed (the policies queue nothing)");
		break;
	case RULESCHECK_MATCH:
		snprintf(out, len, "%s: present, queues %u..%u, as the daemon's", r->tools,
			 r->first, r->last);
		break;
	case RULESCHECK_UNKNOWN:
		snprintf(out, len, "unknown (%s)", r->detail);
		break;
	case RULESCHECK_MISSING:
		snprintf(out, len, "MISSING (%s): nothing of theirs is queued, packets pass "
			 "unfixed", r->detail);
		break;
	case RULESCHECK_OTHER_QUEUES:
		snprintf(out, len, "%s: queues %u..%u, but the daemon listens on %u..%u%s%s: "
			 "packets queued to the others pass unfixed", r->tools, r->first, r->last,
			 qfirst, qlast, *r->detail ? "; " : "", r->detail);
		break;
	}
}
