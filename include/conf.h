/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conf.h - the configuration file (libconfig) parsed into a struct conf.
 * A conf is immutable once loaded: a reload loads a new one and swaps.
 *
 * Every key is described once, in the table conf_keys() returns: its path,
 * type, range, default, names (enums) and a line of documentation. The
 * unknown-key check, the defaults, the range checks, `tsnatd
 * --print-config-keys` and doc/tsnatd.conf.5 all follow from it. */
#ifndef TSNATD_CONF_H
#define TSNATD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "policy.h"

#define CONF_DEFAULT_PATH "/etc/tsnatd/tsnatd.conf"
/* The user tsnatd.service runs the daemon as: the unit's User= and Group=,
 * and the user systemd/tsnatd.sysusers creates (test_conf holds the unit
 * to it). The daemon does not switch users itself; tsnatd -t run as root
 * checks the file as this user will read it. */
#define CONF_SERVICE_USER "tsnatd"

enum flows_on_full {
	ON_FULL_STRIP,		/* new flow gets strip: no timestamps at all */
	ON_FULL_PASS,		/* new flow passes untouched: may be dropped */
	ON_FULL_EVICT_IDLE,	/* evict the longest-idle flow: its rewrite stops */
};

/* rules: what tsnatd --apply-rules / --remove-rules install them with. */
enum conf_rules {
	CONF_RULES_AUTO,	/* iptables (and ip6tables) if installed, else nft */
	CONF_RULES_IPTABLES,	/* iptables, ip6tables: legacy or nf_tables variant */
	CONF_RULES_NFT,		/* nft: table inet tsnatd */
	CONF_RULES_NONE,	/* nothing: the operator loads the rules */
};

struct conf {
	bool enabled;
	int log_level;			/* LOG_ERR .. LOG_DEBUG */
	unsigned queue_first;
	unsigned queue_count;
	unsigned queue_maxlen;
	enum conf_rules rules;		/* the tool that installs the rules */
	unsigned flows_max;
	unsigned flows_idle_timeout;	/* seconds */
	enum flows_on_full flows_on_full;
	unsigned flows_half_open_timeout; /* seconds a flow waits for its server */
	unsigned flows_per_client;	/* flows of one client address; 0: auto */
	char state_dir[256];		/* flow state across restarts */
	char control_socket[108];	/* sun_path; "": no control socket */
	char metrics_file[256];		/* node_exporter textfile; "": none */
	unsigned metrics_interval;	/* seconds between its rewrites */
	bool offload;			/* rewrite's kernel data path, if it loads */
	char offload_interfaces[256];	/* "auto", or names */
	unsigned offload_mark;		/* skb mark bit(s) of kernel-shifted packets */
	char offload_dir[256];		/* pins, on a bpf file system */
	bool ha_labels;			/* flows' state in conntrack labels */
	unsigned ha_label_first;	/* the first label bit of tsnatd's record */
	unsigned ha_clock_skew;		/* ms between the pair's clocks */
	struct policy *pol;
	size_t npol;
	struct policy_dst4 *dst4;	/* pol's IPv4 destinations, flattened */
	size_t ndst4;
	unsigned modes;			/* 1 << MODE_x of every policy */
};

enum conf_type {
	CONF_BOOL,		/* true | false */
	CONF_UINT,		/* integer in min..max */
	CONF_ENUM,		/* one of the names of an enum */
	CONF_STRING,		/* min..max characters */
	CONF_PATH,		/* an absolute path shorter than its field */
	CONF_CIDRS,		/* a CIDR or a list of them */
	CONF_GROUP,		/* { key = value; ... } of the keys below it */
	CONF_LIST,		/* ( { ... }, ... ) of the keys below it */
};

/* The names of an enum: the one mapping between names and values is
 * behind name(); it returns NULL for a value without a name. Values
 * first..last are listed, in that order, for errors and documentation. */
struct conf_enum {
	int (*parse)(const char *s);	/* value, or -1 */
	const char *(*name)(int v);
	int first, last;
};

#define CONF_REQUIRED	0x01	/* a group or list entry must have it */
#define CONF_HOST	0x02	/* CIDRS: single addresses only */
#define CONF_AUTO	0x04	/* CIDRS: or "auto" (the default) */
#define CONF_WRITABLE	0x08	/* PATH: a directory tsnatd can write, or create
				   in one it can write (the default is not
				   checked: the unit creates it) */
#define CONF_EMPTY	0x10	/* PATH: or "" (off) */
#define CONF_HEX	0x20	/* UINT: bits (a mask), so its default and range
				   are written in hex, as the example config
				   and the firewall rules write them */

struct conf_key {
	const char *path;	/* "queue.first"; policy keys "policies.name" */
	enum conf_type type;
	unsigned flags;		/* CONF_* */
	long long min, max;	/* UINT: value; STRING: length */
	const char *chars;	/* STRING: the characters allowed (see
				   conf_chars_reject); NULL: any */
	long long def;		/* BOOL, UINT, ENUM: the default */
	const char *def_text;	/* STRING, PATH: the default; CIDRS: its meaning */
	const struct conf_enum *names;	/* ENUM */
	size_t off, size;	/* the field in struct conf or struct policy */
	size_t off_n;		/* CIDRS: the count; AUTO: the bool in off_auto */
	size_t off_auto;
	const char *doc;
};

/* The key table, in documentation order; *n receives its length. */
const struct conf_key *conf_keys(size_t *n);

/* e's names, "a, b, c", in value order. */
void conf_enum_names(const struct conf_enum *e, char *out, size_t len);

/* The type of a key as documented ("integer", "CIDR list", ...). */
const char *conf_type_name(const struct conf_key *k);

/* k's default and its range or names as text, for documentation. */
void conf_key_default(const struct conf_key *k, char *out, size_t len);
void conf_key_range(const struct conf_key *k, char *out, size_t len);

/* The first character of s that chars does not allow, or NULL if it
 * allows them all. chars is written like the inside of a bracket
 * expression: single characters and ranges ("A-Za-z0-9._-"); a '-' first
 * or last stands for itself. */
const char *conf_chars_reject(const char *chars, const char *s);

/* Would conf_load accept s as a policy name (length and characters, from
 * the table)? For code that writes names where a quote or a newline would
 * change the meaning, such as firewall rules. */
bool conf_policy_name_ok(const char *s);

/* Load and validate path. On any error every problem found is written to
 * errs as "file:line: message" and NULL is returned. */
struct conf *conf_load(const char *path, FILE *errs);

void conf_free(struct conf *c);

/* For tsnatd -t run as root, whose answer must hold for the daemon that
 * tsnatd.service starts as CONF_SERVICE_USER: can that user read path?
 * The mode bits of the file and of every directory above it (of the
 * link's target, for a symbolic link), against the user's uid, primary
 * group and supplementary groups. 0 if it can, or if there is no such
 * user on this system (a note on errs says it was not checked); -1 after
 * "tsnatd: the service user tsnatd cannot read PATH (why); fix with ..."
 * on errs. */
int conf_service_check(const char *path, FILE *errs);

/* Modes used by any policy (bit 1 << MODE_x). */
unsigned conf_modes(const struct conf *c);

/* Does any policy rewrite (mode rewrite, or auto with action rewrite)? */
bool conf_rewrites(const struct conf *c);

/* The key reference: CONF_DOC_TEXT one key a line, CONF_DOC_MAN the
 * manual page tsnatd.conf(5) (doc/tsnatd.conf.5 is this output). */
enum conf_doc_format { CONF_DOC_TEXT, CONF_DOC_MAN };
void conf_doc_print(FILE *f, enum conf_doc_format fmt);

#endif
