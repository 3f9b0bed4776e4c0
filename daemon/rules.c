/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rules.c - the firewall rules as text, pure: what --print-rules prints,
 * what --apply-rules and --remove-rules feed to iptables-restore or nft
 * (rulesapply.c runs the tools), and which tool that is. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mode.h"
#include "rules.h"

int
rules_kind_parse(const char *s)
{
	if (strcmp(s, "iptables") == 0)
		return RULES_IPTABLES;
	if (strcmp(s, "ip6tables") == 0)
		return RULES_IP6TABLES;
	if (strcmp(s, "nft") == 0)
		return RULES_NFT;
	return -1;
}

/* What a mode's rules queue in one direction (mode table, mode.c). */
static enum queue_sel
queue_sel(const struct policy *pol, bool inbound)
{
	const struct mode_ops *ops = mode_get(pol->mode);

	if (!ops)
		return QUEUE_NONE;
	if (ops->queue_for)
		return ops->queue_for(pol, inbound);
	return inbound ? ops->queue_in : ops->queue_out;
}

static void
ipt_target(const struct conf *c, FILE *out)
{
	if (c->queue_count == 1)
		fprintf(out, " -j NFQUEUE --queue-num %u --queue-bypass\n", c->queue_first);
	else
		fprintf(out, " -j NFQUEUE --queue-balance %u:%u --queue-bypass\n",
			c->queue_first, c->queue_first + c->queue_count - 1);
}

static const char *const ipt_sel[] = {
	[QUEUE_SYN] = " --syn",
	[QUEUE_CTL] = " ! --tcp-flags SYN,FIN,RST NONE",
	[QUEUE_ALL] = "",
};

static const char *const nft_sel[] = {
	[QUEUE_SYN] = " tcp flags & (syn | ack | fin | rst) == syn",
	[QUEUE_CTL] = " tcp flags & (syn | fin | rst) != 0",
	[QUEUE_ALL] = "",
};

/* Does policy p have a CIDR of family among n? */
static bool
cidrs_have(const struct cidr *v, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == family)
			return true;
	return false;
}

/* Does policy_rules write anything for p and family? (The same three
 * conditions as its loops; test_rules holds the two together.) */
static bool
policy_has_rules(const struct policy *p, int family)
{
	if (queue_sel(p, false) == QUEUE_NONE && queue_sel(p, true) == QUEUE_NONE)
		return false;
	return cidrs_have(p->dst, p->ndst, family) &&
	       (!p->nsrc || cidrs_have(p->src, p->nsrc, family));
}

unsigned
rules_families(const struct conf *c)
{
	unsigned f = 0;

	for (size_t i = 0; i < c->npol; i++) {
		if (policy_has_rules(&c->pol[i], 4))
			f |= RULES_IPV4;
		if (policy_has_rules(&c->pol[i], 6))
			f |= RULES_IPV6;
	}
	return f;
}

/* One rule per (client CIDR or any) x server CIDR, in the given direction. */
static void
policy_rules(const struct conf *c, const struct policy *p, enum rules_kind kind,
	     int family, bool inbound, FILE *out)
{
	enum queue_sel sel = queue_sel(p, inbound);
	size_t nsrc = p->nsrc ? p->nsrc : 1;
	char client[64], server[64];

	if (sel == QUEUE_NONE)
		return;
	for (size_t d = 0; d < p->ndst; d++) {
		if (p->dst[d].family != family)
			continue;
		cidr_format(&p->dst[d], server, sizeof(server));
		for (size_t s = 0; s < nsrc; s++) {
			if (p->nsrc && p->src[s].family != family)
				continue;
			client[0] = '\0';
			if (p->nsrc)
				cidr_format(&p->src[s], client, sizeof(client));
			if (kind == RULES_NFT) {
				const char *ip = family == 4 ? "ip" : "ip6";

				fprintf(out, "\t\t");
				if (*client)
					fprintf(out, "%s %saddr %s ", ip, inbound ? "d" : "s", client);
				fprintf(out, "%s %saddr %s meta l4proto tcp%s", ip,
					inbound ? "s" : "d", server, nft_sel[sel]);
				if (c->queue_count == 1)
					fprintf(out, " queue num %u bypass", c->queue_first);
				else
					fprintf(out, " queue num %u-%u bypass", c->queue_first,
						c->queue_first + c->queue_count - 1);
				fprintf(out, " comment \"%s\"\n", p->name);
			} else {
				fprintf(out, "-A " RULES_CHAIN " -p tcp");
				if (*client)
					fprintf(out, " -%c %s", inbound ? 'd' : 's', client);
				fprintf(out, " -%c %s%s -m comment --comment \"%s\"",
					inbound ? 's' : 'd', server, ipt_sel[sel], p->name);
				ipt_target(c, out);
			}
		}
	}
}

