/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_rulesapply.c - --apply-rules and --remove-rules against fake tools:
 * shell scripts named iptables, iptables-restore, ip6tables,
 * ip6tables-restore and nft in a temporary directory that is the whole
 * PATH. Each records its command line, prints a listing the test wrote
 * (iptables -S, nft list tables, nft -a list table ip mangle), keeps
 * what it was fed on its standard input, prints what the test wrote as
 * its error output and exits with the status the test chose. /proc/net's
 * legacy table lists are read from the directory too (fopen wrapped).
 * No root, no network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "confutil.h"
#include "rules.h"
#include "rulesapply.h"

static char dir[64];

static const char *const all_tools[] = { "iptables", "iptables-restore", "ip6tables",
					 "ip6tables-restore", "nft", NULL };

static void
put(const char *name, const char *text, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* The file's contents, "" if it does not exist (caller frees). */
static char *
got(const char *name)
{
	char path[128], *buf;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r")))
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static bool
exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static bool
got_has(const char *name, const char *needle)
{
	char *s = got(name);
	bool yes = strstr(s, needle) != NULL;

	free(s);
	return yes;
}

/* The tools named (NULL-terminated), all the same script. */
static void
fake_tools(const char *const *names)
{
	char script[1024];

	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "PATH=/usr/bin:/bin; D=%s; n=${0##*/}\n"
		 "echo \"$n $*\" >>\"$D/calls\"\n"
		 "[ -f \"$D/early-$n\" ] && exit 5\n"
		 "case \" $* \" in\n"
		 "*\" -a list table \"*) f=\"$D/list-$n-$4-$5\"; [ -f \"$f\" ] && cat \"$f\" ;;\n"
		 "*\" -S \"*|*\" list \"*) [ -f \"$D/list-$n\" ] && cat \"$D/list-$n\" ;;\n"
		 "*) cat >>\"$D/in-$n\"; [ -f \"$D/stderr-$n\" ] && cat \"$D/stderr-$n\" >&2 ;;\n"
		 "esac\n"
		 "[ -f \"$D/rc-$n\" ] && exit \"$(cat \"$D/rc-$n\")\"\n"
		 "exit 0\n", dir);
	for (; *names; names++)
		put(*names, script, 0755);
}

FILE *__real_fopen(const char *path, const char *mode);

/* /proc/net/ip_tables_names and ip6_tables_names: the test's files
 * proc-ip_tables_names... in the directory (absent: x_tables not loaded). */
FILE *
__wrap_fopen(const char *path, const char *mode)
{
	char fake[128];

	if (strncmp(path, "/proc/net/", 10) == 0) {
		snprintf(fake, sizeof(fake), "%s/proc-%s", dir, path + 10);
		return __real_fopen(fake, mode);
	}
	return __real_fopen(path, mode);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tsnatd-rulesapply-XXXXXX");
	assert_non_null(mkdtemp(dir));
	setenv("PATH", dir, 1);
	return 0;
}

static int
teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	(void)state;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			assert_int_equal(unlinkat(dirfd(d), e->d_name, 0), 0);
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
	return 0;
}

/* IPv4 and IPv6 strip rules; the shipped shape (IPv4 sources) has IPv4
 * rules only. */
#define BOTH_FAMILIES "policies = ( { name = \"w\"; mode = \"strip\";" \
	" destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ]; } );\n"
#define IPV4_ONLY "policies = ( { name = \"w\"; mode = \"strip\";" \
	" destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ]; sources = \"192.0.2.0/24\"; } );\n"

struct result {
	int rc;
	char *out, *err;
};

static struct result
run_with(const char *conftext, int (*fn)(const struct conf *, const char *, FILE *, FILE *))
{
	struct conf *c = conf_from_text(conftext, NULL);
	struct result r = { 0 };
	size_t lo = 0, le = 0;
	FILE *out = open_memstream(&r.out, &lo), *err = open_memstream(&r.err, &le);

	assert_non_null(c);
	r.rc = fn(c, "test.conf", out, err);
	fclose(out);
	fclose(err);
	conf_free(c);
	return r;
}

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

#define TSNATD_THERE "-P FORWARD ACCEPT\n-N TSNATD\n-A FORWARD -j TSNATD\n" \
	"-A TSNATD -d 198.51.100.0/24 -p tcp -j NFQUEUE --queue-num 0 --queue-bypass\n"

