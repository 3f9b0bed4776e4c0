/* SPDX-License-Identifier: GPL-2.0-or-later */
/* confcheck.c - the file checked before it is read (who may change it),
 * then each value against its key in the table (type, range, characters,
 * names, CIDRs) before it is stored; every problem reported as file:line
 * and counted. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_int.h"

/* A string value, or NULL after reporting a wrong type. */
static const char *
confcheck_string(struct loader *L, const config_setting_t *s, const struct conf_key *k)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(L, s, "'%s' must be a string", conf_key_leaf(k));
		return NULL;
	}
	return config_setting_get_string(s);
}

void
conf_load_uint(struct loader *L, const config_setting_t *s, const struct conf_key *k,
	       void *base)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		conf_err(L, s, "'%s' must be an integer", conf_key_leaf(k));
		return;
	}
	v = config_setting_get_int64(s);
	/* libconfig reads 0x80000000..0xffffffff as a negative int: what was
	 * written is the unsigned value. */
	if (config_setting_type(s) == CONFIG_TYPE_INT &&
	    config_setting_get_format(s) == CONFIG_FORMAT_HEX)
		v = (uint32_t)v;
	if ((v < k->min || v > k->max) && (k->flags & CONF_HEX)) {
		conf_err(L, s, "'%s' = 0x%llx is out of range 0x%llx..0x%llx", conf_key_leaf(k),
			 (unsigned long long)v, (unsigned long long)k->min,
			 (unsigned long long)k->max);
		return;
	}
	if (v < k->min || v > k->max) {
		conf_err(L, s, "'%s' = %lld is out of range %lld..%lld", conf_key_leaf(k),
			 v, k->min, k->max);
		return;
	}
	conf_store(base, k, v);
}

void
conf_load_enum(struct loader *L, const config_setting_t *s, const struct conf_key *k,
	       void *base)
{
	const char *str = confcheck_string(L, s, k);
	char names[160];
	int v;

	if (!str)
		return;
	if ((v = k->names->parse(str)) < 0) {
		conf_enum_names(k->names, names, sizeof(names));
		conf_err(L, s, "%s '%s' is not one of %s", conf_key_leaf(k), str, names);
		return;
	}
	conf_store(base, k, v);
}

/* 0 if path is a directory this process can write; else -1 and errno.
 * faccessat with AT_EACCESS asks as the effective user, and says EROFS
 * for a read-only mount, such as everything ProtectSystem=strict leaves. */
static int
confcheck_writable_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return faccessat(AT_FDCWD, path, W_OK | X_OK, AT_EACCESS);
}

/* Can this process write directory path, or create it (state.c makes the
 * last component only)? If not, why not. */
static bool
confcheck_dir(const char *path, char *why, size_t len)
{
	char parent[256];
	size_t n = strlen(path);

	if (confcheck_writable_dir(path) == 0)
		return true;
	if (errno != ENOENT) {
		snprintf(why, len, "%s", strerror(errno));
		return false;
	}
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 1 && path[n - 1] != '/')
		n--;
	snprintf(parent, sizeof(parent), "%.*s", (int)(n > 1 ? n - 1 : 1), path);
	if (confcheck_writable_dir(parent) == 0)
		return true;
	snprintf(why, len, "it does not exist and cannot be created in %s: %s", parent,
		 strerror(errno));
	return false;
}

