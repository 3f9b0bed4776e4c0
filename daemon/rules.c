/* rules.c - tsnatd --print-rules iptables|ip6tables|nft */
#include <ctype.h>
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
				fprintf(out, "-A TSNATD -p tcp");
				if (*client)
					fprintf(out, " -%c %s", inbound ? 'd' : 's', client);
				fprintf(out, " -%c %s%s -m comment --comment \"%s\"",
					inbound ? 's' : 'd', server, ipt_sel[sel], p->name);
				ipt_target(c, out);
			}
		}
	}
}

/* Does any policy rewrite (mode rewrite, or auto with action rewrite)? */
static bool
rewrites(const struct conf *c)
{
	for (size_t i = 0; i < c->npol; i++)
		if (c->pol[i].mode == MODE_REWRITE ||
		    (c->pol[i].mode == MODE_AUTO && c->pol[i].action == MODE_REWRITE))
			return true;
	return false;
}

/* With offload, the kernel data path marks every packet it shifted on
 * the client side (offload_mark): such packets, and through the
 * connection mark the non-SYN packets coming back on their connections,
 * stay out of the queue. Packets of flows the kernel does not hold (SYNs,
 * the first replies, flows kept in NFQUEUE, or every flow when the
 * programs did not load) carry no mark and are queued as the policies say:
 * the same rules fit both data paths. */
static void
offload_gate(const struct conf *c, enum rules_kind kind, FILE *out)
{
	unsigned m = c->offload_mark;

	if (!c->offload || !rewrites(c))
		return;
	if (kind == RULES_NFT) {
		fprintf(out, "\t\tmeta mark and 0x%x == 0x%x ct mark set ct mark or 0x%x "
			"comment \"offload\"\n", m, m, m);
		fprintf(out, "\t\tmeta mark and 0x%x == 0x%x return comment \"offload\"\n",
			m, m);
		fprintf(out, "\t\tct mark and 0x%x == 0x%x tcp flags & syn == 0 return "
			"comment \"offload\"\n", m, m);
		return;
	}
	fprintf(out, "-A TSNATD -m mark --mark 0x%x/0x%x -m connmark ! --mark 0x%x/0x%x "
		"-m comment --comment \"offload\" -j CONNMARK --or-mark 0x%x\n", m, m, m, m, m);
	fprintf(out, "-A TSNATD -m mark --mark 0x%x/0x%x -m comment --comment \"offload\" "
		"-j RETURN\n", m, m);
	fprintf(out, "-A TSNATD -p tcp ! --tcp-flags SYN SYN -m connmark --mark 0x%x/0x%x "
		"-m comment --comment \"offload\" -j RETURN\n", m, m);
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

int
rules_print(const struct conf *c, enum rules_kind kind, const char *conf_path,
	    FILE *out)
{
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
		fprintf(out, "# load with: nft -f FILE (replaces table inet tsnatd)\n"
			"table inet tsnatd {}\nflush table inet tsnatd\n"
			"table inet tsnatd {\n\tchain forward {\n"
			"\t\ttype filter hook forward priority mangle; policy accept;\n");
		offload_gate(c, kind, out);
		all_rules(c, kind, 4, out);
		all_rules(c, kind, 6, out);
		fprintf(out, "\t}\n}\n");
		return 0;
	}
	fprintf(out, "# load with: %s-restore --noflush < FILE\n"
		"# (declaring the chain flushes it; the FORWARD jump is added once:\n"
		"#  remove it with %s -t mangle -D FORWARD -j TSNATD)\n",
		kind == RULES_IPTABLES ? "iptables" : "ip6tables",
		kind == RULES_IPTABLES ? "iptables" : "ip6tables");
	fprintf(out, "*mangle\n:TSNATD - [0:0]\n");
	offload_gate(c, kind, out);
	all_rules(c, kind, kind == RULES_IPTABLES ? 4 : 6, out);
	fprintf(out, "-A FORWARD -j TSNATD\nCOMMIT\n");
	return 0;
}
