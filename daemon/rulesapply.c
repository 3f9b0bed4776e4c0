/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulesapply.c - tsnatd --apply-rules / --remove-rules: find the tools,
 * list what is there, feed rules.c's text to them.
 *
 * The tools run as child processes (posix_spawn, no shell), the text on a
 * pipe to their standard input; their own messages go to our standard
 * error, ahead of ours with their exit status. Every change is one
 * transaction of one tool (iptables-restore --noflush, nft -f), so a rule
 * set is replaced whole or not at all. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "rulesapply.h"
#include "rulestool_int.h"


static const char *
kind_name(enum rules_kind kind)
{
	return kind == RULES_NFT ? "nft" : kind == RULES_IPTABLES ? "iptables" : "ip6tables";
}

/* What is there now: `iptables -t mangle -S` or `nft list tables`. NULL
 * after reporting a failure, as an error if strict, else as a warning
 * (then nothing of that tool is touched). */
static char *
list_now(const struct tools *t, enum rules_kind kind, bool strict, FILE *err)
{
	const char *ipt[] = { t->path[kind == RULES_IPTABLES ? TOOL_IPT : TOOL_IP6T], "-w",
			      RULES_WAIT, "-t", "mangle", "-S", NULL };
	const char *nft[] = { t->path[TOOL_NFT], "list", "tables", NULL };
	char *listing = NULL;
	int rc = tool_run(kind == RULES_NFT ? nft : ipt, NULL, 0, &listing, NULL, err);

	if (rc == 0)
		return listing;
	free(listing);
	if (rc > 0)
		fprintf(err, "tsnatd: %s`%s` exited with status %d%s\n", strict ? "" : "warning: ",
			kind == RULES_NFT ? "nft list tables" : kind == RULES_IPTABLES ?
			"iptables -t mangle -S" : "ip6tables -t mangle -S", rc,
			strict ? "" : ": tsnatd's rules there, if any, are left as they are");
	return NULL;
}

/* Feed text to iptables-restore --noflush, ip6tables-restore --noflush or
 * nft -f -: one transaction. 0, or -1 after reporting. nft's own errors
 * are read too: a kernel without the queue expression answers each
 * queue rule with a bare "No such file or directory", which is
 * explained. */
static int
load(const struct tools *t, enum rules_kind kind, const char *text, size_t len, FILE *err)
{
	const char *ipt[] = { t->path[kind == RULES_IPTABLES ? TOOL_IPT_RESTORE : TOOL_IP6T_RESTORE],
			      "-w", RULES_WAIT, "--noflush", NULL };
	const char *nft[] = { t->path[TOOL_NFT], "-f", "-", NULL };
	char *errors = NULL;
	const char *hint;
	int rc = tool_run(kind == RULES_NFT ? nft : ipt, text, len, NULL,
		     kind == RULES_NFT ? &errors : NULL, err);

	if (rc > 0)
		fprintf(err, "tsnatd: `%s` exited with status %d: rules not changed\n",
			kind == RULES_NFT ? "nft -f -" : kind == RULES_IPTABLES ?
			"iptables-restore --noflush" : "ip6tables-restore --noflush", rc);
	if (rc > 0 && errors && (hint = rules_nft_hint(errors)))
		fprintf(err, "tsnatd: %s\n", hint);
	free(errors);
	return rc == 0 ? 0 : -1;
}

/* The text of rules.c into a buffer: NULL if it refused (bad policy name)
 * or memory ran out. */
