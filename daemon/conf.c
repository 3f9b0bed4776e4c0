/* conf.c - libconfig -> struct conf; every error as file:line: message. */
#include <libconfig.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "flow.h"
#include "log.h"

/* The one place where defaults live. */
static const struct conf conf_defaults = {
	.enabled = true,
	.log_level = LOG_INFO,
	.queue_first = 0,
	.queue_count = 1,
	.queue_maxlen = 8192,
	.flows_max = 262144,
	.flows_idle_timeout = 600,
	.flows_on_full = ON_FULL_STRIP,
	.state_dir = "/run/tsnatd",
};

struct loader {
	const char *path;
	FILE *errs;
	int nerr;
};

static void LOGF(3, 4)
conf_err(struct loader *L, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	va_list ap;

	fprintf(L->errs, "%s:%u: ", file ? file : L->path,
		s ? config_setting_source_line(s) : 0);
	va_start(ap, fmt);
	vfprintf(L->errs, fmt, ap);
	va_end(ap);
	fputc('\n', L->errs);
	L->nerr++;
}

/* Report every member of group g whose name is not in allowed[]. */
static void
check_keys(struct loader *L, const config_setting_t *g, const char *what,
	   const char *const allowed[])
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;

		for (size_t k = 0; allowed[k]; k++)
			ok |= name && strcmp(name, allowed[k]) == 0;
		if (!ok)
			conf_err(L, m, "unknown key '%s' in %s", name ? name : "?", what);
	}
}

static bool
get_bool(struct loader *L, const config_setting_t *g, const char *key, bool *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (!s)
		return false;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		conf_err(L, s, "'%s' must be true or false", key);
		return false;
	}
	*out = config_setting_get_bool(s);
	return true;
}

static bool
get_uint(struct loader *L, const config_setting_t *g, const char *key,
	 long long min, long long max, unsigned *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	long long v;

	if (!s)
		return false;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		conf_err(L, s, "'%s' must be an integer", key);
		return false;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		conf_err(L, s, "'%s' = %lld is out of range %lld..%lld", key, v, min, max);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static const char *
get_string(struct loader *L, const config_setting_t *g, const char *key)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(L, s, "'%s' must be a string", key);
		return NULL;
	}
	return config_setting_get_string(s);
}

/* A string or an array/list of strings, each a CIDR. */
static size_t
get_cidrs(struct loader *L, const config_setting_t *s, const char *key,
	  struct cidr **out, bool host_only)
{
	int n = 1, type = config_setting_type(s);
	struct cidr *v;
	size_t got = 0;

	if (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST) {
		n = config_setting_length(s);
		if (n == 0) {
			conf_err(L, s, "'%s' is empty", key);
			*out = NULL;
			return 0;
		}
	} else if (type != CONFIG_TYPE_STRING) {
		conf_err(L, s, "'%s' must be a string or a list of strings", key);
		return 0;
	}
	v = calloc((size_t)(n ? n : 1), sizeof(*v));
	if (!v)
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
		if (host_only && v[got].prefix != (v[got].family == 4 ? 32 : 128)) {
			conf_err(L, e, "%s: '%s' must be a single address", key,
				 config_setting_get_string(e));
			continue;
		}
		got++;
	}
	*out = v;
	return got;
}

static void
load_policy(struct loader *L, const config_setting_t *g, struct policy *p)
{
	static const char *const keys[] = { "name", "mode", "destinations",
		"sources", "translated_source", NULL };
	const config_setting_t *s;
	const char *str;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		conf_err(L, g, "each policy must be a group { ... }");
		return;
	}
	check_keys(L, g, "policy", keys);
	str = get_string(L, g, "name");
	if (!str || !*str)
		conf_err(L, g, "policy needs a non-empty 'name'");
	else if (strlen(str) >= sizeof(p->name))
		conf_err(L, g, "policy name '%s' is longer than %zu characters",
			 str, sizeof(p->name) - 1);
	else
		strcpy(p->name, str);

	str = get_string(L, g, "mode");
	if (!str)
		conf_err(L, g, "policy '%s' needs a 'mode' (strip, rewrite, observe or pass)", p->name);
	else if (policy_mode_parse(str, &p->mode) < 0)
		conf_err(L, config_setting_get_member(g, "mode"),
			 "mode '%s' is not one of strip, rewrite, observe, pass", str);
	else if (p->mode == MODE_OBSERVE)
		conf_err(L, config_setting_get_member(g, "mode"),
			 "mode 'observe' is not implemented in this version");

	s = config_setting_get_member(g, "destinations");
	if (!s)
		conf_err(L, g, "policy '%s' needs 'destinations'", p->name);
	else
		p->ndst = get_cidrs(L, s, "destinations", &p->dst, false);

	s = config_setting_get_member(g, "sources");
	if (s)
		p->nsrc = get_cidrs(L, s, "sources", &p->src, false);

	p->ts_auto = true;
	s = config_setting_get_member(g, "translated_source");
	if (s && !(config_setting_type(s) == CONFIG_TYPE_STRING &&
		   strcmp(config_setting_get_string(s), "auto") == 0)) {
		p->ts_auto = false;
		p->ntsrc = get_cidrs(L, s, "translated_source", &p->tsrc, true);
	}
}

