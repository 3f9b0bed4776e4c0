/* SPDX-License-Identifier: GPL-2.0-or-later */
/* confenum.c - the names of the configuration's enum values: the one
 * mapping between them, for conf.c's key table. */
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "log.h"

/* Enum fields are stored as int-sized values. */
_Static_assert(sizeof(enum flows_on_full) == sizeof(int), "enum size");
_Static_assert(sizeof(enum policy_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_rules) == sizeof(int), "enum size");

#define NAMES_N(t) (sizeof(t) / sizeof((t)[0]))

/* v's name in a table indexed by value, NULL past it or in a hole. */
static const char *
table_name(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

/* The value whose name is s in such a table, -1 if none. */
static int
table_parse(const char *const *names, size_t n, const char *s)
{
	for (size_t v = 0; v < n; v++)
		if (names[v] && strcmp(s, names[v]) == 0)
			return (int)v;
	return -1;
}

/* flows.on_full: the one mapping between its values and names. */
static const char *const on_full_names[] = {
	[ON_FULL_STRIP] = "strip",
	[ON_FULL_PASS] = "pass",
	[ON_FULL_EVICT_IDLE] = "evict-idle",
};

static const char *
conf_on_full_name(int v)
{
	return table_name(on_full_names, NAMES_N(on_full_names), v);
}

static int
conf_on_full_parse(const char *s)
{
	return table_parse(on_full_names, NAMES_N(on_full_names), s);
}

/* rules: the one mapping between its values and names. */
static const char *const rules_names[] = {
	[CONF_RULES_AUTO] = "auto",
	[CONF_RULES_IPTABLES] = "iptables",
	[CONF_RULES_NFT] = "nft",
	[CONF_RULES_NONE] = "none",
};

static const char *
conf_rules_name(int v)
{
	return table_name(rules_names, NAMES_N(rules_names), v);
}

static int
conf_rules_parse(const char *s)
{
	return table_parse(rules_names, NAMES_N(rules_names), s);
}

/* Policy modes and log levels keep their names in their own modules. */
static int
conf_mode_parse(const char *s)
{
	enum policy_mode m;

	return policy_mode_parse(s, &m) < 0 ? -1 : (int)m;
}

static const char *
conf_mode_name(int v)
{
	const char *n = policy_mode_name((enum policy_mode)v);

	return strcmp(n, "?") != 0 ? n : NULL;
}

const struct conf_enum conf_on_full_enum = {
	conf_on_full_parse, conf_on_full_name, ON_FULL_STRIP, ON_FULL_EVICT_IDLE };
const struct conf_enum conf_rules_enum = {
	conf_rules_parse, conf_rules_name, CONF_RULES_AUTO, CONF_RULES_NONE };
const struct conf_enum conf_log_enum = {
	log_level_parse, log_level_name, LOG_EMERG, LOG_DEBUG };
/* 0..31: every mode policy.c names, however many there are. */
const struct conf_enum conf_mode_enum = { conf_mode_parse, conf_mode_name, 0, 31 };

/* auto's action: the modes that fix a legacy server. */
static int
conf_action_parse(const char *s)
{
	int m = conf_mode_parse(s);

	return m == MODE_STRIP || m == MODE_REWRITE ? m : -1;
}

static const char *
conf_action_name(int v)
{
	return v == MODE_STRIP || v == MODE_REWRITE ? conf_mode_name(v) : NULL;
}

const struct conf_enum conf_action_enum = { conf_action_parse, conf_action_name,
					       MODE_STRIP, MODE_REWRITE };
