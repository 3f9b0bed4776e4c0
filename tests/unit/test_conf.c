/* test_conf.c - configuration parsing, defaults and file:line errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>

#include "conf_int.h"
#include "confutil.h"

#define POLICY "policies = ( { name = \"p\"; mode = \"strip\"; destinations = [ \"198.51.100.0/24\" ]; } );\n"

/* The error text must name the file's line. */
static void
assert_error_at(const char *text, int line, const char *needle)
{
	char *errs = NULL, want[32];
	struct conf *c = conf_from_text(text, &errs);

	assert_null(c);
	snprintf(want, sizeof(want), ":%d: ", line);
	if (!strstr(errs, want) || !strstr(errs, needle))
		fail_msg("expected line %d and '%s' in: %s", line, needle, errs);
	free(errs);
}

static void
minimal_config_gets_defaults(void **state)
{
	struct conf *c = conf_from_text(POLICY, NULL);
	(void)state;

	assert_non_null(c);
	assert_true(c->enabled);
	assert_int_equal(c->log_level, LOG_INFO);
	assert_int_equal(c->queue_first, 0);
	assert_int_equal(c->queue_count, 1);
	assert_int_equal(c->queue_maxlen, 8192);
	assert_int_equal(c->npol, 1);
	assert_true(c->pol[0].ts_auto);
	assert_int_equal(c->pol[0].mode, MODE_STRIP);
	conf_free(c);
}

static void
full_example_shape_is_accepted(void **state)
{
	struct conf *c = conf_from_text(
		"enabled = false;\nlog_level = \"debug\";\n"
		"queue = { first = 10; count = 2; maxlen = 100; };\n"
		"policies = (\n { name = \"legacy-web\"; mode = \"strip\";\n"
		"  destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ];\n"
		"  sources = [ \"192.0.2.0/24\" ];\n  translated_source = \"198.51.100.1\"; }\n);\n", NULL);
	(void)state;

	assert_non_null(c);
	assert_false(c->enabled);
	assert_int_equal(c->log_level, LOG_DEBUG);
	assert_int_equal(c->queue_first, 10);
	assert_int_equal(c->queue_count, 2);
	assert_int_equal(c->pol[0].ndst, 2);
	assert_int_equal(c->pol[0].nsrc, 1);
	assert_false(c->pol[0].ts_auto);
	assert_int_equal(c->pol[0].ntsrc, 1);
	conf_free(c);
}

static void
snat_pool_list_is_accepted(void **state)
{
	struct conf *c = conf_from_text(
		"policies = ( { name = \"p\"; mode = \"strip\"; destinations = \"198.51.100.0/24\";"
		" translated_source = [ \"203.0.113.1\", \"203.0.113.2\" ]; } );\n", NULL);
	(void)state;

	assert_non_null(c);
	assert_int_equal(c->pol[0].ntsrc, 2);
	assert_int_equal(c->pol[0].ndst, 1);
	conf_free(c);
}

static void
syntax_error_reports_its_line(void **state)
{
	(void)state;
	assert_error_at("enabled = true;\n\npolicies = ( { name = \"p\" ;\n", 4, "");
}

static void
unknown_top_level_key_is_an_error(void **state)
{
	(void)state;
	assert_error_at(POLICY "colour = \"blue\";\n", 2, "unknown key 'colour'");
}

static void
unknown_policy_key_is_an_error(void **state)
{
	(void)state;
	assert_error_at("policies = (\n { name = \"p\"; mode = \"strip\";\n"
			"   destinations = [ \"198.51.100.0/24\" ];\n   destination = 1; } );\n",
			4, "unknown key 'destination'");
}

static void
wrong_type_is_an_error(void **state)
{
	(void)state;
	assert_error_at(POLICY "enabled = \"yes\";\n", 2, "must be true or false");
}

static void
bad_cidr_is_an_error(void **state)
{
	(void)state;
	assert_error_at("policies = (\n { name = \"p\"; mode = \"strip\";\n"
			"   destinations = [ \"198.51.100.0/33\" ]; } );\n", 3, "prefix length");
}

static void
empty_destinations_is_an_error(void **state)
{
	(void)state;
	assert_error_at("policies = (\n { name = \"p\"; mode = \"strip\";\n"
			"   destinations = [ ]; } );\n", 3, "is empty");
}