void
conf_load_text(struct loader *L, const config_setting_t *s, const struct conf_key *k,
	       void *base)
{
	const char *str = confcheck_string(L, s, k), *bad;
	char why[384];
	size_t len;

	if (!str)
		return;
	len = strlen(str);
	if (k->type == CONF_PATH && len == 0 && (k->flags & CONF_EMPTY)) {
		((char *)base + k->off)[0] = '\0';
		return;
	}
	if (k->type == CONF_PATH && (str[0] != '/' || len >= k->size)) {
		conf_err(L, s, "%s must be an absolute path shorter than %zu",
			 conf_key_leaf(k), k->size);
		return;
	}
	if (k->type == CONF_PATH && (k->flags & CONF_WRITABLE) &&
	    !confcheck_dir(str, why, sizeof(why))) {
		conf_err(L, s, "%s '%s' is not a directory tsnatd can write: %s (as "
			 "tsnatd.service runs it, only /run/tsnatd and /var/lib/tsnatd "
			 "are writable)", conf_key_leaf(k), str, why);
		return;
	}
	if (k->type == CONF_STRING && ((long long)len < k->min || (long long)len > k->max)) {
		conf_err(L, s, "'%s' must have %lld..%lld characters, not %zu",
			 conf_key_leaf(k), k->min, k->max, len);
		return;
	}
	if (k->chars && (bad = conf_chars_reject(k->chars, str))) {
		/* The value itself is not echoed: it may hold a newline. */
		if (isgraph((unsigned char)*bad))
			conf_err(L, s, "'%s' may only contain the characters %s: "
				 "character %zu is '%c'", conf_key_leaf(k), k->chars,
				 (size_t)(bad - str) + 1, *bad);
		else
			conf_err(L, s, "'%s' may only contain the characters %s: "
				 "character %zu is 0x%02x", conf_key_leaf(k), k->chars,
				 (size_t)(bad - str) + 1, (unsigned char)*bad);
		return;
	}
	memcpy((char *)base + k->off, str, len + 1);
}

static bool
confcheck_char_in(const char *chars, unsigned char c)
{
	for (const char *p = chars; *p; p++) {
		if (p[1] == '-' && p[2]) {
			if (c >= (unsigned char)p[0] && c <= (unsigned char)p[2])
				return true;
			p += 2;
		} else if ((unsigned char)*p == c) {
			return true;
		}
	}
	return false;
}

const char *
conf_chars_reject(const char *chars, const char *s)
{
	for (; *s; s++)
		if (!confcheck_char_in(chars, (unsigned char)*s))
			return s;
	return NULL;
}

bool
conf_policy_name_ok(const char *s)
{
	size_t n, len = strlen(s);
	const struct conf_key *k = conf_keys(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].path, "policies.name") == 0)
			return (long long)len >= k[i].min && (long long)len <= k[i].max &&
			       (!k[i].chars || !conf_chars_reject(k[i].chars, s));
	return false;
}

/* A string or an array/list of strings, each a CIDR (CONF_HOST: each a
 * single address; CONF_AUTO: or just "auto"). */
void
conf_load_cidrs(struct loader *L, const config_setting_t *s, const struct conf_key *k,
		void *base)
{
	const char *key = conf_key_leaf(k);
	int n = 1, type = config_setting_type(s);
	struct cidr *v;
	size_t got = 0;

	if ((k->flags & CONF_AUTO) && type == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(s), "auto") == 0)
		return;
	if (k->flags & CONF_AUTO)
		*(bool *)(void *)((char *)base + k->off_auto) = false;
	if (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST) {
		if ((n = config_setting_length(s)) == 0) {
			conf_err(L, s, "'%s' is empty", key);
			return;
		}
	} else if (type != CONFIG_TYPE_STRING) {
		conf_err(L, s, "'%s' must be a string or a list of strings", key);
		return;
	}
	if (!(v = calloc((size_t)n, sizeof(*v))))
		fatal("calloc");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = type == CONFIG_TYPE_STRING ? s :
			config_setting_get_elem(s, (unsigned)i);
		char err[160];

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			conf_err(L, e, "'%s' entries must be strings", key);
			continue;
		}
		if (cidr_parse(config_setting_get_string(e), &v[got], err, sizeof(err)) < 0) {
			conf_err(L, e, "%s: %s", key, err);
			continue;
		}
		if ((k->flags & CONF_HOST) && v[got].prefix != (v[got].family == 4 ? 32 : 128)) {
			conf_err(L, e, "%s: '%s' must be a single address", key,
				 config_setting_get_string(e));
			continue;
		}
		got++;
	}
	memcpy((char *)base + k->off, &v, sizeof(v));
	memcpy((char *)base + k->off_n, &got, sizeof(got));
}