/* With offload, the kernel data path marks every packet it shifted on
 * the client side (offload_mark): such packets, and through the
 * connection mark the non-SYN replies on their connections (which the
 * programs shift on the way out), stay out of the queue. Packets of flows
 * the kernel does not hold (SYNs, the first replies, flows kept in
 * NFQUEUE, or every flow when the programs did not load) carry no mark
 * and are queued as the policies say: the same rules fit both data paths.
 * A client packet the programs missed (a fragment, an IPv6 extension
 * header) is unmarked and queued too, whatever its connection's mark:
 * tsnatd shifts it from the map (rewrite_escaped). */
static void
offload_gate(const struct conf *c, enum rules_kind kind, FILE *out)
{
	unsigned m = c->offload_mark, fam = rules_families(c);

	/* only beside the rules of the policies, in a family that has some */
	if (!c->offload || !conf_rewrites(c) ||
	    !(kind == RULES_NFT ? fam : fam & (kind == RULES_IPTABLES ? RULES_IPV4 : RULES_IPV6)))
		return;
	if (kind == RULES_NFT) {
		fprintf(out, "\t\tmeta mark and 0x%x == 0x%x ct mark set ct mark or 0x%x "
			"comment \"offload\"\n", m, m, m);
		fprintf(out, "\t\tmeta mark and 0x%x == 0x%x return comment \"offload\"\n",
			m, m);
		fprintf(out, "\t\tct direction reply ct mark and 0x%x == 0x%x tcp flags & syn == 0 "
			"return comment \"offload\"\n", m, m);
		return;
	}
	fprintf(out, "-A " RULES_CHAIN " -m mark --mark 0x%x/0x%x -m connmark ! --mark 0x%x/0x%x "
		"-m comment --comment \"offload\" -j CONNMARK --or-mark 0x%x\n", m, m, m, m, m);
	fprintf(out, "-A " RULES_CHAIN " -m mark --mark 0x%x/0x%x -m comment --comment \"offload\" "
		"-j RETURN\n", m, m);
	fprintf(out, "-A " RULES_CHAIN " -p tcp ! --tcp-flags SYN SYN -m connmark --mark 0x%x/0x%x "
		"-m conntrack --ctdir REPLY -m comment --comment \"offload\" -j RETURN\n", m, m);
}

/* With ha_labels, one rule that keeps conntrack labels on: the kernel
 * gives entries room for labels only while a rule that sets them exists
 * (xt_connlabel, nft "ct label set"); without it, every label write, and
 * conntrackd's commit of a labelled entry, fails. Only its existence
 * matters, so it costs no packet anything: in nft a chain of its own that
 * nothing jumps to; in iptables the end of tsnatd's chain, which a queued
 * packet never reaches, with a match that fails at once (state INVALID:
 * a packet without a conntrack entry, to which it could set nothing). */