static void
missing_destinations_is_an_error(void **state)
{
	(void)state;
	assert_error_at("policies = (\n { name = \"p\"; mode = \"strip\"; } );\n", 2,
			"needs 'destinations'");
}

static void
duplicate_policy_names_are_an_error(void **state)
{
	(void)state;
	assert_error_at("policies = (\n"
			" { name = \"p\"; mode = \"strip\"; destinations = \"198.51.100.1\"; },\n"
			" { name = \"p\"; mode = \"pass\"; destinations = \"198.51.100.2\"; } );\n",
			3, "duplicate policy name 'p'");
}

static void
unknown_mode_is_an_error(void **state)
{
	(void)state;
	assert_error_at("policies = (\n { name = \"p\";\n mode = \"drop\"; destinations = \"198.51.100.1\"; } );\n",
			3, "mode 'drop'");
}

static void
queue_range_is_checked(void **state)
{
	(void)state;
	assert_error_at(POLICY "queue = {\n count = 65; };\n", 3, "out of range");
}

static void
translated_source_must_be_single_addresses(void **state)
{
	(void)state;
	assert_error_at("policies = (\n { name = \"p\"; mode = \"strip\"; destinations = \"198.51.100.1\";\n"
			" translated_source = \"203.0.113.0/24\"; } );\n", 3, "single address");
}

static void
every_error_is_reported(void **state)
{
	char *errs = NULL;
	int lines = 0;
	(void)state;

	assert_null(conf_from_text("a = 1;\nb = 2;\nlog_level = \"loud\";\n" POLICY, &errs));
	for (char *p = errs; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 3);
	free(errs);
}

static void
missing_file_is_reported(void **state)
{
	char *errs = NULL;
	size_t len = 0;
	FILE *ef = open_memstream(&errs, &len);
	(void)state;

	assert_null(conf_load("/nonexistent/tsnatd.conf", ef));
	fclose(ef);
	assert_non_null(strstr(errs, "/nonexistent/tsnatd.conf"));
	free(errs);
}

static void
flows_section_is_parsed(void **state)
{
	struct conf *c = conf_from_text(POLICY "flows = { max = 4096; idle_timeout = 30; on_full = \"evict-idle\"; };\n", NULL);
	(void)state;

	assert_non_null(c);
	assert_int_equal(c->flows_max, 4096);
	assert_int_equal(c->flows_idle_timeout, 30);
	assert_int_equal(c->flows_on_full, ON_FULL_EVICT_IDLE);
	conf_free(c);
}

/* A config text that sets key (a table path) to value: policy keys inside
 * an otherwise complete policy. */
static void
text_with(const struct conf_key *k, const char *value, char *out, size_t len)
{
	const char *dot = strchr(k->path, '.');
	char pol[256] = "";

	if (strncmp(k->path, "policies.", 9) == 0) {
		static const char *const req[][2] = { { "name", "\"p\"" },
			{ "mode", "\"strip\"" }, { "destinations", "\"198.51.100.0/24\"" } };

		for (size_t i = 0; i < 3; i++)
			if (strcmp(req[i][0], dot + 1) != 0)
				snprintf(pol + strlen(pol), sizeof(pol) - strlen(pol),
					 "%s = %s; ", req[i][0], req[i][1]);
		snprintf(out, len, "policies = ( { %s%s = %s; } );\n", pol, dot + 1, value);
	} else if (dot) {
		snprintf(out, len, POLICY "%.*s = {\n %s = %s; };\n", (int)(dot - k->path),
			 k->path, dot + 1, value);
	} else {
		snprintf(out, len, POLICY "%s =\n %s;\n", k->path, value);
	}
}

/* The field of k in c (or in c's first policy), as an integer. */
static long long
field_value(const struct conf *c, const struct conf_key *k)
{
	const char *base = strncmp(k->path, "policies.", 9) == 0 ?
			   (const char *)&c->pol[0] : (const char *)c;
	bool b;
	int i;

	if (k->size == sizeof(bool)) {
		memcpy(&b, base + k->off, sizeof(b));
		return b;
	}
	memcpy(&i, base + k->off, sizeof(i));
	return k->type == CONF_UINT ? (long long)(unsigned)i : i;
}