static void
apply_adds_the_jump_when_there_is_none(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	r = run_with(BOTH_FAMILIES, rules_apply);
	assert_int_equal(r.rc, 0);
	assert_true(got_has("in-iptables-restore", "\n-A FORWARD -j TSNATD\nCOMMIT\n"));
	assert_true(got_has("in-iptables-restore", "-d 198.51.100.0/24 --syn"));
	assert_true(got_has("in-ip6tables-restore", "\n-A FORWARD -j TSNATD\nCOMMIT\n"));
	assert_true(got_has("in-ip6tables-restore", "-d 2001:db8:1::/64 --syn"));
	assert_true(got_has("calls", "iptables-restore -w 10 --noflush\n"));
	assert_true(got_has("calls", "iptables -w 10 -t mangle -S\n"));
	assert_non_null(strstr(r.out, "iptables: chain TSNATD of table mangle replaced; jump from FORWARD added"));
	result_free(&r);
}

static void
apply_keeps_the_one_jump_there_is(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("list-iptables", TSNATD_THERE, 0644);
	r = run_with(IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, 0);
	assert_false(got_has("in-iptables-restore", "FORWARD -j"));
	assert_true(got_has("in-iptables-restore", ":TSNATD - [0:0]"));
	assert_non_null(strstr(r.out, "its jump from FORWARD kept"));
	result_free(&r);
}

static void
apply_leaves_one_of_several_jumps(void **state)
{
	struct result r;
	char *in;
	(void)state;

	fake_tools(all_tools);
	put("list-iptables", TSNATD_THERE "-A FORWARD -j TSNATD\n-A FORWARD -j TSNATD\n", 0644);
	r = run_with(IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, 0);
	in = got("in-iptables-restore");
	assert_non_null(strstr(in, "-D FORWARD -j TSNATD\n-D FORWARD -j TSNATD\nCOMMIT\n"));
	assert_null(strstr(in, "-A FORWARD"));
	free(in);
	result_free(&r);
}

/* A configuration that lost its IPv6 rules loses the ip6tables chain. */
static void
apply_removes_the_chain_of_a_family_without_rules(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("list-ip6tables", TSNATD_THERE, 0644);
	r = run_with(IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, 0);
	assert_true(got_has("in-ip6tables-restore",
			    "*mangle\n-D FORWARD -j TSNATD\n-F TSNATD\n-X TSNATD\nCOMMIT\n"));
	assert_non_null(strstr(r.out, "ip6tables: removed chain TSNATD"));
	result_free(&r);
}

static void
apply_with_iptables_removes_tsnatds_nft_table(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("list-nft", "table ip mangle\ntable inet tsnatd\n", 0644);
	r = run_with(IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, 0);
	assert_true(got_has("calls", "nft list tables\n"));
	assert_true(got_has("in-nft", "table inet tsnatd {}\ndelete table inet tsnatd\n"));
	result_free(&r);
}

static void
apply_with_nft_replaces_the_table_and_removes_the_iptables_chains(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("list-iptables", TSNATD_THERE, 0644);
	r = run_with("rules = \"nft\";\n" BOTH_FAMILIES, rules_apply);
	assert_int_equal(r.rc, 0);
	assert_true(got_has("calls", "nft -f -\n"));
	assert_true(got_has("in-nft", "table inet tsnatd {}\nflush table inet tsnatd\ntable inet tsnatd {\n"));
	assert_true(got_has("in-nft", "queue num 0 bypass"));
	assert_true(got_has("in-iptables-restore", "-X TSNATD"));
	/* nothing of tsnatd's in ip6tables: nothing loaded there */
	assert_false(got_has("calls", "ip6tables-restore"));
	result_free(&r);
}

static void
apply_reports_a_failing_loader_with_its_status(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("rc-iptables-restore", "2\n", 0644);
	r = run_with(IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "`iptables-restore --noflush` exited with status 2"));
	/* it stops there: nothing else was changed */
	assert_false(got_has("calls", "nft"));
	result_free(&r);
}

/* A loader that exits without reading its input (more than a pipe holds)
 * must not take tsnatd down with SIGPIPE: its status is reported. */