/* An owner other than root and uid; the message names whom the process
 * trusts: as root (-t, --apply-rules), root alone. */
static void
confcheck_owner(const char *path, const struct stat *st, uid_t uid,
		const struct conf_user *svc, FILE *errs)
{
	if (uid != 0)
		fprintf(errs, "%s: owned by uid %u: only root or the user tsnatd runs as "
			"(uid %u) may own it; fix with chown root %s\n", path,
			(unsigned)st->st_uid, (unsigned)uid, path);
	else if (svc)
		fprintf(errs, "%s: owned by uid %u: run as root, tsnatd trusts only a file "
			"root owns (the service user " CONF_SERVICE_USER ", uid %u, may own "
			"it for the daemon alone, which runs as that user); fix with chown "
			"root %s\n", path, (unsigned)st->st_uid, (unsigned)svc->uid, path);
	else
		fprintf(errs, "%s: owned by uid %u: run as root, tsnatd trusts only a file "
			"root owns; fix with chown root %s\n", path, (unsigned)st->st_uid,
			path);
}

/* Write permission for a group other than root's and gid. */
static void
confcheck_group(const char *path, const struct stat *st, gid_t gid,
		const struct conf_user *svc, FILE *errs)
{
	unsigned mode = (unsigned)st->st_mode & 07777;

	if (gid != 0)
		fprintf(errs, "%s: writable by group %u (mode %04o): only root's group or "
			"tsnatd's (gid %u) may write it; fix with chmod g-w %s\n", path,
			(unsigned)st->st_gid, mode, (unsigned)gid, path);
	else if (svc)
		fprintf(errs, "%s: writable by group %u (mode %04o): run as root, tsnatd "
			"trusts only root's group to write it (the service user's group, "
			"gid %u, may write it for the daemon alone, which runs as that "
			"user); fix with chmod g-w %s\n", path, (unsigned)st->st_gid, mode,
			(unsigned)svc->gid, path);
	else
		fprintf(errs, "%s: writable by group %u (mode %04o): run as root, tsnatd "
			"trusts only root's group to write it; fix with chmod g-w %s\n", path,
			(unsigned)st->st_gid, mode, path);
}

int
conf_file_check(const char *path, const struct stat *st, uid_t uid, gid_t gid,
		const struct conf_user *svc, FILE *errs)
{
	unsigned mode = (unsigned)st->st_mode & 07777;
	int n = 0;

	if (st->st_uid != 0 && st->st_uid != uid) {
		if (errs)
			confcheck_owner(path, st, uid, svc, errs);
		n++;
	}
	if (mode & S_IWOTH) {
		if (errs)
			fprintf(errs, "%s: writable by others (mode %04o); fix with chmod o-w "
				"%s\n", path, mode, path);
		n++;
	}
	if ((mode & S_IWGRP) && st->st_gid != 0 && st->st_gid != gid) {
		if (errs)
			confcheck_group(path, st, gid, svc, errs);
		n++;
	}
	return n;
}

int
conf_user_lookup(const char *name, struct conf_user *u)
{
	const struct passwd *pw = getpwnam(name);
	int n = CONF_USER_GROUPS;

	if (!pw)
		return -1;
	*u = (struct conf_user){ .uid = pw->pw_uid, .gid = pw->pw_gid };
	/* More groups than the array holds: -1, the array filled; the rest
	 * are not counted (a system user has one or two). */
	if (getgrouplist(name, pw->pw_gid, u->groups, &n) < 0)
		n = CONF_USER_GROUPS;
	u->ngroups = n < 0 ? 0 : n > CONF_USER_GROUPS ? CONF_USER_GROUPS : n;
	return 0;
}

bool
conf_user_may(const struct stat *st, const struct conf_user *u, unsigned want)
{
	unsigned mode = (unsigned)st->st_mode;
	bool member = st->st_gid == u->gid;

	for (int i = 0; i < u->ngroups && !member; i++)
		member = u->groups[i] == st->st_gid;
	if (st->st_uid == u->uid)
		return ((mode >> 6) & want) == want;
	if (member)
		return ((mode >> 3) & want) == want;
	return (mode & want) == want;
}

