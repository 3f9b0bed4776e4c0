/* test_confcheck.c - the checks before a configuration is trusted: the
 * file's owner and mode, the characters of names, a state_dir tsnatd can
 * write. Files are made in a temporary directory; faccessat is wrapped
 * (-Wl,--wrap=faccessat) for what only root could set up: a read-only
 * mount. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "conf_int.h"
#include "confutil.h"

#define POLICY "policies = ( { name = \"p\"; mode = \"strip\"; destinations = [ \"198.51.100.0/24\" ]; } );\n"

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
		    unlinkat(dirfd(d), e->d_name, 0) < 0 &&
		    (fchmodat(dirfd(d), e->d_name, 0700, 0) < 0 ||
		     unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0))
			fail_msg("cannot remove %s", e->d_name);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