static void
ha_gate(const struct conf *c, enum rules_kind kind, FILE *out)
{
	if (!c->ha_labels || !conf_rewrites(c))
		return;
	if (kind == RULES_NFT)
		fprintf(out, "\tchain labels {\n\t\tct state invalid ct label set %u "
			"comment \"ha: conntrack labels on\"\n\t}\n", c->ha_label_first);
	else
		fprintf(out, "-A " RULES_CHAIN " -m conntrack --ctstate INVALID -m connlabel --label %u "
			"--set -m comment --comment \"ha: conntrack labels on\"\n", c->ha_label_first);
}

static void
all_rules(const struct conf *c, enum rules_kind kind, int family, FILE *out)
{
	for (size_t i = 0; i < c->npol; i++) {
		policy_rules(c, &c->pol[i], kind, family, false, out);
		policy_rules(c, &c->pol[i], kind, family, true, out);
	}
}

/* The file name in a comment line: a control character (a newline would
 * end the comment and start a rule) is written as '?'. */
static void
rules_put_path(const char *path, FILE *out)
{
	for (; *path; path++)
		fputc(iscntrl((unsigned char)*path) ? '?' : *path, out);
}

/* The text of --print-rules (jumps 0) and --apply-rules (jumps: how many
 * FORWARD jumps into the chain there are now). */
static int
rules_write(const struct conf *c, enum rules_kind kind, const char *conf_path,
	    unsigned jumps, FILE *out)
{
	const char *tool = kind == RULES_IPTABLES ? "iptables" : "ip6tables";

	/* Names go into quoted comments: one the loader would refuse could
	 * close the quote and add a rule. conf_load never yields one; a conf
	 * made any other way gets nothing rather than rules without it. */
	for (size_t i = 0; i < c->npol; i++)
		if (!conf_policy_name_ok(c->pol[i].name))
			return -1;
	fputs("# tsnatd rules for ", out);
	rules_put_path(conf_path, out);
	fputs(" (generated by tsnatd --print-rules)\n", out);
	if (kind == RULES_NFT) {
		fprintf(out, "# load with: nft -f FILE (replaces table inet " RULES_NFT_TABLE ")\n"
			"table inet " RULES_NFT_TABLE " {}\nflush table inet " RULES_NFT_TABLE "\n"
			"table inet " RULES_NFT_TABLE " {\n\tchain forward {\n"
			"\t\ttype filter hook forward priority mangle; policy accept;\n");
		offload_gate(c, kind, out);
		all_rules(c, kind, 4, out);
		all_rules(c, kind, 6, out);
		fprintf(out, "\t}\n");
		ha_gate(c, kind, out);
		fprintf(out, "}\n");
		return 0;
	}
	fprintf(out, "# load with: %s-restore --noflush < FILE\n"
		"# (declaring the chain flushes it; each load adds a FORWARD jump,\n"
		"#  tsnatd --apply-rules only when there is none. Remove them all with\n"
		"#  tsnatd --remove-rules)\n", tool);
	fprintf(out, "*mangle\n:" RULES_CHAIN " - [0:0]\n");
	offload_gate(c, kind, out);
	all_rules(c, kind, kind == RULES_IPTABLES ? 4 : 6, out);
	ha_gate(c, kind, out);
	/* Exactly one jump afterwards: -D deletes the first match, so the
	 * jump that stays is the last one and keeps its place. */
	if (jumps == 0)
		fprintf(out, "-A FORWARD -j " RULES_CHAIN "\n");
	for (unsigned i = 1; i < jumps; i++)
		fprintf(out, "-D FORWARD -j " RULES_CHAIN "\n");
	fprintf(out, "COMMIT\n");
	return 0;
}

int
rules_print(const struct conf *c, enum rules_kind kind, const char *conf_path,
	    FILE *out)
{
	return rules_write(c, kind, conf_path, 0, out);
}

int
rules_print_apply(const struct conf *c, enum rules_kind kind, const char *conf_path,
		  unsigned jumps, FILE *out)
{
	return rules_write(c, kind, conf_path, jumps, out);
}