static void
every_key_gets_its_table_default(void **state)
{
	struct conf *c = conf_from_text(POLICY, NULL);
	size_t n;
	const struct conf_key *k = conf_keys(&n);
	(void)state;

	assert_non_null(c);
	for (size_t i = 0; i < n; i++) {
		if (k[i].flags & CONF_REQUIRED)
			continue;
		switch (k[i].type) {
		case CONF_BOOL:
		case CONF_UINT:
		case CONF_ENUM:
			if (field_value(c, &k[i]) != k[i].def)
				fail_msg("%s: default %lld not applied", k[i].path, k[i].def);
			break;
		case CONF_PATH:
		case CONF_STRING:
			assert_string_equal((const char *)c + k[i].off, k[i].def_text);
			break;
		case CONF_CIDRS:
			if (k[i].flags & CONF_AUTO)
				assert_true(*(const bool *)((const char *)&c->pol[0] + k[i].off_auto));
			break;
		default:
			break;
		}
	}
	assert_string_equal(c->state_dir, "/run/tsnatd");
	assert_int_equal(c->flows_on_full, ON_FULL_EVICT_IDLE);
	conf_free(c);
}

static void
every_integer_range_comes_from_the_table(void **state)
{
	size_t n;
	const struct conf_key *k = conf_keys(&n);
	char text[512], v[32], *errs;
	struct conf *c;
	(void)state;

	for (size_t i = 0; i < n; i++) {
		if (k[i].type != CONF_UINT)
			continue;
		snprintf(v, sizeof(v), "%lld", k[i].max + 1);
		text_with(&k[i], v, text, sizeof(text));
		assert_null(conf_from_text(text, &errs));
		if (!strstr(errs, "out of range"))
			fail_msg("%s = %s: %s", k[i].path, v, errs);
		free(errs);
		snprintf(v, sizeof(v), "%lld", k[i].min - 1);
		text_with(&k[i], v, text, sizeof(text));
		assert_null(conf_from_text(text, NULL));
		snprintf(v, sizeof(v), "%lld", k[i].max);
		text_with(&k[i], v, text, sizeof(text));
		c = conf_from_text(text, NULL);
		if (!c)
			fail_msg("%s = %s rejected", k[i].path, v);
		assert_int_equal(field_value(c, &k[i]), k[i].max);
		conf_free(c);
	}
}

static void
every_enum_name_comes_from_the_table(void **state)
{
	size_t n;
	const struct conf_key *k = conf_keys(&n);
	char text[512], v[64], names[160], *errs;
	struct conf *c;
	(void)state;

	for (size_t i = 0; i < n; i++) {
		if (k[i].type != CONF_ENUM)
			continue;
		for (int e = k[i].names->first; e <= k[i].names->last; e++) {
			/* observe has a name but is refused (its own test) */
			if (!k[i].names->name(e) || strcmp(k[i].names->name(e), "observe") == 0)
				continue;
			snprintf(v, sizeof(v), "\"%s\"", k[i].names->name(e));
			text_with(&k[i], v, text, sizeof(text));
			c = conf_from_text(text, NULL);
			if (!c)
				fail_msg("%s = %s rejected", k[i].path, v);
			assert_int_equal(field_value(c, &k[i]), e);
			conf_free(c);
		}
		text_with(&k[i], "\"nonsense\"", text, sizeof(text));
		assert_null(conf_from_text(text, &errs));
		conf_enum_names(k[i].names, names, sizeof(names));
		if (!strstr(errs, names) || !strstr(errs, "'nonsense'"))
			fail_msg("%s: '%s' not listed in: %s", k[i].path, names, errs);
		free(errs);
	}
}

static void
observe_mode_is_not_implemented(void **state)
{
	(void)state;
	assert_error_at("policies = (\n { name = \"p\";\n mode = \"observe\"; destinations = \"198.51.100.1\"; } );\n",
			3, "not implemented in this version");
}

static void
unknown_key_in_a_group_names_file_and_line(void **state)
{
	(void)state;
	assert_error_at(POLICY "queue = {\n count = 2;\n firts = 1; };\n", 4,
			"unknown key 'firts' in queue");
	assert_error_at(POLICY "flows = {\n\n max_flows = 1; };\n", 4,
			"unknown key 'max_flows' in flows");
}

static void
group_of_wrong_type_lists_its_keys(void **state)
{
	(void)state;
	assert_error_at(POLICY "queue = 3;\n", 2, "{ first; count; maxlen; }");
}

