/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_rules.c - the rules as text (--print-rules, and what --apply-rules
 * and --remove-rules feed to the tools) and the choice of the tool. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "confutil.h"
#include "rules.h"

static char *
rules_for(const char *text, enum rules_kind kind)
{
	struct conf *c = conf_from_text(text, NULL);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(c);
	rules_print(c, kind, "test.conf", f);
	fclose(f);
	conf_free(c);
	return out;
}


static char *
apply_text(const char *text, enum rules_kind kind, unsigned jumps)
{
	struct conf *c = conf_from_text(text, NULL);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(c);
	assert_int_equal(rules_print_apply(c, kind, "test.conf", jumps, f), 0);
	fclose(f);
	conf_free(c);
	return out;
}

static unsigned
families_of(const char *text)
{
	struct conf *c = conf_from_text(text, NULL);
	unsigned f;

	assert_non_null(c);
	f = rules_families(c);
	conf_free(c);
	return f;
}

/* Lines of r that are exactly line. */
static unsigned
count_lines(const char *r, const char *line)
{
	size_t n = strlen(line);
	unsigned k = 0;

	for (const char *p = r; (p = strstr(p, line)); p += n)
		if ((p == r || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			k++;
	return k;
}

/* The remove text for a listing, and what rules_print_remove returned. */
static char *
remove_text(enum rules_kind kind, const char *listing, int *n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	*n = rules_print_remove(kind, listing, f);
	fclose(f);
	return out;
}

#define STRIP "policies = ( { name = \"w\"; mode = \"strip\"; destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ]; } );\n"

static void
strip_queues_only_client_syns(void **state)
{
	char *r = rules_for(STRIP, RULES_IPTABLES);
	(void)state;

	assert_non_null(strstr(r, "-A TSNATD -p tcp -d 198.51.100.0/24 --syn"));
	assert_non_null(strstr(r, "--queue-num 0 --queue-bypass"));
	assert_null(strstr(r, "-s 198.51.100.0/24"));
	assert_null(strstr(r, "2001:db8"));
	assert_non_null(strstr(r, "COMMIT"));
	free(r);
}

static void
ipv6_rules_go_to_ip6tables(void **state)
{
	char *r = rules_for(STRIP, RULES_IP6TABLES);
	(void)state;

	assert_non_null(strstr(r, "-d 2001:db8:1::/64 --syn"));
	assert_null(strstr(r, "198.51.100"));
	free(r);
}

static void
several_queues_use_queue_balance(void **state)
{
	char *r = rules_for("queue = { first = 4; count = 3; };\n" STRIP, RULES_IPTABLES);
	(void)state;

	assert_non_null(strstr(r, "--queue-balance 4:6 --queue-bypass"));
	free(r);
}

static void
rewrite_queues_both_directions(void **state)
{
	char *r = rules_for("policies = ( { name = \"r\"; mode = \"rewrite\"; destinations = \"198.51.100.10\"; } );\n",
			    RULES_IPTABLES);
	(void)state;

	assert_non_null(strstr(r, "-d 198.51.100.10/32 -m comment"));
	assert_non_null(strstr(r, "-s 198.51.100.10/32 -m comment"));
	free(r);
}

/* observe (and auto with strip) queue SYN, FIN and RST both ways, not
 * the data; auto with rewrite queues every packet. */
static void
observe_and_auto_queue_what_they_need(void **state)
{
	char *o = rules_for("policies = ( { name = \"o\"; mode = \"observe\"; destinations = \"198.51.100.10\"; } );\n",
			    RULES_IPTABLES);
	char *a = rules_for("policies = ( { name = \"a\"; mode = \"auto\"; destinations = \"198.51.100.10\"; } );\n",
			    RULES_IPTABLES);
	char *r = rules_for("policies = ( { name = \"r\"; mode = \"auto\"; action = \"rewrite\"; destinations = \"198.51.100.10\"; } );\n",
			    RULES_IPTABLES);
	(void)state;

	assert_non_null(strstr(o, "-d 198.51.100.10/32 ! --tcp-flags SYN,FIN,RST NONE -m comment"));
	assert_non_null(strstr(o, "-s 198.51.100.10/32 ! --tcp-flags SYN,FIN,RST NONE -m comment"));
	assert_non_null(strstr(a, "-d 198.51.100.10/32 ! --tcp-flags SYN,FIN,RST NONE -m comment"));
	assert_non_null(strstr(r, "-d 198.51.100.10/32 -m comment"));
	assert_non_null(strstr(r, "-s 198.51.100.10/32 -m comment"));
	free(o);
	free(a);
	free(r);
}

static void
pass_policy_queues_nothing(void **state)
{
	char *r = rules_for("policies = ( { name = \"x\"; mode = \"pass\"; destinations = \"198.51.100.10\"; } );\n",
			    RULES_IPTABLES);
	(void)state;

	assert_null(strstr(r, "-A TSNATD"));
	free(r);
}

static void
nft_rules_have_bypass_and_both_families(void **state)
{
	char *r = rules_for(STRIP, RULES_NFT);
	(void)state;

	assert_non_null(strstr(r, "ip daddr 198.51.100.0/24 meta l4proto tcp tcp flags & (syn | ack | fin | rst) == syn queue num 0 bypass"));
	assert_non_null(strstr(r, "ip6 daddr 2001:db8:1::/64"));
	assert_non_null(strstr(r, "flush table inet tsnatd"));
	free(r);
}

static void
sources_appear_in_rules(void **state)
{
	char *r = rules_for("policies = ( { name = \"w\"; mode = \"strip\"; destinations = \"198.51.100.0/24\";"
			    " sources = \"192.0.2.0/24\"; } );\n", RULES_IPTABLES);
	(void)state;

	assert_non_null(strstr(r, "-s 192.0.2.0/24 -d 198.51.100.0/24 --syn"));
	free(r);
}

/* Policies of every mode, with and without sources, both families, named
 * with every character a name may have (the offload lines have tests of
 * their own). */
#define EVERY_KIND \
	"offload = false;\n" \
	"queue = { first = 2; count = 2; };\n" \
	"policies = (\n" \
	" { name = \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"; mode = \"strip\";" \
	"   destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ]; },\n" \
	" { name = \"abcdefghijklmnopqrstuvwxyz\"; mode = \"rewrite\";" \
	"   destinations = [ \"203.0.113.7\", \"2001:db8:2::7\" ];" \
	"   sources = [ \"192.0.2.0/24\", \"2001:db8:3::/48\" ]; },\n" \
	" { name = \"0123456789._-\"; mode = \"pass\"; destinations = \"198.51.100.9\"; } );\n"

/* The one thing a rule may carry in quotes: a policy name, after open and
 * before tail, the only quotes of the line. */
static void
assert_comment_is_a_name(const char *line, const char *open, const char *tail)
{
	const char *q = strstr(line, open), *end = NULL;
	char name[80];

	if (q)
		end = strchr(q + strlen(open), '"');
	if (!end || strncmp(end, tail, strlen(tail)) != 0)
		fail_msg("comment not where it belongs: %s", line);
	q += strlen(open);
	snprintf(name, sizeof(name), "%.*s", (int)(end - q), q);
	if (!conf_policy_name_ok(name) || strchr(end + 1, '"') || strchr(line, '"') != q - 1)
		fail_msg("comment is not one policy name: %s", line);
}

/* iptables-restore input: each line a comment, the table, the chain, a
 * rule of the chain (name in its comment), the FORWARD jump or COMMIT. */
static void
assert_restore_input(char *r, unsigned *nrules)
{
	static const char *const fixed[] = { "*mangle", ":TSNATD - [0:0]",
					     "-A FORWARD -j TSNATD", "COMMIT" };
	char *save = NULL;

	*nrules = 0;
	for (char *line = strtok_r(r, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool known = line[0] == '#';

		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			known |= strcmp(line, fixed[i]) == 0;
		if (known)
			continue;
		if (strncmp(line, "-A TSNATD -p tcp ", 17) != 0)
			fail_msg("not a rule of the chain: %s", line);
		assert_comment_is_a_name(line, " -m comment --comment \"", "\" -j NFQUEUE --queue-");
		(*nrules)++;
	}
}

#define REWRITE "policies = ( { name = \"r\"; mode = \"rewrite\"; destinations = \"198.51.100.10\"; } );\n"

/* With offload, what the kernel shifted (marked) and the replies on its
 * connections (connection mark) return before any queue rule. */
static void
offload_rules_return_marked_packets_before_the_queue(void **state)
{
	char *r = rules_for(REWRITE, RULES_IPTABLES);
	char *set = strstr(r, "-m mark --mark 0x10000000/0x10000000 -m connmark ! --mark "
			   "0x10000000/0x10000000 -m comment --comment \"offload\" -j CONNMARK "
			   "--or-mark 0x10000000");
	char *ret = strstr(r, "-m mark --mark 0x10000000/0x10000000 -m comment --comment "
			   "\"offload\" -j RETURN");
	char *reply = strstr(r, "-p tcp ! --tcp-flags SYN SYN -m connmark --mark "
			     "0x10000000/0x10000000 -m conntrack --ctdir REPLY -m comment "
			     "--comment \"offload\" -j RETURN");
	char *queue = strstr(r, "-j NFQUEUE");
	(void)state;

	assert_non_null(set);
	assert_non_null(ret);
	assert_non_null(reply);
	assert_non_null(queue);
	assert_true(set < ret && ret < reply && reply < queue);
	free(r);
}

static void
offload_rules_use_the_configured_mark(void **state)
{
	char *r = rules_for("offload_mark = 256;\n" REWRITE, RULES_IPTABLES);
	char *n = rules_for("offload_mark = 256;\n" REWRITE, RULES_NFT);
	(void)state;

	assert_non_null(strstr(r, "-m mark --mark 0x100/0x100 -m comment"));
	assert_null(strstr(r, "0x10000000"));
	assert_non_null(strstr(n, "\t\tmeta mark and 0x100 == 0x100 ct mark set ct mark or 0x100 "));
	assert_non_null(strstr(n, "\t\tmeta mark and 0x100 == 0x100 return"));
	assert_non_null(strstr(n, "\t\tct direction reply ct mark and 0x100 == 0x100 tcp flags & "
				  "syn == 0 return"));
	free(r);
	free(n);
}

static void
no_offload_lines_in_a_family_without_rules(void **state)
{
	char *r6 = rules_for(REWRITE, RULES_IP6TABLES);
	(void)state;

	assert_null(strstr(r6, "mark"));
	free(r6);
}

static void
no_offload_lines_without_offload_or_rewrite(void **state)
{
	char *off = rules_for("offload = false;\n" REWRITE, RULES_IPTABLES);
	char *strip = rules_for(STRIP, RULES_IPTABLES);
	char *autostrip = rules_for("policies = ( { name = \"a\"; mode = \"auto\"; "
				    "destinations = \"198.51.100.10\"; } );\n", RULES_NFT);
	char *autorw = rules_for("policies = ( { name = \"a\"; mode = \"auto\"; action = "
				 "\"rewrite\"; destinations = \"198.51.100.10\"; } );\n", RULES_NFT);
	(void)state;

	assert_null(strstr(off, "mark"));
	assert_null(strstr(strip, "mark"));
	assert_null(strstr(autostrip, "mark"));
	assert_non_null(strstr(autorw, "ct mark"));
	free(off);
	free(strip);
	free(autostrip);
	free(autorw);
}

static void
iptables_output_is_rules_headers_and_commit_only(void **state)
{
	char *r4 = rules_for(EVERY_KIND, RULES_IPTABLES), *r6 = rules_for(EVERY_KIND, RULES_IP6TABLES);
	unsigned n4, n6;
	(void)state;

	assert_non_null(strstr(r4, "--comment \"abcdefghijklmnopqrstuvwxyz\""));
	assert_non_null(strstr(r6, "--comment \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\""));
	assert_restore_input(r4, &n4);
	assert_restore_input(r6, &n6);
	/* strip: 1 rule; rewrite: 1 source x 1 server x 2 directions */
	assert_int_equal(n4, 3);
	assert_int_equal(n6, 3);
	free(r4);
	free(r6);
}

/* nft -f input: the table and chain lines, then rules ending in the
 * policy name as their comment. */
static void
nft_output_is_rules_and_the_table_only(void **state)
{
	static const char *const fixed[] = { "table inet tsnatd {}", "flush table inet tsnatd",
		"table inet tsnatd {", "\tchain forward {",
		"\t\ttype filter hook forward priority mangle; policy accept;", "\t}", "}" };
	char *r = rules_for(EVERY_KIND, RULES_NFT), *save = NULL;
	unsigned n = 0;
	(void)state;

	for (char *line = strtok_r(r, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool known = line[0] == '#';

		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			known |= strcmp(line, fixed[i]) == 0;
		if (known)
			continue;
		if (strncmp(line, "\t\tip", 4) != 0 || !strstr(line, " queue num 2-3 bypass comment \""))
			fail_msg("not a rule of the chain: %s", line);
		assert_comment_is_a_name(line, " bypass comment \"", "\"");
		assert_int_equal(line[strlen(line) - 1], '"');
		n++;
	}
	assert_int_equal(n, 6);
	free(r);
}

/* A struct conf that did not come from conf_load: a name that would close
 * the comment and add a rule gets no output at all. */
static void
name_the_loader_would_refuse_prints_nothing(void **state)
{
	static const char *const bad[] = { "w\" -j DROP\n-A FORWARD -j DROP\n#", "a b", "",
		"a;b", "tab\there" };
	struct conf *c = conf_from_text(STRIP, NULL);
	char *out = NULL;
	size_t len = 0;
	(void)state;

	assert_non_null(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int kind = RULES_IPTABLES; kind <= RULES_NFT; kind++) {
			FILE *f = open_memstream(&out, &len);

			snprintf(c->pol[0].name, sizeof(c->pol[0].name), "%s", bad[i]);
			assert_int_equal(rules_print(c, (enum rules_kind)kind, "t.conf", f), -1);
			fclose(f);
			assert_int_equal(len, 0);
			free(out);
		}
	}
	conf_free(c);
}

/* The file name is in a comment line: a newline in it must not end it. */
static void
file_name_cannot_start_a_line(void **state)
{
	struct conf *c = conf_from_text(STRIP, NULL);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	(void)state;

	assert_non_null(c);
	assert_int_equal(rules_print(c, RULES_IPTABLES, "x\n-A FORWARD -j DROP\r", f), 0);
	fclose(f);
	assert_null(strstr(out, "\n-A FORWARD -j DROP"));
	assert_non_null(strstr(out, "# tsnatd rules for x?-A FORWARD -j DROP? (generated"));
	free(out);
	conf_free(c);
}


/* --print-rules output loaded twice leaves two jumps; said in its header. */
static void
print_adds_a_jump_every_time_and_says_so(void **state)
{
	char *r = rules_for(STRIP, RULES_IPTABLES);
	(void)state;

	assert_int_equal(count_lines(r, "-A FORWARD -j TSNATD"), 1);
	assert_non_null(strstr(r, "tsnatd --apply-rules only when there is none"));
	free(r);
}

static void
apply_text_adds_the_jump_when_there_is_none(void **state)
{
	char *r = apply_text(STRIP, RULES_IPTABLES, 0);
	(void)state;

	assert_int_equal(count_lines(r, "-A FORWARD -j TSNATD"), 1);
	assert_int_equal(count_lines(r, "-D FORWARD -j TSNATD"), 0);
	free(r);
}

static void
apply_text_adds_no_jump_when_there_is_one(void **state)
{
	char *r = apply_text(STRIP, RULES_IP6TABLES, 1);
	(void)state;

	assert_null(strstr(r, "\n-A FORWARD"));
	assert_null(strstr(r, "\n-D FORWARD"));
	assert_non_null(strstr(r, ":TSNATD - [0:0]"));
	assert_non_null(strstr(r, "COMMIT"));
	free(r);
}

static void
apply_text_deletes_all_jumps_but_one(void **state)
{
	char *r = apply_text(STRIP, RULES_IPTABLES, 3);
	(void)state;

	assert_int_equal(count_lines(r, "-A FORWARD -j TSNATD"), 0);
	assert_int_equal(count_lines(r, "-D FORWARD -j TSNATD"), 2);
	/* inside the one transaction */
	assert_true(strstr(r, "-D FORWARD") > strstr(r, "*mangle"));
	assert_true(strstr(r, "-D FORWARD") < strstr(r, "COMMIT"));
	free(r);
}

/* Apply is built on the very text --print-rules prints: the same lines
 * but for the jump. */
static void
apply_text_is_the_printed_text_but_for_the_jump(void **state)
{
	char *p = rules_for(EVERY_KIND, RULES_IPTABLES), *a = apply_text(EVERY_KIND, RULES_IPTABLES, 1);
	char *jump = strstr(p, "-A FORWARD -j TSNATD\n");
	(void)state;

	assert_non_null(jump);
	memmove(jump, jump + strlen("-A FORWARD -j TSNATD\n"), strlen(jump) - strlen("-A FORWARD -j TSNATD\n") + 1);
	assert_string_equal(p, a);
	free(p);
	free(a);
}

static void
apply_text_for_nft_replaces_the_table_whatever_the_jumps(void **state)
{
	char *p = rules_for(EVERY_KIND, RULES_NFT), *a = apply_text(EVERY_KIND, RULES_NFT, 5);
	(void)state;

	assert_string_equal(p, a);
	assert_true(strstr(a, "table inet tsnatd {}\nflush table inet tsnatd\ntable inet tsnatd {\n") != NULL);
	free(p);
	free(a);
}

/* Every rule of every kind keeps bypass: no listener, packets pass. */
static void
every_applied_rule_has_queue_bypass(void **state)
{
	static const enum rules_kind kinds[] = { RULES_IPTABLES, RULES_IP6TABLES, RULES_NFT };
	(void)state;

	for (size_t k = 0; k < 3; k++) {
		char *r = apply_text(EVERY_KIND, kinds[k], 0), *save = NULL;
		unsigned n = 0;

		for (char *line = strtok_r(r, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (strstr(line, "NFQUEUE") || strstr(line, " queue ")) {
				n++;
				if (!strstr(line, kinds[k] == RULES_NFT ? " bypass " : " --queue-bypass"))
					fail_msg("rule without bypass: %s", line);
			}
		}
		assert_int_equal(n, kinds[k] == RULES_NFT ? 6 : 3);
		free(r);
	}
}

/* rules_families says exactly which families get rule lines. */
static void
families_are_those_the_text_has_rules_for(void **state)
{
	static const char *const confs[] = {
		STRIP, EVERY_KIND,
		"policies = ( { name = \"a\"; mode = \"strip\"; destinations = \"198.51.100.0/24\"; } );\n",
		"policies = ( { name = \"a\"; mode = \"rewrite\"; destinations = \"2001:db8:1::/64\"; } );\n",
		/* IPv4 sources only: no IPv6 client can match, no IPv6 rule */
		("policies = ( { name = \"a\"; mode = \"strip\"; destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ];"
		 " sources = \"192.0.2.0/24\"; } );\n"),
		"policies = ( { name = \"a\"; mode = \"pass\"; destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ]; } );\n",
		"policies = ( { name = \"a\"; mode = \"observe\"; destinations = \"2001:db8:1::/64\"; sources = \"2001:db8:9::/48\"; } );\n",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		char *r4 = rules_for(confs[i], RULES_IPTABLES), *r6 = rules_for(confs[i], RULES_IP6TABLES);
		unsigned f = families_of(confs[i]);

		if (!!(f & RULES_IPV4) != (strstr(r4, "-A TSNATD") != NULL) ||
		    !!(f & RULES_IPV6) != (strstr(r6, "-A TSNATD") != NULL))
			fail_msg("families %u disagree with the text of config %zu", f, i);
		free(r4);
		free(r6);
	}
}

static void
families_of_the_shipped_shape_are_ipv4_only(void **state)
{
	(void)state;
	assert_int_equal(families_of("policies = ( { name = \"a\"; mode = \"strip\";"
				     " destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ];"
				     " sources = \"192.0.2.0/24\"; } );\n"), RULES_IPV4);
	assert_int_equal(families_of(STRIP), RULES_IPV4 | RULES_IPV6);
	assert_int_equal(families_of("policies = ( { name = \"a\"; mode = \"pass\"; destinations = \"198.51.100.0/24\"; } );\n"), 0);
}

#define LISTING_HEAD "-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n"
#define LISTING_RULE "-A TSNATD -d 198.51.100.0/24 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN " \
	"-m comment --comment w -j NFQUEUE --queue-num 0 --queue-bypass\n"

static void
jumps_counts_exact_forward_jumps_only(void **state)
{
	(void)state;
	assert_int_equal(rules_jumps(""), 0);
	assert_int_equal(rules_jumps(LISTING_HEAD), 0);
	assert_int_equal(rules_jumps(LISTING_HEAD "-N TSNATD\n-A FORWARD -j TSNATD\n" LISTING_RULE), 1);
	assert_int_equal(rules_jumps("-A FORWARD -j TSNATD\n-A FORWARD -i eth0 -j TSNATD\n"
				     "-A FORWARD -j TSNATD2\n-A FORWARD -j TSNATD"), 2);
}

static void
remove_text_deletes_every_jump_then_the_chain(void **state)
{
	int n;
	char *r = remove_text(RULES_IPTABLES, LISTING_HEAD "-N TSNATD\n-A PREROUTING -i lan -j TSNATD\n"
			      "-A FORWARD -j TSNATD\n-A FORWARD -j TSNATD\n" LISTING_RULE, &n);
	(void)state;

	assert_true(n > 0);
	assert_string_equal(r, "*mangle\n-D PREROUTING -i lan -j TSNATD\n-D FORWARD -j TSNATD\n"
			    "-D FORWARD -j TSNATD\n-F TSNATD\n-X TSNATD\nCOMMIT\n");
	free(r);
}

static void
remove_text_is_empty_without_the_chain(void **state)
{
	int n;
	char *r = remove_text(RULES_IP6TABLES, LISTING_HEAD "-N OTHER\n-A FORWARD -j OTHER\n", &n);
	(void)state;

	assert_int_equal(n, 0);
	assert_string_equal(r, "");
	free(r);
}

/* Only rules whose target is the chain go: not the chain's own rules,
 * not a chain whose name starts the same, not a comment that names it. */
static void
remove_text_deletes_only_rules_that_target_the_chain(void **state)
{
	int n;
	char *r = remove_text(RULES_IPTABLES, "-N TSNATD\n-N TSNATD2\n-A TSNATD -j TSNATD2\n"
			      "-A FORWARD -j TSNATD2\n-A FORWARD -m comment --comment \"x -j TSNATD\" -j ACCEPT\n"
			      "-A TSNATD -j TSNATD\n-A FORWARD -g TSNATD", &n);
	(void)state;

	assert_string_equal(r, "*mangle\n-D FORWARD -g TSNATD\n-F TSNATD\n-X TSNATD\nCOMMIT\n");
	free(r);
}

/* A listing line longer than the parser reads is not cut into a rule
 * that is not there. */
static void
remove_text_skips_a_line_too_long_to_read_whole(void **state)
{
	size_t len = 6000;
	char *listing = malloc(len + 64);
	int n;
	(void)state;

	snprintf(listing, len + 64, "-N TSNATD\n-A FORWARD -m comment --comment %0*d -j TSNATD\n", (int)len, 7);
	char *r = remove_text(RULES_IPTABLES, listing, &n);
	assert_string_equal(r, "*mangle\n-F TSNATD\n-X TSNATD\nCOMMIT\n");
	free(r);
	free(listing);
}

static void
remove_text_for_nft_deletes_the_listed_table(void **state)
{
	int n;
	char *r = remove_text(RULES_NFT, "table ip mangle\ntable inet tsnatd\n", &n);
	(void)state;

	assert_true(n > 0);
	assert_string_equal(r, "table inet tsnatd {}\ndelete table inet tsnatd\n");
	free(r);
}

static void
remove_text_for_nft_is_empty_without_the_table(void **state)
{
	int n;
	char *r = remove_text(RULES_NFT, "table ip mangle\ntable ip tsnatd\ntable inet tsnatd2\n", &n);
	(void)state;

	assert_int_equal(n, 0);
	assert_string_equal(r, "");
	free(r);
}

#define ALL_TOOLS (RULES_HAVE_IPTABLES | RULES_HAVE_IP6TABLES | RULES_HAVE_NFT)
#define BOTH (RULES_IPV4 | RULES_IPV6)

static void
assert_choice(enum conf_rules setting, unsigned have, unsigned families,
	      enum rules_backend want, const char *error_part)
{
	struct rules_choice ch = rules_choose(setting, have, families);

	assert_int_equal(ch.backend, want);
	if (!error_part)
		assert_null(ch.error);
	else if (!ch.error || !strstr(ch.error, error_part))
		fail_msg("error '%s' lacks '%s'", ch.error ? ch.error : "(none)", error_part);
}

static void
none_chooses_nothing_whatever_is_installed(void **state)
{
	(void)state;
	assert_choice(CONF_RULES_NONE, ALL_TOOLS, BOTH, RULES_BACKEND_NONE, NULL);
	assert_choice(CONF_RULES_NONE, 0, BOTH, RULES_BACKEND_NONE, NULL);
}

static void
auto_prefers_iptables_when_installed(void **state)
{
	(void)state;
	assert_choice(CONF_RULES_AUTO, ALL_TOOLS, BOTH, RULES_BACKEND_IPTABLES, NULL);
	assert_choice(CONF_RULES_AUTO, RULES_HAVE_IPTABLES | RULES_HAVE_IP6TABLES, BOTH,
		      RULES_BACKEND_IPTABLES, NULL);
	assert_choice(CONF_RULES_AUTO, RULES_HAVE_IPTABLES, RULES_IPV4, RULES_BACKEND_IPTABLES, NULL);
}

static void
auto_takes_nft_without_iptables(void **state)
{
	(void)state;
	assert_choice(CONF_RULES_AUTO, RULES_HAVE_NFT, BOTH, RULES_BACKEND_NFT, NULL);
	assert_choice(CONF_RULES_AUTO, RULES_HAVE_NFT | RULES_HAVE_IP6TABLES, RULES_IPV4,
		      RULES_BACKEND_NFT, NULL);
}

static void
auto_takes_nft_when_ipv6_rules_lack_ip6tables(void **state)
{
	(void)state;
	assert_choice(CONF_RULES_AUTO, RULES_HAVE_IPTABLES | RULES_HAVE_NFT, BOTH, RULES_BACKEND_NFT, NULL);
	assert_choice(CONF_RULES_AUTO, RULES_HAVE_IPTABLES | RULES_HAVE_NFT, RULES_IPV4,
		      RULES_BACKEND_IPTABLES, NULL);
}

static void
auto_without_tools_fails_and_points_at_none(void **state)
{
	(void)state;
	assert_choice(CONF_RULES_AUTO, 0, RULES_IPV4, RULES_BACKEND_NONE, "rules = \"none\"");
	assert_choice(CONF_RULES_AUTO, RULES_HAVE_IPTABLES, BOTH, RULES_BACKEND_NONE, "neither iptables");
}

static void
iptables_setting_needs_iptables_even_with_nft(void **state)
{
	(void)state;
	assert_choice(CONF_RULES_IPTABLES, RULES_HAVE_NFT | RULES_HAVE_IP6TABLES, RULES_IPV4,
		      RULES_BACKEND_NONE, "iptables or iptables-restore is not in PATH");
	assert_choice(CONF_RULES_IPTABLES, RULES_HAVE_IPTABLES, RULES_IPV4, RULES_BACKEND_IPTABLES, NULL);
}

static void
iptables_setting_with_ipv6_rules_needs_ip6tables(void **state)
{
	(void)state;
	assert_choice(CONF_RULES_IPTABLES, RULES_HAVE_IPTABLES | RULES_HAVE_NFT, BOTH,
		      RULES_BACKEND_NONE, "ip6tables");
	assert_choice(CONF_RULES_IPTABLES, RULES_HAVE_IPTABLES | RULES_HAVE_IP6TABLES, RULES_IPV6,
		      RULES_BACKEND_IPTABLES, NULL);
}

static void
nft_setting_needs_nft_even_with_iptables(void **state)
{
	(void)state;
	assert_choice(CONF_RULES_NFT, RULES_HAVE_IPTABLES | RULES_HAVE_IP6TABLES, BOTH,
		      RULES_BACKEND_NONE, "nft is not in PATH");
	assert_choice(CONF_RULES_NFT, ALL_TOOLS, BOTH, RULES_BACKEND_NFT, NULL);
}

static void
rules_key_defaults_to_auto_and_takes_every_name(void **state)
{
	static const char *const names[] = { "auto", "iptables", "nft", "none" };
	static const enum conf_rules want[] = { CONF_RULES_AUTO, CONF_RULES_IPTABLES, CONF_RULES_NFT,
						CONF_RULES_NONE };
	char text[256];
	struct conf *c = conf_from_text(STRIP, NULL);
	(void)state;

	assert_non_null(c);
	assert_int_equal(c->rules, CONF_RULES_AUTO);
	conf_free(c);
	for (size_t i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "rules = \"%s\";\n" STRIP, names[i]);
		c = conf_from_text(text, NULL);
		assert_non_null(c);
		assert_int_equal(c->rules, want[i]);
		conf_free(c);
	}
	assert_null(conf_from_text("rules = \"ip6tables\";\n" STRIP, NULL));
}

static void
rule_kinds_parse(void **state)
{
	(void)state;
	assert_int_equal(rules_kind_parse("iptables"), RULES_IPTABLES);
	assert_int_equal(rules_kind_parse("ip6tables"), RULES_IP6TABLES);
	assert_int_equal(rules_kind_parse("nft"), RULES_NFT);
	assert_int_equal(rules_kind_parse("pf"), -1);
}

/* The nft text that removes iptables-nft's rules, and what it returned. */
static char *
compat_text(enum rules_kind kind, const char *listing, int *n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	*n = rules_print_remove_compat(kind, listing, f);
	fclose(f);
	return out;
}

#define COMPAT_CHAIN "table ip mangle { # handle 1\n\tchain TSNATD { # handle 1\n" \
	"\t\tip daddr 198.51.100.0/24 counter packets 0 bytes 0 queue num 0 bypass # handle 2\n\t}\n"
#define COMPAT_FORWARD(jumps) "\tchain FORWARD { # handle 3\n" \
	"\t\ttype filter hook forward priority mangle; policy accept;\n" jumps "\t}\n}\n"

static void
compat_remove_deletes_each_jump_by_handle_then_the_chain(void **state)
{
	int n;
	char *t = compat_text(RULES_IPTABLES, COMPAT_CHAIN COMPAT_FORWARD(
		"\t\tcounter packets 0 bytes 0 jump TSNATD # handle 4\n"
		"\t\tip saddr 192.0.2.0/24 counter packets 0 bytes 0 jump TSNATD # handle 9\n"), &n);

	(void)state;
	assert_int_equal(n, 3);
	assert_string_equal(t, "delete rule ip mangle FORWARD handle 4\n"
			    "delete rule ip mangle FORWARD handle 9\n"
			    "flush chain ip mangle TSNATD\ndelete chain ip mangle TSNATD\n");
	free(t);
}

static void
compat_remove_names_the_ip6_family(void **state)
{
	int n;
	char *t = compat_text(RULES_IP6TABLES, "table ip6 mangle {\n\tchain TSNATD {\n\t}\n"
			      "\tchain OUTPUT {\n\t\tgoto TSNATD # handle 7\n\t}\n}\n", &n);

	(void)state;
	assert_int_equal(n, 2);
	assert_string_equal(t, "delete rule ip6 mangle OUTPUT handle 7\n"
			    "flush chain ip6 mangle TSNATD\ndelete chain ip6 mangle TSNATD\n");
	free(t);
}

static void
compat_remove_without_the_chain_writes_nothing(void **state)
{
	int n;
	char *t = compat_text(RULES_IPTABLES, "table ip mangle {\n" COMPAT_FORWARD(
		"\t\tcounter packets 0 bytes 0 jump OTHER # handle 4\n"), &n);

	(void)state;
	assert_int_equal(n, 0);
	assert_string_equal(t, "");
	free(t);
}

static void
compat_remove_ignores_rules_inside_the_chain_and_lookalike_chains(void **state)
{
	int n;
	char *t = compat_text(RULES_IPTABLES, COMPAT_CHAIN COMPAT_FORWARD(
		"\t\tjump TSNATD2 # handle 5\n\t\tcounter jump TSNATD # handle 6\n"), &n);

	(void)state;
	assert_int_equal(n, 2);
	assert_null(strstr(t, "handle 5"));
	assert_null(strstr(t, "handle 2"));
	assert_non_null(strstr(t, "delete rule ip mangle FORWARD handle 6\n"));
	free(t);
}

static void
compat_remove_refuses_a_chain_name_nft_could_not_take_back(void **state)
{
	int n;
	char *t = compat_text(RULES_IPTABLES, COMPAT_CHAIN "\tchain \"we ird\" {\n"
			      "\t\tjump TSNATD # handle 8\n\t}\n}\n", &n);

	(void)state;
	assert_int_equal(n, -1);
	assert_string_equal(t, "");
	free(t);
}

static void
nft_hint_names_the_missing_queue_expression(void **state)
{
	const char *h = rules_nft_hint("/dev/stdin:8:88-92: Error: Could not process rule: "
				       "No such file or directory\n\t\tip daddr 198.51.100.0/24 "
				       "queue num 0 bypass comment \"w\"\n\t\t^^^^^\n");

	(void)state;
	assert_non_null(h);
	assert_non_null(strstr(h, "nft_queue"));
	assert_non_null(strstr(h, "CONFIG_NFT_QUEUE"));
	assert_non_null(strstr(h, "rules = \"iptables\""));
}

static void
nft_hint_is_null_for_other_errors(void **state)
{
	(void)state;
	assert_null(rules_nft_hint(""));
	assert_null(rules_nft_hint("Error: Could not process rule: Operation not permitted\n"
				   "\t\tqueue num 0 bypass\n"));
	assert_null(rules_nft_hint("Error: Could not process rule: No such file or directory\n"
				   "\t\tip daddr 198.51.100.0/24 ct mark set 1\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strip_queues_only_client_syns),
		cmocka_unit_test(ipv6_rules_go_to_ip6tables),
		cmocka_unit_test(several_queues_use_queue_balance),
		cmocka_unit_test(rewrite_queues_both_directions),
		cmocka_unit_test(observe_and_auto_queue_what_they_need),
		cmocka_unit_test(pass_policy_queues_nothing),
		cmocka_unit_test(nft_rules_have_bypass_and_both_families),
		cmocka_unit_test(sources_appear_in_rules),
		cmocka_unit_test(offload_rules_return_marked_packets_before_the_queue),
		cmocka_unit_test(offload_rules_use_the_configured_mark),
		cmocka_unit_test(no_offload_lines_without_offload_or_rewrite),
		cmocka_unit_test(no_offload_lines_in_a_family_without_rules),
		cmocka_unit_test(iptables_output_is_rules_headers_and_commit_only),
		cmocka_unit_test(nft_output_is_rules_and_the_table_only),
		cmocka_unit_test(name_the_loader_would_refuse_prints_nothing),
		cmocka_unit_test(file_name_cannot_start_a_line),
		cmocka_unit_test(rule_kinds_parse),
		cmocka_unit_test(print_adds_a_jump_every_time_and_says_so),
		cmocka_unit_test(apply_text_adds_the_jump_when_there_is_none),
		cmocka_unit_test(apply_text_adds_no_jump_when_there_is_one),
		cmocka_unit_test(apply_text_deletes_all_jumps_but_one),
		cmocka_unit_test(apply_text_is_the_printed_text_but_for_the_jump),
		cmocka_unit_test(apply_text_for_nft_replaces_the_table_whatever_the_jumps),
		cmocka_unit_test(every_applied_rule_has_queue_bypass),
		cmocka_unit_test(families_are_those_the_text_has_rules_for),
		cmocka_unit_test(families_of_the_shipped_shape_are_ipv4_only),
		cmocka_unit_test(jumps_counts_exact_forward_jumps_only),
		cmocka_unit_test(compat_remove_deletes_each_jump_by_handle_then_the_chain),
		cmocka_unit_test(compat_remove_names_the_ip6_family),
		cmocka_unit_test(compat_remove_without_the_chain_writes_nothing),
		cmocka_unit_test(compat_remove_ignores_rules_inside_the_chain_and_lookalike_chains),
		cmocka_unit_test(compat_remove_refuses_a_chain_name_nft_could_not_take_back),
		cmocka_unit_test(nft_hint_names_the_missing_queue_expression),
		cmocka_unit_test(nft_hint_is_null_for_other_errors),
		cmocka_unit_test(remove_text_deletes_every_jump_then_the_chain),
		cmocka_unit_test(remove_text_is_empty_without_the_chain),
		cmocka_unit_test(remove_text_deletes_only_rules_that_target_the_chain),
		cmocka_unit_test(remove_text_skips_a_line_too_long_to_read_whole),
		cmocka_unit_test(remove_text_for_nft_deletes_the_listed_table),
		cmocka_unit_test(remove_text_for_nft_is_empty_without_the_table),
		cmocka_unit_test(none_chooses_nothing_whatever_is_installed),
		cmocka_unit_test(auto_prefers_iptables_when_installed),
		cmocka_unit_test(auto_takes_nft_without_iptables),
		cmocka_unit_test(auto_takes_nft_when_ipv6_rules_lack_ip6tables),
		cmocka_unit_test(auto_without_tools_fails_and_points_at_none),
		cmocka_unit_test(iptables_setting_needs_iptables_even_with_nft),
		cmocka_unit_test(iptables_setting_with_ipv6_rules_needs_ip6tables),
		cmocka_unit_test(nft_setting_needs_nft_even_with_iptables),
		cmocka_unit_test(rules_key_defaults_to_auto_and_takes_every_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