static char *
text_apply(const struct conf *c, enum rules_kind kind, const char *conf_path,
	   unsigned jumps, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int rc;

	if (!f)
		return NULL;
	rc = rules_print_apply(c, kind, conf_path, jumps, f);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Replace kind's rules with c's: one transaction. */
static int
install(const struct conf *c, const char *conf_path, const struct tools *t,
	enum rules_kind kind, FILE *out, FILE *err)
{
	unsigned jumps = 0;
	char *listing, *text;
	size_t len;
	int rc;

	/* The jumps are counted in the listing rather than asked with
	 * `iptables -C FORWARD -j TSNATD`: that one fails (status 2, not 1)
	 * while the chain does not exist, and says nothing of the extra
	 * jumps that loading --print-rules output twice leaves. */
	if (kind != RULES_NFT) {
		if (!(listing = list_now(t, kind, true, err)))
			return -1;
		jumps = rules_jumps(listing);
		free(listing);
	}
	if (!(text = text_apply(c, kind, conf_path, jumps, &len))) {
		fprintf(err, "tsnatd: cannot write the %s rules (a policy name that cannot "
			"be a rule's comment, or out of memory)\n", kind_name(kind));
		return -1;
	}
	rc = load(t, kind, text, len, err);
	free(text);
	if (rc < 0)
		return -1;
	if (kind == RULES_NFT)
		fprintf(out, "nft: table inet " RULES_NFT_TABLE " replaced\n");
	else
		fprintf(out, "%s: chain " RULES_CHAIN " of table mangle replaced; %s\n",
			kind_name(kind), jumps == 0 ? "jump from FORWARD added" :
			jumps == 1 ? "its jump from FORWARD kept" :
			"extra jumps from FORWARD deleted, one kept");
	return 0;
}

/* Remove kind's tsnatd rules, if any: 1 if something was removed, 0 if
 * there was nothing (or, not strict, nothing could be listed), -1 on an
 * error. */
static int
remove_kind(const struct tools *t, enum rules_kind kind, bool strict, FILE *out, FILE *err)
{
	char *listing = list_now(t, kind, strict, err), *text = NULL;
	size_t len = 0;
	FILE *f;
	int n;

	if (!listing)
		return strict ? -1 : 0;
	if (!(f = open_memstream(&text, &len))) {
		free(listing);
		fprintf(err, "tsnatd: out of memory\n");
		return -1;
	}
	n = rules_print_remove(kind, listing, f);
	free(listing);
	if (fclose(f) != 0) {
		free(text);
		fprintf(err, "tsnatd: out of memory\n");
		return -1;
	}
	if (n > 0 && load(t, kind, text, len, err) < 0)
		n = -1;
	free(text);
	if (n > 0)
		fprintf(out, "%s: removed %s\n", kind_name(kind), kind == RULES_NFT ?
			"table inet " RULES_NFT_TABLE :
			"chain " RULES_CHAIN " and the rules jumping to it");
	return n < 0 ? -1 : n > 0;
}

/* Does iptables-legacy hold a table mangle for kind's family? Its tables
 * are listed in /proc/net/ip_tables_names (ip6_...), which exists only
 * while the legacy x_tables of that family are loaded. */
static bool
legacy_mangle_loaded(enum rules_kind kind)
{
	FILE *f = fopen(kind == RULES_IPTABLES ? "/proc/net/ip_tables_names" :
			"/proc/net/ip6_tables_names", "r");
	char line[64];
	bool yes = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		yes |= strcmp(line, "mangle\n") == 0;
	fclose(f);
	return yes;
}

/* Is "table FAMILY mangle" in `nft list tables` output? */
static bool
nft_has_mangle(const char *tables, enum rules_kind kind)
{
	const char *want = kind == RULES_IPTABLES ? "table ip mangle" : "table ip6 mangle";

	for (const char *p = tables; (p = strstr(p, want)); p += strlen(want))
		if ((p == tables || p[-1] == '\n') && (p[strlen(want)] == '\n' || !p[strlen(want)]))
			return true;
	return false;
}

/* kind's rules when its iptables is not in PATH. What the iptables-nft
 * variant loaded is in nf_tables, which nft lists and removes (table ip
 * or ip6 mangle, chain TSNATD); what iptables-legacy loaded only
 * iptables-legacy can read. 1 if something was removed, 0 if there was
 * nothing, -1 after saying on err what failed or could not be checked:
 * "no rules to remove" must never be said of rules not looked at. */
static int
remove_compat(const struct tools *t, enum rules_kind kind, FILE *out, FILE *err)
{
	const char *fam = kind == RULES_IPTABLES ? "ip" : "ip6", *tool = kind_name(kind);
	const char *argv[] = { t->path[TOOL_NFT], "-a", "list", "table", fam, "mangle", NULL };
	char *tables, *listing = NULL, *text = NULL, *errors = NULL, *quiet = NULL;
	size_t len = 0, qlen = 0;
	FILE *f, *sink;
	int n = 0, rc;

	if (!(t->have & RULES_HAVE_NFT)) {
		fprintf(err, "tsnatd: neither %s nor nft is in PATH: tsnatd's %s rules, if any, "
			"could not be checked\n", tool, tool);
		return -1;
	}
	if (!(tables = list_now(t, RULES_NFT, true, err)))
		return -1;
	if (!(sink = open_memstream(&quiet, &qlen))) {
		free(tables);
		fprintf(err, "tsnatd: out of memory\n");
		return -1;
	}
	if (nft_has_mangle(tables, kind)) {
		/* nft's errors (and ours about running it) only if it fails:
		 * listing iptables-nft's table it warns "managed by iptables-nft,
		 * do not touch!", which is what this removal has to do */
		if ((rc = tool_run(argv, NULL, 0, &listing, &errors, sink)) != 0) {
			fflush(sink);
			fputs(quiet ? quiet : "", err);
			if (rc > 0)
				fprintf(err, "tsnatd: `nft -a list table %s mangle` exited with "
					"status %d\n", fam, rc);
			n = -1;
		} else if (!(f = open_memstream(&text, &len))) {
			n = -1;
		} else {
			n = rules_print_remove_compat(kind, listing, f);
			fclose(f);
			if (n < 0)
				fprintf(err, "tsnatd: table %s mangle has a jump to " RULES_CHAIN
					" from a chain whose name nft cannot take back\n", fam);
			else if (n > 0 && load(t, RULES_NFT, text, len, err) < 0)
				n = -1;
			else if (n > 0)
				fprintf(out, "%s: removed chain " RULES_CHAIN " and the rules jumping "
					"to it from table %s mangle, with nft (%s is not in PATH)\n",
					tool, fam, tool);
		}
	}
	fclose(sink);
	free(quiet);
	free(errors);
	free(tables);
	free(listing);
	free(text);
	if (n >= 0 && legacy_mangle_loaded(kind)) {
		fprintf(err, "tsnatd: %s is not in PATH and iptables-legacy holds a table "
			"mangle: tsnatd's rules there, if any, could not be checked (run "
			"tsnatd --remove-rules with %s in PATH)\n", tool, tool);
		n = -1;
	}
	return n < 0 ? -1 : n > 0;
}

static bool
have_kind(const struct tools *t, enum rules_kind kind)
{
	static const unsigned need[] = { [RULES_IPTABLES] = RULES_HAVE_IPTABLES,
		[RULES_IP6TABLES] = RULES_HAVE_IP6TABLES, [RULES_NFT] = RULES_HAVE_NFT };

	return (t->have & need[kind]) != 0;
}

/* The family kind's rules are for: RULES_IPV4, RULES_IPV6, or both. */
static unsigned
kind_families(enum rules_kind kind)
{
	return kind == RULES_IPTABLES ? RULES_IPV4 : kind == RULES_IP6TABLES ? RULES_IPV6 :
	       RULES_IPV4 | RULES_IPV6;
}

/* Does the back end install kind's rules for c? */
static bool
backend_uses(enum rules_backend b, enum rules_kind kind, unsigned families)
{
	if (b == RULES_BACKEND_NFT)
		return kind == RULES_NFT && families != 0;
	if (b == RULES_BACKEND_IPTABLES)
		return kind != RULES_NFT && (families & kind_families(kind));
	return false;
}

int
rules_apply(const struct conf *c, const char *conf_path, FILE *out, FILE *err)
{
	static const enum rules_kind kinds[] = { RULES_IPTABLES, RULES_IP6TABLES, RULES_NFT };
	unsigned families = rules_families(c);
	struct rules_choice ch;
	struct tools t;

	if (c->rules == CONF_RULES_NONE) {
		fprintf(out, "%s has rules = \"none\": no rules applied (tsnatd --print-rules "
			"prints them)\n", conf_path);
		return 0;
	}
	tools_find(NULL, &t);
	ch = rules_choose(c->rules, t.have, families);
	if (ch.error) {
		fprintf(err, "tsnatd: %s: %s\n", conf_path, ch.error);
		return -1;
	}
	if (!families)
		fprintf(out, "the policies queue nothing: no rules needed\n");
	/* What the chosen back end needs first, then the rest removed: a
	 * family without rules, and the back end not chosen (a switch from
	 * iptables to nft must not leave both queueing the same packets).
	 * Those removals warn rather than fail when their tool cannot even
	 * list (say ip6tables on a host without IPv6). */
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (backend_uses(ch.backend, kinds[i], families) &&
		    install(c, conf_path, &t, kinds[i], out, err) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!backend_uses(ch.backend, kinds[i], families) && have_kind(&t, kinds[i]) &&
		    remove_kind(&t, kinds[i], false, out, err) < 0)
			return -1;
	return 0;
}

int
rules_remove(const struct conf *c, const char *conf_path, FILE *out, FILE *err)
{
	static const enum rules_kind kinds[] = { RULES_IPTABLES, RULES_IP6TABLES, RULES_NFT };
	unsigned families = rules_families(c);
	struct rules_choice ch;
	struct tools t;
	int removed = 0, n;
	bool failed = false;

	if (c->rules == CONF_RULES_NONE) {
		fprintf(out, "%s has rules = \"none\": no rules removed\n", conf_path);
		return 0;
	}
	tools_find(NULL, &t);
	/* Every back end: the configuration may have named another one when
	 * the rules were applied. Failing to list is an error only where
	 * this configuration puts its rules. A family whose iptables is
	 * missing is looked at through nft (remove_compat); a missing nft
	 * leaves table inet tsnatd unchecked, an error only when this
	 * configuration puts its rules there. After a failure the other
	 * back ends are still cleared. */
	ch = rules_choose(c->rules, t.have, families);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (have_kind(&t, kinds[i]))
			n = remove_kind(&t, kinds[i],
					backend_uses(ch.backend, kinds[i], families), out, err);
		else if (kinds[i] != RULES_NFT)
			n = remove_compat(&t, kinds[i], out, err);
		else if (c->rules == CONF_RULES_NFT)
			n = -1, fprintf(err, "tsnatd: %s has rules = \"nft\", but nft is not in "
					"PATH: table inet " RULES_NFT_TABLE " could not be checked\n",
					conf_path);
		else
			n = 0;
		failed |= n < 0;
		removed += n > 0;
	}
	if (failed)
		return -1;
	if (!removed)
		fprintf(out, "no tsnatd rules to remove\n");
	return 0;
}