static void
missing_mode_lists_the_modes(void **state)
{
	(void)state;
	assert_error_at("policies = (\n { name = \"web\"; destinations = \"198.51.100.1\"; } );\n",
			2, "policy 'web' needs 'mode' (one of pass, strip, rewrite, observe)");
}

static void
queues_past_65535_are_an_error(void **state)
{
	(void)state;
	assert_error_at(POLICY "queue = {\n first = 65535; count = 2; };\n", 2, "go past 65535");
}

static void
relative_state_dir_is_an_error(void **state)
{
	(void)state;
	assert_error_at(POLICY "state_dir = \"run/tsnatd\";\n", 2, "absolute path");
}

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* A policy named by the libconfig string literal lit, on line 2. */
static void
policy_named(const char *lit, char *out, size_t len)
{
	snprintf(out, len, "policies = (\n { name = \"%s\"; mode = \"strip\";"
		 " destinations = \"198.51.100.1\"; } );\n", lit);
}

static void
policy_name_with_quote_newline_space_or_semicolon_is_refused(void **state)
{
	static const char *const bad[] = { "a\\\"b", "a\\nb", "a b", "a;b", "web\\\" -j DROP" };
	char text[256];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		policy_named(bad[i], text, sizeof(text));
		assert_error_at(text, 2, "'name' may only contain the characters A-Za-z0-9._-");
	}
	policy_named("a\\nb", text, sizeof(text));
	assert_error_at(text, 2, "character 2 is 0x0a");
	policy_named("a\\\"b", text, sizeof(text));
	assert_error_at(text, 2, "character 2 is '\"'");
}

/* Every byte but the allowed ones, written as \xNN, is refused. */
static void
every_other_name_character_is_refused(void **state)
{
	char text[256], lit[16];
	struct conf *c;
	(void)state;

	for (int ch = 1; ch < 256; ch++) {
		if (strchr(NAME_CHARS, ch))
			continue;
		snprintf(lit, sizeof(lit), "p\\x%02x", ch);
		policy_named(lit, text, sizeof(text));
		c = conf_from_text(text, NULL);
		if (c)
			fail_msg("name with 0x%02x accepted", ch);
	}
}

/* All 65 allowed characters, in two names of the longest length or less. */
static void
every_allowed_name_character_works(void **state)
{
	const size_t max = sizeof(((struct policy *)0)->name) - 1, n = strlen(NAME_CHARS);
	char text[512], name[2][80];
	struct conf *c;
	(void)state;

	assert_true(n > max && n <= 2 * max);
	snprintf(name[0], sizeof(name[0]), "%.*s", (int)max, NAME_CHARS);
	snprintf(name[1], sizeof(name[1]), "%s", &NAME_CHARS[max]);
	snprintf(text, sizeof(text), "policies = (\n"
		 " { name = \"%s\"; mode = \"strip\"; destinations = \"198.51.100.1\"; },\n"
		 " { name = \"%s\"; mode = \"strip\"; destinations = \"198.51.100.2\"; } );\n",
		 name[0], name[1]);
	c = conf_from_text(text, NULL);
	assert_non_null(c);
	assert_string_equal(c->pol[0].name, name[0]);
	assert_string_equal(c->pol[1].name, name[1]);
	assert_true(conf_policy_name_ok(name[0]) && conf_policy_name_ok(name[1]));
	conf_free(c);
}

static void
allowed_characters_are_ranges_and_single_characters(void **state)
{
	const char *s = "az-";
	(void)state;

	assert_null(conf_chars_reject("a-z-", "abc-xyz"));
	assert_ptr_equal(conf_chars_reject("a-z-", "ab_c"), strchr("ab_c", '_'));
	assert_null(conf_chars_reject("-a", "a-a"));
	assert_ptr_equal(conf_chars_reject("a-", s + 1), s + 1);
	assert_null(conf_chars_reject("A-Za-z0-9._-", ""));
	assert_false(conf_policy_name_ok(""));
	assert_false(conf_policy_name_ok("a\"b"));
	assert_true(conf_policy_name_ok("legacy-web_1.2"));
}

/* The owner and mode rules on a made-up stat, for any user, no root
 * needed: tsnatd runs as uid 990, gid 990. */