static void
loader_that_stops_reading_is_reported_not_fatal(void **state)
{
	size_t cap = 64 * 3000 + 256, len;
	char *text = malloc(cap);
	struct result r;
	(void)state;

	len = (size_t)snprintf(text, cap, "policies = ( { name = \"w\"; mode = \"strip\"; destinations = [ ");
	for (int i = 0; i < 3000; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s\"198.51.100.%d\"", i ? ", " : "", i % 256);
	snprintf(text + len, cap - len, " ]; } );\n");
	fake_tools(all_tools);
	put("early-iptables-restore", "", 0644);
	r = run_with(text, rules_apply);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "`iptables-restore --noflush` exited with status 5"));
	result_free(&r);
	free(text);
}

static void
apply_fails_when_a_family_with_rules_cannot_be_listed(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("rc-iptables", "4\n", 0644);
	r = run_with(IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "`iptables -t mangle -S` exited with status 4"));
	assert_false(got_has("calls", "iptables-restore"));
	result_free(&r);
}

/* ip6tables on a host without IPv6 cannot list: no IPv6 rules, no error. */
static void
apply_only_warns_when_a_family_without_rules_cannot_be_listed(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("rc-ip6tables", "3\n", 0644);
	r = run_with(IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.err, "warning: `ip6tables -t mangle -S` exited with status 3"));
	assert_true(got_has("in-iptables-restore", "-A FORWARD -j TSNATD"));
	result_free(&r);
}

static void
apply_without_any_tool_fails_and_runs_nothing(void **state)
{
	struct result r;
	(void)state;

	r = run_with(IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "test.conf: rules = \"auto\", but neither iptables"));
	assert_false(exists("calls"));
	result_free(&r);
}

static void
remove_deletes_the_chains_and_the_table_everywhere(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("list-iptables", TSNATD_THERE, 0644);
	put("list-ip6tables", TSNATD_THERE "-A FORWARD -j TSNATD\n", 0644);
	put("list-nft", "table inet tsnatd\n", 0644);
	r = run_with(IPV4_ONLY, rules_remove);
	assert_int_equal(r.rc, 0);
	assert_true(got_has("in-iptables-restore", "-D FORWARD -j TSNATD\n-F TSNATD\n-X TSNATD\n"));
	assert_true(got_has("in-ip6tables-restore",
			    "-D FORWARD -j TSNATD\n-D FORWARD -j TSNATD\n-F TSNATD\n-X TSNATD\n"));
	assert_true(got_has("in-nft", "delete table inet tsnatd\n"));
	result_free(&r);
}

static void
remove_with_nothing_there_loads_nothing(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("list-iptables", "-P FORWARD ACCEPT\n", 0644);
	r = run_with(BOTH_FAMILIES, rules_remove);
	assert_int_equal(r.rc, 0);
	assert_false(got_has("calls", "restore"));
	assert_false(got_has("calls", "nft -f"));
	assert_non_null(strstr(r.out, "no tsnatd rules to remove"));
	result_free(&r);
}

static void
remove_fails_when_the_chosen_tool_cannot_list(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("rc-iptables", "4\n", 0644);
	r = run_with(IPV4_ONLY, rules_remove);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "`iptables -t mangle -S` exited with status 4"));
	result_free(&r);
}

static void
none_runs_no_tool(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("list-iptables", TSNATD_THERE, 0644);
	r = run_with("rules = \"none\";\n" BOTH_FAMILIES, rules_apply);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "rules = \"none\": no rules applied"));
	result_free(&r);
	r = run_with("rules = \"none\";\n" BOTH_FAMILIES, rules_remove);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "rules = \"none\": no rules removed"));
	result_free(&r);
	assert_false(exists("calls"));
}

static void
tools_need_their_restore_commands_too(void **state)
{
	static const char *const some[] = { "iptables", "ip6tables", "ip6tables-restore", NULL };
	(void)state;

	fake_tools(some);
	assert_int_equal(rules_tools_find(dir), RULES_HAVE_IP6TABLES);
	fake_tools(all_tools);
	assert_int_equal(rules_tools_find(dir),
			 RULES_HAVE_IPTABLES | RULES_HAVE_IP6TABLES | RULES_HAVE_NFT);
}

/* Relative and empty PATH entries are skipped, and so is a file that is
 * not executable. */
