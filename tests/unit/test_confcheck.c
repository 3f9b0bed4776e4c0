/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_confcheck.c - the checks before a configuration is trusted: the
 * file's owner and mode, whether the service user can read it, the
 * characters of names, a state_dir tsnatd can write. Files are made in a
 * temporary directory; faccessat is wrapped (-Wl,--wrap=faccessat) for
 * what only root could set up: a read-only mount; getpwnam and
 * getgrouplist for a service user this system need not have. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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
		int n = conf_file_check("f.conf", &st, 990, 990, NULL, f);

		fclose(f);
		if (n != cases[i].problems || !strstr(errs, cases[i].needle))
			fail_msg("uid %u gid %u mode %04o: %d problems: %s", cases[i].uid,
				 cases[i].gid, cases[i].mode, n, errs);
		free(errs);
	}
}

/* The service user as the wrapped user database has it: uid 990, group
 * 990, also in group 4 (adm); or none at all. */
static const struct conf_user svc = { .uid = 990, .gid = 990, .groups = { 990, 4 },
				      .ngroups = 2 };
static bool have_user = true;

struct passwd *__wrap_getpwnam(const char *name);
int __wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups);

struct passwd *
__wrap_getpwnam(const char *name)
{
	static struct passwd pw = { .pw_name = (char *)"tsnatd", .pw_uid = 990, .pw_gid = 990 };

	return have_user && strcmp(name, CONF_SERVICE_USER) == 0 ? &pw : NULL;
}

int
__wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups)
{
	(void)user;
	if (*ngroups < 2) {
		*ngroups = 2;
		return -1;
	}
	groups[0] = group;
	groups[1] = 4;
	*ngroups = 2;
	return 2;
}

/* conf_file_check's messages for one made-up file; the caller frees. */
static char *
file_check(unsigned uid, unsigned gid, unsigned mode, uid_t self_uid, gid_t self_gid,
	   const struct conf_user *u, int *problems)
{
	struct stat st = { .st_uid = uid, .st_gid = gid, .st_mode = S_IFREG | mode };
	char *errs = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&errs, &len);

	*problems = conf_file_check("f.conf", &st, self_uid, self_gid, u, f);
	fclose(f);
	return errs;
}

/* Run as root, a file of the service user is refused (the rules commands
 * run as root): the message names that user's uid, not root's 0. */
static void
as_root_the_owner_message_names_the_service_users_uid(void **state)
{
	int n;
	char *errs = file_check(990, 0, 0644, 0, 0, &svc, &n);

	(void)state;
	assert_int_equal(n, 1);
	if (!strstr(errs, "f.conf: owned by uid 990: run as root, tsnatd trusts only a file "
		    "root owns (the service user tsnatd, uid 990, may own it") ||
	    strstr(errs, "uid 0") || !strstr(errs, "fix with chown root f.conf"))
		fail_msg("%s", errs);
	free(errs);
}

static void
as_root_the_group_message_names_the_service_users_gid(void **state)
{
	int n;
	char *errs = file_check(0, 990, 0664, 0, 0, &svc, &n);

	(void)state;
	assert_int_equal(n, 1);
	if (!strstr(errs, "f.conf: writable by group 990 (mode 0664): run as root, tsnatd "
		    "trusts only root's group to write it (the service user's group, gid 990") ||
	    strstr(errs, "gid 0") || !strstr(errs, "fix with chmod g-w f.conf"))
		fail_msg("%s", errs);
	free(errs);
}

/* No such user here: the root rule alone, without a made-up uid. */
static void
as_root_without_a_service_user_the_messages_name_root_alone(void **state)
{
	int n;
	char *errs = file_check(1000, 100, 0664, 0, 0, NULL, &n);

	(void)state;
	assert_int_equal(n, 2);
	if (!strstr(errs, "owned by uid 1000: run as root, tsnatd trusts only a file root "
		    "owns; fix with chown root") ||
	    !strstr(errs, "trusts only root's group to write it; fix with chmod g-w") ||
	    strstr(errs, "(uid") || strstr(errs, "(gid"))
		fail_msg("%s", errs);
	free(errs);
}

static bool
may(unsigned uid, unsigned gid, unsigned mode, unsigned want)
{
	struct stat st = { .st_uid = uid, .st_gid = gid, .st_mode = S_IFREG | mode };

	return conf_user_may(&st, &svc, want);
}

static void
root_only_file_is_unreadable_for_the_service_user(void **state)
{
	(void)state;
	assert_false(may(0, 0, 0600, S_IROTH));
	assert_false(may(0, 0, 0640, S_IROTH));
	assert_true(may(0, 0, 0644, S_IROTH));
}

static void
its_group_reads_by_the_group_bits(void **state)
{
	(void)state;
	assert_true(may(0, 990, 0640, S_IROTH));
	assert_false(may(0, 990, 0604, S_IROTH));	/* a member is not "other" */
}

static void
a_supplementary_group_reads_by_the_group_bits(void **state)
{
	(void)state;
	assert_true(may(0, 4, 0640, S_IROTH));
	assert_false(may(0, 5, 0640, S_IROTH));
}