/* The next line of text at *p, without its newline ("" if it has len
 * bytes or more: a line cut short must not match); false at the end. */
static bool
next_line(const char **p, char *line, size_t len)
{
	const char *nl;
	size_t n;

	if (!**p)
		return false;
	nl = strchr(*p, '\n');
	n = nl ? (size_t)(nl - *p) : strlen(*p);
	if (n < len)
		snprintf(line, len, "%.*s", (int)n, *p);
	else
		line[0] = '\0';
	*p += n + (nl != NULL);
	return true;
}

unsigned
rules_jumps(const char *listing)
{
	char line[4096];
	unsigned n = 0;

	while (next_line(&listing, line, sizeof(line)))
		n += strcmp(line, "-A FORWARD -j " RULES_CHAIN) == 0;
	return n;
}

/* "-A CHAIN ... -j TSNATD" (or -g) from a chain other than TSNATD itself,
 * of printable characters only: a rule that must go before the chain can. */
static bool
jumps_into_chain(const char *line)
{
	static const char *const tails[] = { " -j " RULES_CHAIN, " -g " RULES_CHAIN };
	size_t n = strlen(line);

	if (strncmp(line, "-A ", 3) != 0 || strncmp(line, "-A " RULES_CHAIN " ", sizeof("-A " RULES_CHAIN " ") - 1) == 0)
		return false;
	for (const char *p = line; *p; p++)
		if (iscntrl((unsigned char)*p))
			return false;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++)
		if (n > strlen(tails[i]) && strcmp(line + n - strlen(tails[i]), tails[i]) == 0)
			return true;
	return false;
}

int
rules_print_remove(enum rules_kind kind, const char *listing, FILE *out)
{
	char line[4096];
	bool chain = false;
	const char *p;
	int n = 0;

	if (kind == RULES_NFT) {
		for (p = listing; next_line(&p, line, sizeof(line));)
			chain |= strcmp(line, "table inet " RULES_NFT_TABLE) == 0;
		if (!chain)
			return 0;
		/* Declared first, so that the delete cannot fail on a table
		 * removed in between: one transaction either way. */
		fprintf(out, "table inet " RULES_NFT_TABLE " {}\n"
			"delete table inet " RULES_NFT_TABLE "\n");
		return 1;
	}
	for (p = listing; next_line(&p, line, sizeof(line));)
		chain |= strcmp(line, "-N " RULES_CHAIN) == 0;
	if (!chain)
		return 0;
	fprintf(out, "*mangle\n");
	for (p = listing; next_line(&p, line, sizeof(line));)
		if (jumps_into_chain(line)) {
			fprintf(out, "-D%s\n", line + 2);
			n++;
		}
	fprintf(out, "-F " RULES_CHAIN "\n-X " RULES_CHAIN "\nCOMMIT\n");
	return n + 1;
}

/* A chain name as nft may take it back unquoted. */
static bool
chain_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 28)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* "... jump TSNATD # handle N" (or goto), line without its indent: N,
 * else 0. */
static unsigned long
compat_jump_handle(const char *line)
{
	static const char *const verbs[] = { "jump " RULES_CHAIN " ", "goto " RULES_CHAIN " " };
	const char *h = strstr(line, "# handle "), *v;
	char *end;
	unsigned long n;
	bool jump = false;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		for (v = line; (v = strstr(v, verbs[i])); v++)
			jump |= v == line || v[-1] == ' ';
	if (!jump || !h)
		return 0;
	n = strtoul(h + strlen("# handle "), &end, 10);
	return *end == '\0' ? n : 0;
}