static void
config_file_owner_and_write_permissions_are_checked(void **state)
{
	static const struct {
		unsigned uid, gid, mode;
		int problems;
		const char *needle;
	} cases[] = {
		{ 0, 0, 0644, 0, "" },
		{ 0, 0, 0664, 0, "" },			/* root's group */
		{ 990, 990, 0660, 0, "" },		/* the daemon's own */
		{ 0, 990, 0640, 0, "" },
		{ 0, 0, 0600, 0, "" },
		{ 0, 0, 0666, 1, "f.conf: writable by others (mode 0666); fix with chmod o-w f.conf" },
		{ 0, 0, 0602, 1, "writable by others (mode 0602)" },
		{ 0, 100, 0664, 1, "f.conf: writable by group 100 (mode 0664): only root's "
				    "group or tsnatd's (gid 990) may write it; fix with chmod g-w" },
		{ 0, 100, 0644, 0, "" },		/* that group only reads */
		{ 1000, 0, 0644, 1, "f.conf: owned by uid 1000: only root or the user tsnatd "
				     "runs as (uid 990) may own it; fix with chown root f.conf" },
		{ 1000, 100, 0666, 3, "owned by uid 1000" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stat st = { .st_uid = cases[i].uid, .st_gid = cases[i].gid,
				   .st_mode = S_IFREG | cases[i].mode };
		char *errs = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&errs, &len);
		int n = conf_file_check("f.conf", &st, 990, 990, f);

		fclose(f);
		if (n != cases[i].problems || !strstr(errs, cases[i].needle))
			fail_msg("uid %u gid %u mode %04o: %d problems: %s", cases[i].uid,
				 cases[i].gid, cases[i].mode, n, errs);
		free(errs);
	}
}

/* Files in a directory of their own, removed after each test. */
static char fsdir[] = "/tmp/tsnatd-conf-XXXXXX";

static int
fs_setup(void **state)
{
	(void)state;
	strcpy(fsdir + strlen(fsdir) - 6, "XXXXXX");
	return mkdtemp(fsdir) ? 0 : -1;
}

static int
fs_teardown(void **state)
{
	DIR *d = opendir(fsdir);
	struct dirent *e;
	(void)state;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    unlinkat(dirfd(d), e->d_name, 0) < 0) {
			fchmodat(dirfd(d), e->d_name, 0700, 0);
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		}
	if (d)
		closedir(d);
	return rmdir(fsdir);
}

