/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_conf.c - configuration parsing, defaults and file:line errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <syslog.h>

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
					 "%s = %s; ", req[i][0],
					 /* action is for mode auto only */
					 i == 1 && !strcmp(dot + 1, "action") ? "\"auto\"" : req[i][1]);
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
			if (!k[i].names->name(e))
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
action_is_for_mode_auto_only(void **state)
{
	(void)state;
	assert_error_at("policies = (\n { name = \"p\"; mode = \"strip\";\n action = \"rewrite\"; destinations = \"198.51.100.1\"; } );\n",
			3, "'action' is for mode auto only");
}

static void
auto_takes_strip_or_rewrite_and_strip_by_default(void **state)
{
	struct conf *c = conf_from_text("policies = (\n"
		" { name = \"a\"; mode = \"auto\"; destinations = \"0.0.0.0/0\"; },\n"
		" { name = \"b\"; mode = \"auto\"; action = \"rewrite\"; destinations = \"::/0\"; } );\n", NULL);
	(void)state;

	assert_non_null(c);
	assert_int_equal(c->pol[0].mode, MODE_AUTO);
	assert_int_equal(c->pol[0].action, MODE_STRIP);
	assert_int_equal(c->pol[1].action, MODE_REWRITE);
	conf_free(c);
	assert_error_at("policies = (\n { name = \"p\"; mode = \"auto\";\n action = \"pass\"; destinations = \"198.51.100.1\"; } );\n",
			3, "action");
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
			2, "policy 'web' needs 'mode' (one of pass, strip, rewrite, observe, auto)");
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

static const struct conf_key *
key_named(const char *path)
{
	size_t n;
	const struct conf_key *k = conf_keys(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].path, path) == 0)
			return &k[i];
	fail_msg("no key %s", path);
	return NULL;
}

/* The mark is bits: the man page writes it as README.md and the firewall
 * rules do, 0x10000000, not 268435456. */
static void
mark_bits_are_documented_in_hex(void **state)
{
	const struct conf_key *k = key_named("offload_mark");
	char def[64], range[64];
	(void)state;

	conf_key_default(k, def, sizeof(def));
	conf_key_range(k, range, sizeof(range));
	assert_string_equal(def, "0x10000000");
	assert_string_equal(range, "0x1..0x40000000");
	assert_int_equal(k->def, 0x10000000);
}

static void
decimal_keys_stay_decimal(void **state)
{
	const struct conf_key *k = key_named("flows.max");
	char def[64];
	(void)state;

	conf_key_default(k, def, sizeof(def));
	assert_null(strchr(def, 'x'));
	assert_int_equal(strtoll(def, NULL, 10), k->def);
}

static void
a_mark_out_of_range_is_reported_in_hex(void **state)
{
	(void)state;
	assert_error_at(POLICY "offload_mark = 0x80000000;\n", 2,
			"'offload_mark' = 0x80000000 is out of range 0x1..0x40000000");
}

/* A source file's text (the caller frees). */
static char *
source_text(const char *rel)
{
	char path[512], *text = NULL;
	size_t len = 0;
	FILE *f, *out = open_memstream(&text, &len);
	int c;

	snprintf(path, sizeof(path), "%s/%s", TSNATD_SRCDIR, rel);
	f = fopen(path, "r");
	if (!f || !out)
		fail_msg("cannot read %s", path);
	while ((c = fgetc(f)) != EOF)
		fputc(c, out);
	fclose(f);
	fclose(out);
	return text;
}

/* tsnatd -t checks readability for CONF_SERVICE_USER: the user the unit
 * really runs as and the one the package creates. */
static void
the_unit_runs_as_the_service_user(void **state)
{
	char *unit = source_text("systemd/tsnatd.service.in");
	char *users = source_text("systemd/tsnatd.sysusers");
	(void)state;

	assert_non_null(strstr(unit, "\nUser=" CONF_SERVICE_USER "\n"));
	assert_non_null(strstr(unit, "\nGroup=" CONF_SERVICE_USER "\n"));
	assert_non_null(strstr(users, "\nu " CONF_SERVICE_USER " "));
	free(unit);
	free(users);
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
		cmocka_unit_test(mark_bits_are_documented_in_hex),
		cmocka_unit_test(the_unit_runs_as_the_service_user),
		cmocka_unit_test(decimal_keys_stay_decimal),
		cmocka_unit_test(a_mark_out_of_range_is_reported_in_hex),
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
		cmocka_unit_test(action_is_for_mode_auto_only),
		cmocka_unit_test(auto_takes_strip_or_rewrite_and_strip_by_default),
		cmocka_unit_test(unknown_key_in_a_group_names_file_and_line),
		cmocka_unit_test(group_of_wrong_type_lists_its_keys),
		cmocka_unit_test(missing_mode_lists_the_modes),
		cmocka_unit_test(queues_past_65535_are_an_error),
		cmocka_unit_test(relative_state_dir_is_an_error),
		cmocka_unit_test(policy_name_with_quote_newline_space_or_semicolon_is_refused),
		cmocka_unit_test(every_other_name_character_is_refused),
		cmocka_unit_test(every_allowed_name_character_works),
		cmocka_unit_test(man_page_is_what_the_table_generates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