static void
tools_are_found_in_absolute_directories_only(void **state)
{
	static const char *const nft[] = { "nft", NULL };
	char path[160];
	(void)state;

	fake_tools(nft);
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(rules_tools_find("::.:tsnatd-nowhere"), 0);
	snprintf(path, sizeof(path), "/nonexistent:%s", dir);
	assert_int_equal(rules_tools_find(path), RULES_HAVE_NFT);
	chmod("nft", 0644);
	assert_int_equal(rules_tools_find(path), 0);
	assert_int_equal(chdir("/"), 0);
}

/* What `nft -a list table ip mangle` shows of iptables-nft's rules. */
#define COMPAT_LISTING "table ip mangle { # handle 1\n" \
	"\tchain TSNATD { # handle 1\n" \
	"\t\tip daddr 198.51.100.0/24 counter packets 0 bytes 0 queue num 0 bypass # handle 2\n" \
	"\t}\n\n\tchain FORWARD { # handle 3\n" \
	"\t\ttype filter hook forward priority mangle; policy accept;\n" \
	"\t\tcounter packets 0 bytes 0 jump TSNATD # handle 4\n\t}\n}\n"

/* Issue 20: with iptables missing from PATH, remove said "no tsnatd rules
 * to remove" while iptables-nft's rules were loaded. */
static void
remove_without_iptables_removes_iptables_nft_rules_with_nft(void **state)
{
	static const char *const nft_only[] = { "nft", NULL };
	struct result r;
	(void)state;

	fake_tools(nft_only);
	put("list-nft", "table ip mangle\ntable ip6 mangle\n", 0644);
	put("list-nft-ip-mangle", COMPAT_LISTING, 0644);
	put("list-nft-ip6-mangle", "table ip6 mangle { # handle 2\n}\n", 0644);
	r = run_with(IPV4_ONLY, rules_remove);
	assert_int_equal(r.rc, 0);
	assert_true(got_has("calls", "nft -a list table ip mangle\n"));
	assert_true(got_has("in-nft", "delete rule ip mangle FORWARD handle 4\n"
			    "flush chain ip mangle TSNATD\ndelete chain ip mangle TSNATD\n"));
	assert_false(got_has("in-nft", "ip6"));
	assert_non_null(strstr(r.out, "with nft (iptables is not in PATH)"));
	assert_null(strstr(r.out, "no tsnatd rules to remove"));
	result_free(&r);
}

static void
remove_without_iptables_and_nothing_in_nft_says_none(void **state)
{
	static const char *const nft_only[] = { "nft", NULL };
	struct result r;
	(void)state;

	fake_tools(nft_only);
	put("list-nft", "table inet filter\n", 0644);
	r = run_with(IPV4_ONLY, rules_remove);
	assert_int_equal(r.rc, 0);
	assert_false(got_has("calls", "-a list table"));
	assert_non_null(strstr(r.out, "no tsnatd rules to remove"));
	result_free(&r);
}

static void
remove_without_iptables_or_nft_fails_saying_what_it_could_not_check(void **state)
{
	static const char *const none[] = { NULL };
	struct result r;
	(void)state;

	fake_tools(none);
	r = run_with(IPV4_ONLY, rules_remove);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "neither iptables nor nft is in PATH"));
	assert_non_null(strstr(r.err, "could not be checked"));
	assert_null(strstr(r.out, "no tsnatd rules to remove"));
	result_free(&r);
}

static void
remove_without_iptables_fails_when_iptables_legacy_holds_a_mangle_table(void **state)
{
	static const char *const nft_only[] = { "nft", NULL };
	struct result r;
	(void)state;

	fake_tools(nft_only);
	put("list-nft", "", 0644);
	put("proc-ip_tables_names", "filter\nmangle\n", 0644);
	r = run_with(IPV4_ONLY, rules_remove);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "iptables-legacy holds a table mangle"));
	assert_null(strstr(r.out, "no tsnatd rules to remove"));
	result_free(&r);
}

static void
remove_goes_on_with_the_other_tools_after_one_fails(void **state)
{
	static const char *const no_ipt[] = { "ip6tables", "ip6tables-restore", "nft", NULL };
	struct result r;
	(void)state;

	fake_tools(no_ipt);
	put("proc-ip_tables_names", "mangle\n", 0644);
	put("list-ip6tables", TSNATD_THERE, 0644);
	r = run_with(BOTH_FAMILIES, rules_remove);
	assert_int_equal(r.rc, -1);
	assert_true(got_has("in-ip6tables-restore", "-X TSNATD"));
	result_free(&r);
}