int
rules_print_remove_compat(enum rules_kind kind, const char *listing, FILE *out)
{
	const char *fam = kind == RULES_IP6TABLES ? "ip6" : "ip", *p;
	char line[4096], chain[32] = "", *text = NULL;
	bool ours = false;
	size_t len = 0;
	FILE *f;
	int n = 0;

	if (kind == RULES_NFT || !(f = open_memstream(&text, &len)))
		return -1;
	for (p = listing; next_line(&p, line, sizeof(line));) {
		const char *s = line + strspn(line, " \t");
		unsigned long h;

		if (strncmp(s, "chain ", 6) == 0) {
			size_t cn = strcspn(s + 6, " {");

			chain[0] = '\0';
			if (chain_name_ok(s + 6, cn))
				snprintf(chain, sizeof(chain), "%.*s", (int)cn, s + 6);
			ours |= strcmp(chain, RULES_CHAIN) == 0;
			continue;
		}
		if (strcmp(chain, RULES_CHAIN) == 0 || !(h = compat_jump_handle(s)))
			continue;
		if (!chain[0]) {
			n = -1;		/* a jump from a chain we cannot name */
			break;
		}
		fprintf(f, "delete rule %s mangle %s handle %lu\n", fam, chain, h);
		n++;
	}
	if (n >= 0 && ours)
		fprintf(f, "flush chain %s mangle " RULES_CHAIN "\ndelete chain %s mangle "
			RULES_CHAIN "\n", fam, fam);
	fclose(f);
	if (n >= 0 && ours) {
		fputs(text, out);
		n++;
	} else if (n >= 0) {
		n = 0;
	}
	free(text);
	return n;
}

const char *
rules_nft_hint(const char *nft_errors)
{
	const char *e = strstr(nft_errors, "Could not process rule: No such file or directory");

	/* nft quotes the rule it failed on after the message */
	if (!e || !strstr(e, " queue "))
		return NULL;
	return "this kernel lacks nft's queue expression (module nft_queue, kernel option "
	       "CONFIG_NFT_QUEUE), which rules = \"nft\" needs. rules = \"iptables\" works "
	       "instead: its rules queue through xt_NFQUEUE, also with the iptables-nft "
	       "variant (install the iptables package if it is missing)";
}

struct rules_choice
rules_choose(enum conf_rules setting, unsigned have, unsigned families)
{
	bool ipt = (have & RULES_HAVE_IPTABLES) &&
		   (!(families & RULES_IPV6) || (have & RULES_HAVE_IP6TABLES));

	switch (setting) {
	case CONF_RULES_NONE:
		return (struct rules_choice){ RULES_BACKEND_NONE, NULL };
	case CONF_RULES_IPTABLES:
		if (!(have & RULES_HAVE_IPTABLES))
			return (struct rules_choice){ RULES_BACKEND_NONE,
				"rules = \"iptables\", but iptables or iptables-restore is "
				"not in PATH" };
		if (!ipt)
			return (struct rules_choice){ RULES_BACKEND_NONE,
				"the policies have IPv6 rules, but ip6tables or "
				"ip6tables-restore is not in PATH" };
		return (struct rules_choice){ RULES_BACKEND_IPTABLES, NULL };
	case CONF_RULES_NFT:
		if (!(have & RULES_HAVE_NFT))
			return (struct rules_choice){ RULES_BACKEND_NONE,
				"rules = \"nft\", but nft is not in PATH" };
		return (struct rules_choice){ RULES_BACKEND_NFT, NULL };
	case CONF_RULES_AUTO:
		break;
	}
	/* iptables first: it works whether the system's iptables is the
	 * legacy or the nf_tables variant, and it is what the other rules of
	 * a gateway (MASQUERADE) are most often written with. */
	if (ipt)
		return (struct rules_choice){ RULES_BACKEND_IPTABLES, NULL };
	if (have & RULES_HAVE_NFT)
		return (struct rules_choice){ RULES_BACKEND_NFT, NULL };
	return (struct rules_choice){ RULES_BACKEND_NONE,
		"rules = \"auto\", but neither iptables (with ip6tables for IPv6 "
		"rules) nor nft is in PATH: install one, or set rules = \"none\" "
		"and load tsnatd --print-rules output yourself" };
}