/* The owner's bits alone decide for the owner, as in the kernel. */
static void
its_own_file_reads_by_the_owner_bits_alone(void **state)
{
	(void)state;
	assert_true(may(990, 0, 0400, S_IROTH));
	assert_false(may(990, 990, 0044, S_IROTH));
}

static void
directories_need_the_search_bit(void **state)
{
	(void)state;
	assert_true(may(0, 0, 0755, S_IXOTH));
	assert_false(may(0, 0, 0700, S_IXOTH));
	assert_true(may(0, 990, 0750, S_IXOTH));
	assert_false(may(0, 0, 0744, S_IXOTH));
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

/* conf_service_check on service_fs's file with mode, its messages in
 * *errs. fsdir is 0700 (mkdtemp): opened to others unless closed. */
static int
service_check(mode_t file_mode, mode_t dir_mode, char **errs, char *path, size_t len)
{
	size_t elen = 0;
	FILE *f = open_memstream(errs, &elen);
	int r;

	fs_file("tsnatd.conf", POLICY, file_mode, path, len);
	assert_int_equal(chmod(fsdir, dir_mode), 0);
	r = conf_service_check(path, f);
	fclose(f);
	return r;
}

/* The case: 0600 root:root passes -t as root, the unit then fails. */
static void
tsnatd_t_says_the_service_user_cannot_read_a_0600_file(void **state)
{
	char path[128], want[256], *errs;
	(void)state;

	if (geteuid() != 0)
		skip();		/* the file must be someone else's than 990's */
	assert_int_equal(service_check(0600, 0711, &errs, path, sizeof(path)), -1);
	snprintf(want, sizeof(want), "tsnatd: the service user tsnatd cannot read %s (mode "
		 "0600, uid 0, gid ", path);
	if (!strstr(errs, want) || !strstr(errs, "tsnatd is uid 990, gid 990") ||
	    !strstr(errs, "fix with chgrp tsnatd "))
		fail_msg("%s", errs);
	free(errs);
}

static void
tsnatd_t_accepts_a_file_the_service_user_can_read(void **state)
{
	char path[128], *errs;
	(void)state;

	assert_int_equal(service_check(0644, 0711, &errs, path, sizeof(path)), 0);
	assert_string_equal(errs, "");
	free(errs);
}

static void
tsnatd_t_says_the_service_user_cannot_enter_the_directory(void **state)
{
	char path[128], want[256], *errs;
	(void)state;

	if (geteuid() != 0)
		skip();
	assert_int_equal(service_check(0644, 0700, &errs, path, sizeof(path)), -1);
	snprintf(want, sizeof(want), "cannot read %s: it may not enter %s (mode 0700", path,
		 fsdir);
	if (!strstr(errs, want) || !strstr(errs, "fix with chmod o+x "))
		fail_msg("%s", errs);
	free(errs);
}

/* A build machine without the user: -t says what it could not check. */
static void
tsnatd_t_without_the_service_user_notes_it_and_passes(void **state)
{
	char path[128], *errs;
	(void)state;

	have_user = false;
	assert_int_equal(service_check(0600, 0700, &errs, path, sizeof(path)), 0);
	have_user = true;
	if (!strstr(errs, "there is no user tsnatd here") || !strstr(errs, "not checked"))
		fail_msg("%s", errs);
	free(errs);
}

/* As root, conf_load's own refusal names the service user's uid. */
static void
as_root_conf_load_names_the_service_users_uid(void **state)
{
	char path[128], *errs;
	(void)state;

	if (geteuid() != 0)
		skip();
	fs_file("tsnatd.conf", POLICY, 0644, path, sizeof(path));
	assert_int_equal(chown(path, 990, 0), 0);
	assert_false(fs_load(path, &errs));
	if (!strstr(errs, "owned by uid 990: run as root") || !strstr(errs, "uid 990, may own"))
		fail_msg("%s", errs);
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
		cmocka_unit_test(as_root_the_owner_message_names_the_service_users_uid),
		cmocka_unit_test(as_root_the_group_message_names_the_service_users_gid),
		cmocka_unit_test(as_root_without_a_service_user_the_messages_name_root_alone),
		cmocka_unit_test(root_only_file_is_unreadable_for_the_service_user),
		cmocka_unit_test(its_group_reads_by_the_group_bits),
		cmocka_unit_test(a_supplementary_group_reads_by_the_group_bits),
		cmocka_unit_test(its_own_file_reads_by_the_owner_bits_alone),
		cmocka_unit_test(directories_need_the_search_bit),
		cmocka_unit_test_setup_teardown(tsnatd_t_says_the_service_user_cannot_read_a_0600_file, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(tsnatd_t_accepts_a_file_the_service_user_can_read, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(tsnatd_t_says_the_service_user_cannot_enter_the_directory, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(tsnatd_t_without_the_service_user_notes_it_and_passes, fs_setup, fs_teardown),
		cmocka_unit_test_setup_teardown(as_root_conf_load_names_the_service_users_uid, fs_setup, fs_teardown),
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
