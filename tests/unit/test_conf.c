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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