static void
remove_with_rules_nft_and_no_nft_fails(void **state)
{
	static const char *const ipt_only[] = { "iptables", "iptables-restore", "ip6tables",
						"ip6tables-restore", NULL };
	struct result r;
	(void)state;

	fake_tools(ipt_only);
	r = run_with("rules = \"nft\";\n" IPV4_ONLY, rules_remove);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "table inet tsnatd could not be checked"));
	result_free(&r);
}

/* Issue 20: nft's bare "No such file or directory" on a kernel without
 * CONFIG_NFT_QUEUE. */
#define NFT_NO_QUEUE "/dev/stdin:8:88-92: Error: Could not process rule: No such file or directory\n" \
	"\t\tip daddr 198.51.100.0/24 meta l4proto tcp tcp flags & (syn | ack | fin | rst) == syn " \
	"queue num 0 bypass comment \"w\"\n\t\t^^^^^\n"

static void
apply_with_nft_on_a_kernel_without_queue_says_what_is_missing(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("stderr-nft", NFT_NO_QUEUE, 0644);
	put("rc-nft", "1\n", 0644);
	r = run_with("rules = \"nft\";\n" IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "Could not process rule"));	/* nft's own, kept */
	assert_non_null(strstr(r.err, "nft_queue"));
	assert_non_null(strstr(r.err, "CONFIG_NFT_QUEUE"));
	assert_non_null(strstr(r.err, "rules = \"iptables\" works instead"));
	/* nft's message first, then its status, then what it means */
	assert_true(strstr(r.err, "Could not process") < strstr(r.err, "exited with status 1"));
	assert_true(strstr(r.err, "exited with status 1") < strstr(r.err, "nft_queue"));
	result_free(&r);
}

static void
apply_with_nft_failing_otherwise_gets_no_queue_hint(void **state)
{
	struct result r;
	(void)state;

	fake_tools(all_tools);
	put("stderr-nft", "Error: Could not process rule: Operation not permitted\n", 0644);
	put("rc-nft", "1\n", 0644);
	r = run_with("rules = \"nft\";\n" IPV4_ONLY, rules_apply);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "Operation not permitted"));
	assert_null(strstr(r.err, "nft_queue"));
	result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(apply_adds_the_jump_when_there_is_none, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_keeps_the_one_jump_there_is, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_leaves_one_of_several_jumps, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_removes_the_chain_of_a_family_without_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_with_iptables_removes_tsnatds_nft_table, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_with_nft_replaces_the_table_and_removes_the_iptables_chains,
						setup, teardown),
		cmocka_unit_test_setup_teardown(apply_reports_a_failing_loader_with_its_status, setup, teardown),
		cmocka_unit_test_setup_teardown(loader_that_stops_reading_is_reported_not_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_fails_when_a_family_with_rules_cannot_be_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_only_warns_when_a_family_without_rules_cannot_be_listed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(apply_without_any_tool_fails_and_runs_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_deletes_the_chains_and_the_table_everywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_with_nothing_there_loads_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_fails_when_the_chosen_tool_cannot_list, setup, teardown),
		cmocka_unit_test_setup_teardown(none_runs_no_tool, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_without_iptables_removes_iptables_nft_rules_with_nft,
						setup, teardown),
		cmocka_unit_test_setup_teardown(remove_without_iptables_and_nothing_in_nft_says_none,
						setup, teardown),
		cmocka_unit_test_setup_teardown(remove_without_iptables_or_nft_fails_saying_what_it_could_not_check,
						setup, teardown),
		cmocka_unit_test_setup_teardown(remove_without_iptables_fails_when_iptables_legacy_holds_a_mangle_table,
						setup, teardown),
		cmocka_unit_test_setup_teardown(remove_goes_on_with_the_other_tools_after_one_fails,
						setup, teardown),
		cmocka_unit_test_setup_teardown(remove_with_rules_nft_and_no_nft_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_with_nft_on_a_kernel_without_queue_says_what_is_missing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(apply_with_nft_failing_otherwise_gets_no_queue_hint,
						setup, teardown),
		cmocka_unit_test_setup_teardown(tools_need_their_restore_commands_too, setup, teardown),
		cmocka_unit_test_setup_teardown(tools_are_found_in_absolute_directories_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