/* fsdir/name holding text, with mode; its path in path. */
static void
fs_file(const char *name, const char *text, mode_t mode, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", fsdir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* conf_load(path): the conf (freed) or NULL; the errors in *errs. */
static bool
fs_load(const char *path, char **errs)
{
	size_t len = 0;
	FILE *f = open_memstream(errs, &len);
	struct conf *c = conf_load(path, f);

	fclose(f);
	conf_free(c);
	return c != NULL;
}

static void
config_writable_by_others_is_refused(void **state)
{
	char path[128], *errs;
	(void)state;

	fs_file("tsnatd.conf", POLICY, 0666, path, sizeof(path));
	assert_false(fs_load(path, &errs));
	if (!strstr(errs, "tsnatd.conf: writable by others (mode 0666); fix with chmod o-w"))
		fail_msg("%s", errs);
	free(errs);
	assert_int_equal(chmod(path, 0644), 0);
	assert_true(fs_load(path, &errs));
	free(errs);
}

/* Written by the group of the user tsnatd runs as: accepted. */
static void
config_writable_by_its_own_group_is_accepted(void **state)
{
	char path[128], *errs;
	struct stat st;
	(void)state;

	fs_file("tsnatd.conf", POLICY, 0664, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	if (st.st_gid != getegid() && st.st_gid != 0)
		skip();		/* a set-group-ID /tmp gave it another group */
	assert_true(fs_load(path, &errs));
	free(errs);
}

/* Another owner, another group: root can make such files. */
static void
config_of_another_owner_or_group_is_refused(void **state)
{
	char path[128], *errs;
	(void)state;

	if (geteuid() != 0)
		skip();
	fs_file("tsnatd.conf", POLICY, 0644, path, sizeof(path));
	assert_int_equal(chown(path, 12345, 0), 0);
	assert_false(fs_load(path, &errs));
	if (!strstr(errs, "owned by uid 12345") || !strstr(errs, "fix with chown root"))
		fail_msg("%s", errs);
	free(errs);
	assert_int_equal(chown(path, 0, 12345), 0);
	assert_int_equal(chmod(path, 0664), 0);
	assert_false(fs_load(path, &errs));
	if (!strstr(errs, "writable by group 12345 (mode 0664)"))
		fail_msg("%s", errs);
	free(errs);
}

/* A symbolic link is followed; its target is what is checked. */
static void
symlinked_config_is_checked_at_its_target(void **state)
{
	char path[128], link[160], *errs;
	(void)state;

	fs_file("target.conf", POLICY, 0644, path, sizeof(path));
	snprintf(link, sizeof(link), "%s/tsnatd.conf", fsdir);
	assert_int_equal(symlink(path, link), 0);
	assert_true(fs_load(link, &errs));
	free(errs);
	assert_int_equal(chmod(path, 0666), 0);
	assert_false(fs_load(link, &errs));
	assert_non_null(strstr(errs, "writable by others (mode 0666)"));
	free(errs);
}

/* An @include'd file would escape the check: refused at its line. */
static void
included_file_is_refused(void **state)
{
	char inc[128], path[128], text[256], *errs;
	(void)state;

	fs_file("policies.conf", POLICY, 0644, inc, sizeof(inc));
	snprintf(text, sizeof(text), "enabled = true;\n@include \"%s\"\n", inc);
	fs_file("tsnatd.conf", text, 0644, path, sizeof(path));
	assert_false(fs_load(path, &errs));
	if (!strstr(errs, "policies.conf:1: comes from an @include'd file"))
		fail_msg("%s", errs);
	free(errs);
}

static void
unreadable_config_says_why(void **state)
{
	char path[128], *errs;
	(void)state;

	snprintf(path, sizeof(path), "%s/absent.conf", fsdir);
	assert_false(fs_load(path, &errs));
	assert_non_null(strstr(errs, "absent.conf: cannot read the file: No such file"));
	free(errs);
}

/* faccessat as the state_dir check sees it (-Wl,--wrap=faccessat): the
 * real one, unless a test makes it fail as a read-only mount would. */
static int faccessat_fails_with;

int __real_faccessat(int dirfd, const char *path, int mode, int flags);

int
__wrap_faccessat(int dirfd, const char *path, int mode, int flags)
{
	if (faccessat_fails_with) {
		errno = faccessat_fails_with;
		return -1;
	}
	return __real_faccessat(dirfd, path, mode, flags);
}

/* Load POLICY with state_dir = fsdir/dir on line 2. */
static struct conf *
with_state_dir(const char *dir, char **errs)
{
	char text[512];

	snprintf(text, sizeof(text), POLICY "state_dir = \"%s/%s\";\n", fsdir, dir);
	return conf_from_text(text, errs);
}

static void
state_dir_tsnatd_can_write_or_create_is_accepted(void **state)
{
	static const char *const dirs[] = { "", "state", "state/", "." };
	char want[128];
	(void)state;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct conf *c = with_state_dir(dirs[i], NULL);

		if (!c)
			fail_msg("state_dir %s/%s refused", fsdir, dirs[i]);
		snprintf(want, sizeof(want), "%s/%s", fsdir, dirs[i]);
		assert_string_equal(c->state_dir, want);
		conf_free(c);
	}
}

static void
state_dir_that_cannot_be_created_is_refused(void **state)
{
	char *errs, want[128];
	(void)state;

	assert_null(with_state_dir("a/state", &errs));
	snprintf(want, sizeof(want), "cannot be created in %s/a: No such file", fsdir);
	if (!strstr(errs, ":2: state_dir '") || !strstr(errs, want))
		fail_msg("%s", errs);
	free(errs);
}

static void
state_dir_that_is_a_file_is_refused(void **state)
{
	char path[128], *errs;
	(void)state;

	fs_file("file", "", 0600, path, sizeof(path));
	assert_null(with_state_dir("file", &errs));
	if (!strstr(errs, ":2: state_dir '") || !strstr(errs, "Not a directory"))
		fail_msg("%s", errs);
	free(errs);
}

/* What ProtectSystem=strict makes of a directory outside ReadWritePaths=,
 * and a directory of another user. */
static void
state_dir_read_only_or_not_ours_is_refused_with_the_reason(void **state)
{
	static const int errs_[] = { EROFS, EACCES };
	char *errs;
	(void)state;

	for (size_t i = 0; i < 2; i++) {
		faccessat_fails_with = errs_[i];
		assert_null(with_state_dir("", &errs));
		faccessat_fails_with = 0;
		if (!strstr(errs, ":2: state_dir '") || !strstr(errs, strerror(errs_[i])) ||
		    !strstr(errs, "only /run/tsnatd and /var/lib/tsnatd are writable"))
			fail_msg("%s", errs);
		free(errs);
	}
}

/* The default is the unit's RuntimeDirectory=: not checked, so that tests
 * and -t run by any user do not need /run/tsnatd. */
static void
default_state_dir_is_not_checked(void **state)
{
	struct conf *c;
	(void)state;

	faccessat_fails_with = EROFS;
	c = conf_from_text(POLICY, NULL);
	faccessat_fails_with = 0;
	assert_non_null(c);
	assert_string_equal(c->state_dir, "/run/tsnatd");
	conf_free(c);
}

/* doc/tsnatd.conf.5 is committed; it must be what the table generates
 * (make man regenerates it). */
static void
man_page_is_what_the_table_generates(void **state)
{
	char *want = NULL, *have = NULL;
	size_t wlen = 0, hlen = 0;
	FILE *f = open_memstream(&want, &wlen);
	(void)state;

	conf_doc_print(f, CONF_DOC_MAN);
	fclose(f);
	f = fopen(TSNATD_SRCDIR "/doc/tsnatd.conf.5", "r");
	assert_non_null(f);
	have = malloc(wlen + 2);
	hlen = fread(have, 1, wlen + 1, f);
	fclose(f);
	if (hlen != wlen || memcmp(have, want, wlen) != 0)
		fail_msg("doc/tsnatd.conf.5 is stale: run make man");
	free(have);
	free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(minimal_config_gets_defaults),
		cmocka_unit_test(full_example_shape_is_accepted),
		cmocka_unit_test(snat_pool_list_is_accepted),
		cmocka_unit_test(syntax_error_reports_its_line),
		cmocka_unit_test(unknown_top_level_key_is_an_error),
		cmocka_unit_test(unknown_policy_key_is_an_error),
		cmocka_unit_test(wrong_type_is_an_error),
		cmocka_unit_test(bad_cidr_is_an_error),
		cmocka_unit_test(empty_destinations_is_an_error),
		cmocka_unit_test(missing_destinations_is_an_error),
		cmocka_unit_test(duplicate_policy_names_are_an_error),
		cmocka_unit_test(unknown_mode_is_an_error),
		cmocka_unit_test(queue_range_is_checked),
		cmocka_unit_test(translated_source_must_be_single_addresses),
		cmocka_unit_test(every_error_is_reported),
		cmocka_unit_test(missing_file_is_reported),
		cmocka_unit_test(flows_section_is_parsed),
		cmocka_unit_test(every_key_gets_its_table_default),
		cmocka_unit_test(every_integer_range_comes_from_the_table),
		cmocka_unit_test(every_enum_name_comes_from_the_table),
		cmocka_unit_test(observe_mode_is_not_implemented),
		cmocka_unit_test(unknown_key_in_a_group_names_file_and_line),
		cmocka_unit_test(group_of_wrong_type_lists_its_keys),
		cmocka_unit_test(missing_mode_lists_the_modes),
		cmocka_unit_test(queues_past_65535_are_an_error),
		cmocka_unit_test(relative_state_dir_is_an_error),
		cmocka_unit_test(policy_name_with_quote_newline_space_or_semicolon_is_refused),
		cmocka_unit_test(every_other_name_character_is_refused),
		cmocka_unit_test(every_allowed_name_character_works),
		cmocka_unit_test(allowed_characters_are_ranges_and_single_characters),
		cmocka_unit_test(config_file_owner_and_write_permissions_are_checked),
		cmocka_unit_test_setup_teardown(config_writable_by_others_is_refused, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(config_writable_by_its_own_group_is_accepted, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(config_of_another_owner_or_group_is_refused, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(symlinked_config_is_checked_at_its_target, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(included_file_is_refused, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(unreadable_config_says_why, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(state_dir_tsnatd_can_write_or_create_is_accepted, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(state_dir_that_cannot_be_created_is_refused, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(state_dir_that_is_a_file_is_refused, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(state_dir_read_only_or_not_ours_is_refused_with_the_reason, fs_setup, fs_teardown),
		cmocka_unit_test(default_state_dir_is_not_checked),
		cmocka_unit_test(man_page_is_what_the_table_generates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
