/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conf_int.h - what the configuration loader (conf.c) shares with its
 * value checks (confcheck.c) and their tests: the loader's error sink and
 * one loader per key type. */
#ifndef TSNATD_CONF_INT_H
#define TSNATD_CONF_INT_H

#include <libconfig.h>
#include <sys/stat.h>

#include "conf.h"
#include "log.h"

struct loader {
	const char *path;	/* the file, for errors without a setting */
	FILE *errs;
	int nerr;		/* errors reported so far */
};

/* Report "file:line: message" for setting s (NULL: line 0) and count it. */
void conf_err(struct loader *L, const config_setting_t *s, const char *fmt, ...)
	LOGF(3, 4);

/* The last component of k's path. */
const char *conf_key_leaf(const struct conf_key *k);

/* Store an integer-like value (bool, int, unsigned or enum field). */
void conf_store(void *base, const struct conf_key *k, long long v);

/* Check setting s against key k and store it in base (struct conf or
 * struct policy); on a wrong value report it and leave the field alone. */
void conf_load_uint(struct loader *L, const config_setting_t *s,
		    const struct conf_key *k, void *base);
void conf_load_enum(struct loader *L, const config_setting_t *s,
		    const struct conf_key *k, void *base);
void conf_load_text(struct loader *L, const config_setting_t *s,
		    const struct conf_key *k, void *base);
void conf_load_cidrs(struct loader *L, const config_setting_t *s,
		     const struct conf_key *k, void *base);

/* Open path for reading if its owner and mode let only root or this
 * process's user change it (conf_file_check on the opened file: what is
 * checked is what is read). NULL after reporting why not. A symbolic link
 * is followed: its target is what gets checked and read. */
FILE *conf_file_open(const char *path, FILE *errs);

/* A user as the kernel checks its file access: uid, primary group and the
 * supplementary groups (the first CONF_USER_GROUPS of them). */
#define CONF_USER_GROUPS 64
struct conf_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[CONF_USER_GROUPS];
	int ngroups;
};

/* The user name from the user database (getpwnam, getgrouplist): 0, or -1
 * if there is none. Main thread only (getpwnam's static buffer). */
int conf_user_lookup(const char *name, struct conf_user *u);

/* Would the kernel grant u the access in want (S_IROTH: read, S_IXOTH:
 * search; the "other" bits stand for the class) to a file with st's
 * owner, group and mode? The owner's bits alone decide for the owner, the
 * group's for a member, the others' for the rest, as in the kernel's
 * generic_permission(). POSIX ACLs are not read: a file with an ACL that
 * lets u in (the group bits then show the ACL's mask) can be judged
 * unreadable; CONF_SERVICE_USER holds no capability that overrides modes
 * (tsnatd.service's CapabilityBoundingSet). */
bool conf_user_may(const struct stat *st, const struct conf_user *u, unsigned want);

/* Problems of a file that the process running as uid/gid would trust,
 * given its stat: an owner other than root or uid; write permission for
 * others; write permission for a group other than root's (0) or gid. Each
 * is written to errs (if not NULL) as "path: problem; fix with command";
 * returns how many. Run as root (uid 0) that leaves root alone: then the
 * messages name the service user svc (if not NULL), whose own file only
 * the daemon running as that user trusts. */
int conf_file_check(const char *path, const struct stat *st, uid_t uid, gid_t gid,
		    const struct conf_user *svc, FILE *errs);

/* Report every setting of the tree under s that came from an @include'd
 * file: conf_file_open checked the main file only. */
void conf_check_included(struct loader *L, const config_setting_t *s);

/* The enum keys' names (confenum.c). */
extern const struct conf_enum conf_on_full_enum, conf_rules_enum, conf_log_enum,
	conf_mode_enum, conf_action_enum;

#endif
