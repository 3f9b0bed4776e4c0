/* test_rules.c - --print-rules output. */
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
			     "0x10000000/0x10000000 -m comment --comment \"offload\" -j RETURN");
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
	char *r = rules_for("offload_mark = 256;\n" REWRITE, RULES_IP6TABLES);
	char *n = rules_for("offload_mark = 256;\n" REWRITE, RULES_NFT);
	(void)state;

	assert_non_null(strstr(r, "-m mark --mark 0x100/0x100 -m comment"));
	assert_null(strstr(r, "0x10000000"));
	assert_non_null(strstr(n, "\t\tmeta mark and 0x100 == 0x100 ct mark set ct mark or 0x100 "));
	assert_non_null(strstr(n, "\t\tmeta mark and 0x100 == 0x100 return"));
	assert_non_null(strstr(n, "\t\tct mark and 0x100 == 0x100 tcp flags & syn == 0 return"));
	free(r);
	free(n);
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

static void
rule_kinds_parse(void **state)
{
	(void)state;
	assert_int_equal(rules_kind_parse("iptables"), RULES_IPTABLES);
	assert_int_equal(rules_kind_parse("ip6tables"), RULES_IP6TABLES);
	assert_int_equal(rules_kind_parse("nft"), RULES_NFT);
	assert_int_equal(rules_kind_parse("pf"), -1);
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
		cmocka_unit_test(iptables_output_is_rules_headers_and_commit_only),
		cmocka_unit_test(nft_output_is_rules_and_the_table_only),
		cmocka_unit_test(name_the_loader_would_refuse_prints_nothing),
		cmocka_unit_test(file_name_cannot_start_a_line),
		cmocka_unit_test(rule_kinds_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