int
conf_service_check(const char *path, FILE *errs)
{
	char real[PATH_MAX], dir[PATH_MAX];
	struct conf_user u;
	struct stat st;

	if (conf_user_lookup(CONF_SERVICE_USER, &u) < 0) {
		fprintf(errs, "tsnatd: note: there is no user " CONF_SERVICE_USER " here "
			"(tsnatd.service runs as it; the package creates it): not checked "
			"whether it can read %s\n", path);
		return 0;
	}
	/* A file that cannot be found or read is conf_load's to report. */
	if (!realpath(path, real) || stat(real, &st) < 0)
		return 0;
	for (char *p = strchr(real + 1, '/'); p; p = strchr(p + 1, '/')) {
		struct stat dst;

		snprintf(dir, sizeof(dir), "%.*s", (int)(p - real), real);
		if (stat(dir, &dst) == 0 && !conf_user_may(&dst, &u, S_IXOTH)) {
			fprintf(errs, "tsnatd: the service user " CONF_SERVICE_USER " cannot "
				"read %s: it may not enter %s (mode %04o, uid %u, gid %u; "
				CONF_SERVICE_USER " is uid %u, gid %u), so tsnatd.service would "
				"fail to start; fix with chmod o+x %s\n", path, dir,
				(unsigned)dst.st_mode & 07777, (unsigned)dst.st_uid,
				(unsigned)dst.st_gid, (unsigned)u.uid, (unsigned)u.gid, dir);
			return -1;
		}
	}
	if (conf_user_may(&st, &u, S_IROTH))
		return 0;
	fprintf(errs, "tsnatd: the service user " CONF_SERVICE_USER " cannot read %s (mode "
		"%04o, uid %u, gid %u; " CONF_SERVICE_USER " is uid %u, gid %u), so "
		"tsnatd.service would fail to start; fix with chgrp " CONF_SERVICE_USER
		" %s && chmod 0640 %s\n", path, (unsigned)st.st_mode & 07777,
		(unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)u.uid, (unsigned)u.gid,
		path, path);
	return -1;
}

/* fstat, not stat before fopen: the file checked is the file read, even if
 * the name is pointed elsewhere in between. A symbolic link is followed,
 * not refused: configuration management links files into /etc; its target
 * is what fstat checks, and only who can write the link's directory can
 * replace the link - who could replace a regular file there as well. (The
 * directories are not checked.) */
FILE *
conf_file_open(const char *path, FILE *errs)
{
	FILE *f = fopen(path, "re");
	struct stat st;

	if (!f) {
		fprintf(errs, "%s: cannot read the file: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0) {
		fprintf(errs, "%s: cannot read the file: %s\n", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	/* Checked quietly first: the service user is looked up (as root, for
	 * the messages) only when there is something to report. */
	if (conf_file_check(path, &st, geteuid(), getegid(), NULL, NULL) > 0) {
		struct conf_user svc;
		bool known = geteuid() == 0 && conf_user_lookup(CONF_SERVICE_USER, &svc) == 0;

		conf_file_check(path, &st, geteuid(), getegid(), known ? &svc : NULL, errs);
		fclose(f);
		return NULL;
	}
	return f;
}

/* libconfig names the source file of a setting only when it is not the
 * stream config_read was given: that is an @include'd one. One report per
 * run of settings from the same file. */
void
conf_check_included(struct loader *L, const config_setting_t *s)
{
	const char *last = NULL;

	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		const char *file = config_setting_source_file(m);

		if (!file) {
			conf_check_included(L, m);
			last = NULL;
		} else if (!last || strcmp(last, file) != 0) {
			conf_err(L, m, "comes from an @include'd file, whose owner and mode "
				 "tsnatd does not check: write it in %s itself", L->path);
			last = file;
		}
	}
}