static void
load_policies(struct loader *L, const config_setting_t *list, struct conf *c)
{
	int n;

	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		conf_err(L, list, "'policies' must be a list ( { ... }, ... )");
		return;
	}
	n = config_setting_length(list);
	c->pol = calloc((size_t)(n ? n : 1), sizeof(*c->pol));
	if (!c->pol)
		fatal("calloc");
	c->npol = (size_t)n;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);

		load_policy(L, g, &c->pol[i]);
		for (int j = 0; j < i; j++)
			if (c->pol[i].name[0] && strcmp(c->pol[i].name, c->pol[j].name) == 0)
				conf_err(L, g, "duplicate policy name '%s'", c->pol[i].name);
	}
}

static void
load_root(struct loader *L, const config_setting_t *root, struct conf *c)
{
	static const char *const keys[] = { "enabled", "log_level", "queue",
		"flows", "policies", "state_dir", NULL };
	static const char *const qkeys[] = { "first", "count", "maxlen", NULL };
	static const char *const fkeys[] = { "max", "idle_timeout", "on_full", NULL };
	static const char *const on_full[] = { "strip", "pass", "evict-idle" };
	const config_setting_t *g;
	const char *str;

	check_keys(L, root, "the top level", keys);
	get_bool(L, root, "enabled", &c->enabled);
	if ((str = get_string(L, root, "log_level")) &&
	    (c->log_level = log_level_parse(str)) < 0)
		conf_err(L, config_setting_get_member(root, "log_level"),
			 "log_level '%s' is not one of error, warn, info, debug", str);

	if ((g = config_setting_get_member(root, "queue"))) {
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_err(L, g, "'queue' must be a group { first; count; maxlen; }");
		} else {
			check_keys(L, g, "queue", qkeys);
			get_uint(L, g, "first", 0, 65535, &c->queue_first);
			get_uint(L, g, "count", 1, 64, &c->queue_count);
			get_uint(L, g, "maxlen", 1, 1 << 24, &c->queue_maxlen);
			if (c->queue_first + c->queue_count - 1 > 65535)
				conf_err(L, g, "queues %u..%u go past 65535", c->queue_first,
					 c->queue_first + c->queue_count - 1);
		}
	}

	if ((g = config_setting_get_member(root, "flows"))) {
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			conf_err(L, g, "'flows' must be a group { max; idle_timeout; on_full; }");
		} else {
			check_keys(L, g, "flows", fkeys);
			get_uint(L, g, "max", 1024, 1u << 26, &c->flows_max);
			get_uint(L, g, "idle_timeout", 10, FLOW_TIMEOUT_MAX, &c->flows_idle_timeout);
			if ((str = get_string(L, g, "on_full"))) {
				size_t i;

				for (i = 0; i < 3 && strcmp(str, on_full[i]) != 0; i++)
					;
				if (i == 3)
					conf_err(L, config_setting_get_member(g, "on_full"),
						 "on_full '%s' is not one of strip, pass, evict-idle", str);
				else
					c->flows_on_full = (enum flows_on_full)i;
			}
		}
	}

	if ((str = get_string(L, root, "state_dir"))) {
		if (str[0] != '/' || strlen(str) >= sizeof(c->state_dir))
			conf_err(L, config_setting_get_member(root, "state_dir"),
				 "state_dir must be an absolute path shorter than %zu",
				 sizeof(c->state_dir));
		else
			strcpy(c->state_dir, str);
	}

	if ((g = config_setting_get_member(root, "policies")))
		load_policies(L, g, c);
}

struct conf *
conf_load(const char *path, FILE *errs)
{
	struct loader L = { .path = path, .errs = errs };
	struct conf *c;
	config_t cfg;
	long n;

	c = malloc(sizeof(*c));
	if (!c)
		fatal("malloc");
	*c = conf_defaults;
	config_init(&cfg);
	if (!config_read_file(&cfg, path)) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			fprintf(errs, "%s: cannot read the file\n", path);
		else
			fprintf(errs, "%s:%d: %s\n",
				config_error_file(&cfg) ? config_error_file(&cfg) : path,
				config_error_line(&cfg), config_error_text(&cfg));
		config_destroy(&cfg);
		conf_free(c);
		return NULL;
	}
	load_root(&L, config_root_setting(&cfg), c);
	config_destroy(&cfg);
	if (L.nerr) {
		conf_free(c);
		return NULL;
	}
	for (size_t i = 0; i < c->npol; i++)
		c->modes |= 1u << c->pol[i].mode;
	n = policy_dst4_build(c->pol, c->npol, &c->dst4);
	if (n < 0)
		fatal("malloc");
	c->ndst4 = (size_t)n;
	return c;
}

void
conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npol; i++) {
		free(c->pol[i].dst);
		free(c->pol[i].src);
		free(c->pol[i].tsrc);
	}
	free(c->pol);
	free(c->dst4);
	free(c);
}

unsigned
conf_modes(const struct conf *c)
{
	return c->modes;
}
