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

/* Problems of a file that the process running as uid/gid would trust,
 * given its stat: an owner other than root or uid; write permission for
 * others; write permission for a group other than root's (0) or gid. Each
 * is written to errs as "path: problem; fix with command"; returns how
 * many. */
int conf_file_check(const char *path, const struct stat *st, uid_t uid, gid_t gid,
		    FILE *errs);

/* Report every setting of the tree under s that came from an @include'd
 * file: conf_file_open checked the main file only. */
void conf_check_included(struct loader *L, const config_setting_t *s);

/* The enum keys' names (confenum.c). */
extern const struct conf_enum conf_on_full_enum, conf_rules_enum, conf_log_enum,
	conf_mode_enum, conf_action_enum;

#endif
