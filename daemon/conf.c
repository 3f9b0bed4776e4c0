/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conf.c - libconfig -> struct conf, driven by one table of keys; every
 * error as file:line: message, and all of them reported. */
#include <libconfig.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctlabel.h"
#include "conf_int.h"
#include "control.h"
#include "flow.h"
#include "log.h"

#define CF(f) .off = offsetof(struct conf, f), .size = sizeof(((struct conf *)0)->f)
#define PF(f) .off = offsetof(struct policy, f), .size = sizeof(((struct policy *)0)->f)

/* Every key, once. Group and list members follow their parent. */
static const struct conf_key conf_table[] = {
	{ "enabled", CONF_BOOL, .def = true, CF(enabled),
	  .doc = "false: every new flow passes untouched; flows already rewritten "
		 "keep their rewrite until they end" },
	{ "log_level", CONF_ENUM, .def = LOG_INFO, .names = &conf_log_enum, CF(log_level),
	  .doc = "the least important kind of message logged" },
	{ "queue", CONF_GROUP, .doc = "the NFQUEUE queues, one worker thread each" },
	{ "queue.first", CONF_UINT, .min = 0, .max = 65535, .def = 0, CF(queue_first),
	  .doc = "the number of the first queue" },
	{ "queue.count", CONF_UINT, .min = 1, .max = 64, .def = 1, CF(queue_count),
	  .doc = "queues first .. first+count-1; with more than one the rules use "
		 "--queue-balance, which keeps both directions of a flow on one queue. "
		 "first and count change at a restart only: a reload (and "
		 "--apply-rules while tsnatd runs) that changes them is refused with "
		 "\"restart required\", the running configuration and the rules kept, "
		 "so that the rules never name a queue nobody listens on" },
	{ "queue.maxlen", CONF_UINT, .min = 1, .max = 1 << 24, .def = 8192, CF(queue_maxlen),
	  .doc = "packets the kernel holds per queue before it fails open (accepts "
		 "them unmodified); size it for the longest stall to absorb. A reload "
		 "keeps the running value (warned): it applies at the next start" },
	{ "rules", CONF_ENUM, .def = CONF_RULES_AUTO, .names = &conf_rules_enum, CF(rules),
	  .doc = "the tool tsnatd --apply-rules installs the firewall rules with "
		 "(tsnatd.service runs it at start and reload, and --remove-rules at "
		 "stop): iptables (iptables for IPv4 and ip6tables for IPv6, chain "
		 "TSNATD of table mangle; iptables-legacy and iptables-nft alike), "
		 "nft (table inet tsnatd), auto (iptables if iptables and "
		 "iptables-restore are installed, and ip6tables too when there are "
		 "IPv6 rules; else nft) or none (both options do nothing: the "
		 "operator loads tsnatd --print-rules output). Applying also removes "
		 "tsnatd's rules from the back end not chosen, so that no packet is "
		 "queued twice; --remove-rules removes them from every back end (with "
		 "nft where iptables is missing: it sees what iptables-nft loaded). nft "
		 "needs the kernel's queue expression (nft_queue, CONFIG_NFT_QUEUE); "
		 "without it choose iptables, whose nf_tables variant works there" },
	{ "flows", CONF_GROUP, .doc = "the flow table of rewrite mode" },
	{ "flows.max", CONF_UINT, .min = 1024, .max = 1 << 26, .def = 262144, CF(flows_max),
	  .doc = "flows in all, split over the queues (about 69 bytes each); with "
		 "offload, also the entries of the kernel's map (about 150 bytes "
		 "each, kernel memory), whose LRU evicts the least recently used "
		 "flow when it is full (flows.on_full does not apply there)" },
	{ "flows.idle_timeout", CONF_UINT, .min = 10, .max = FLOW_TIMEOUT_MAX, .def = 600,
	  CF(flows_idle_timeout), .doc = "seconds without a packet that end a flow" },
	{ "flows.half_open_timeout", CONF_UINT, .min = 1, .max = 120, .def = 5,
	  CF(flows_half_open_timeout),
	  .doc = "seconds a new flow waits for its server's first answer before it "
		 "ends; such half-open flows are also evicted first" },
	{ "flows.per_client", CONF_UINT, .min = 0, .max = 1 << 26, .def = 0,
	  CF(flows_per_client),
	  .doc = "half-open and open flows one client address may hold (0: flows.max "
		 "/ 16, at least 16); a client over it gets strip for its new "
		 "connections" },
	{ "flows.on_full", CONF_ENUM, .def = ON_FULL_EVICT_IDLE, .names = &conf_on_full_enum,
	  CF(flows_on_full),
	  .doc = "what a new connection gets when the table is full: evict-idle (it "
		 "replaces a half-open flow, else a closing one, else the longest-idle "
		 "one, whose rewrite stops), strip (no timestamps: a 4.x server drops "
		 "it within 60 s of a timestamped connection from the same address) or "
		 "pass (its own timestamps: the server may drop it, and what it records "
		 "can make it drop everyone's SYNs for 60 s)" },
	{ "state_dir", CONF_PATH, CONF_WRITABLE, .def_text = "/run/tsnatd", CF(state_dir),
	  .doc = "where rewrite state (flows, timestamp marks) is saved on stop and "
		 "restored on start. tsnatd must be able to write it, or to create it "
		 "in its parent, or the file is refused: tsnatd.service runs tsnatd -t "
		 "and the daemon where only /run/tsnatd (this default, emptied at boot) "
		 "and /var/lib/tsnatd (kept across boots) are writable, and where /tmp "
		 "is private to each run; another directory must be added to the "
		 "unit's ReadWritePaths=" },
	{ "control_socket", CONF_PATH, CONF_EMPTY, .def_text = CONTROL_SOCKET_DEFAULT,
	  CF(control_socket),
	  .doc = "the Unix socket tsnatctl(8) talks to (\"\": none). tsnatd creates it "
		 "mode 0660, owned by its user and group; root, that user and the "
		 "members of that group may use it. A reload keeps the socket; a new "
		 "path takes effect at the next start" },
	{ "metrics", CONF_GROUP,
	  .doc = "Prometheus metrics as a textfile for node_exporter's textfile "
		 "collector (tsnatctl metrics gives the same text on demand)" },
	{ "metrics.file", CONF_PATH, CONF_EMPTY, .def_text = "", CF(metrics_file),
	  .doc = "the file, e.g. /var/lib/node_exporter/tsnatd.prom (\"\": none), "
		 "replaced atomically (a temporary file in the same directory, then "
		 "a rename), mode 0644; its directory must be writable by tsnatd "
		 "(add it to the unit's ReadWritePaths=)" },
	{ "metrics.interval", CONF_UINT, .min = 1, .max = 3600, .def = 15,
	  CF(metrics_interval), .doc = "seconds between two rewrites of the file" },
	{ "offload", CONF_BOOL, .def = true, CF(offload),
	  .doc = "rewrite's kernel data path: tc programs on the client-facing "
		 "interfaces shift every packet of a rewritten flow but its SYNs, "
		 "which tsnatd still decides through NFQUEUE. When it cannot load "
		 "(no BPF with BTF, no CAP_BPF, no bpf file system) tsnatd says why "
		 "and rewrites through NFQUEUE alone; the firewall rules fit either. "
		 "A reload follows it (and the policies): one that makes a policy "
		 "rewrite loads the kernel data path as a start would; one that leaves "
		 "none rewriting (or sets offload = false) lets it drain: its flows "
		 "keep their shift until they end, then it is removed. Both are logged, "
		 "and tsnatctl status shows them" },
	{ "offload_interfaces", CONF_STRING, .min = 1, .max = 255,
	  .chars = "A-Za-z0-9._@: -", .def_text = "auto", CF(offload_interfaces),
	  .doc = "the client-facing interfaces, names separated by spaces (flows "
		 "from others stay in NFQUEUE), or \"auto\": each interface a "
		 "rewritten flow's first SYN came in on, before that SYN is sent on. "
		 "Ethernet interfaces only (not WireGuard, tun, PPP). Read when the "
		 "kernel data path is loaded (at start, or the reload that first needs it)" },
	{ "offload_mark", CONF_UINT, CONF_HEX, .min = 1, .max = 0x40000000, .def = 0x10000000,
	  CF(offload_mark),
	  .doc = "the packet mark bit(s) the kernel data path sets on the packets it "
		 "shifted, which the firewall rules use to keep them (and, through "
		 "the connection mark, their replies) out of the queue; pick bits no "
		 "other rule on the gateway uses. It is set before routing: an "
		 "\"ip rule fwmark\" without a mask would see it. Read when the kernel "
		 "data path is loaded (at start, or the reload that first needs it; a "
		 "restart loads programs with the new one)" },
	{ "offload_dir", CONF_PATH, .def_text = "/run/tsnatd/bpf", CF(offload_dir),
	  .doc = "where the programs and maps are pinned: a bpf file system, or a "
		 "directory to be made in one. A restarted tsnatd adopts them, so "
		 "rewritten flows keep their shift across a restart or a crash; "
		 "tsnatd --unload removes them. tsnatd.service mounts a bpf file "
		 "system of its own on /run/tsnatd/bpf, owned by the user tsnatd "
		 "(/sys/fs/bpf is root's alone). Read when the kernel data path is "
		 "loaded (at start, or the reload that first needs it)" },
	{ "ha_labels", CONF_BOOL, .def = false, CF(ha_labels),
	  .doc = "for HA pairs (keepalived and conntrackd): rewrite writes each "
		 "flow's state (its offset, and where its real-time bound starts) "
		 "into the flow's conntrack labels, which conntrackd carries to the "
		 "other gateway; a daemon that meets a flow it has no state for "
		 "(after a failover, or a restart without its state file) adopts it "
		 "from them. The rules then keep conntrack labels on (a label rule "
		 "in tsnatd's chain): run tsnatd on both gateways, since conntrackd "
		 "cannot commit a labelled entry where labels are off. One label "
		 "write per rewritten connection, sent after the verdicts" },
	{ "ha_label_first", CONF_UINT, .min = 0, .max = CTLABEL_FIRST_MAX,
	  .def = CTLABEL_FIRST_DEFAULT, CF(ha_label_first),
	  .doc = "the first of the 104 consecutive conntrack label bits tsnatd "
		 "uses (label bits 0..127; the default leaves 0..23 to other rules). "
		 "Both gateways must use the same" },
	{ "ha_clock_skew", CONF_UINT, .min = 0, .max = 10000, .def = 100, CF(ha_clock_skew),
	  .doc = "ms the two gateways' wall clocks may be apart: after a takeover "
		 "(tsnatctl takeover, or a translated source address appearing) "
		 "every domain starts this far above what the other gateway may "
		 "have sent, and adopted flows are bounded as if this much older. "
		 "Being ahead costs a legacy server nothing; being behind drops SYNs" },
	{ "policies", CONF_LIST,
	  .doc = "the policies, tried in order: the first whose destinations (and "
		 "sources, if given) match a connection decides" },
	{ "policies.name", CONF_STRING, CONF_REQUIRED, .min = 1,
	  .max = sizeof(((struct policy *)0)->name) - 1, .chars = "A-Za-z0-9._-", PF(name),
	  .doc = "a unique name, used in logs and as the comment of its firewall "
		 "rules: letters, digits, dot, underscore and hyphen only, so that "
		 "it cannot end a quoted comment or start a rule of its own" },
	{ "policies.mode", CONF_ENUM, CONF_REQUIRED, .names = &conf_mode_enum, PF(mode),
	  .doc = "strip: remove the timestamp option from client SYNs; rewrite: make "
		 "timestamps monotonic per translated source; pass: leave the traffic "
		 "alone; observe: change nothing, find the servers that drop SYNs "
		 "because of timestamps (tsnatctl servers); auto: observe, and give "
		 "the servers found legacy the policy's action" },
	{ "policies.action", CONF_ENUM, .def = MODE_STRIP, .names = &conf_action_enum, PF(action),
	  .doc = "mode auto: what servers classified legacy get, strip or rewrite; "
		 "from the moment they are classified" },
	{ "policies.destinations", CONF_CIDRS, CONF_REQUIRED, PF(dst),
	  .off_n = offsetof(struct policy, ndst),
	  .doc = "the servers: a CIDR or a list of CIDRs, IPv4 and IPv6" },
	{ "policies.sources", CONF_CIDRS, .def_text = "any source", PF(src),
	  .off_n = offsetof(struct policy, nsrc),
	  .doc = "the clients behind the gateway: a CIDR or a list of CIDRs" },
	{ "policies.translated_source", CONF_CIDRS, CONF_HOST | CONF_AUTO, PF(tsrc),
	  .off_n = offsetof(struct policy, ntsrc),
	  .off_auto = offsetof(struct policy, ts_auto),
	  .doc = "the address SNAT gives these clients: \"auto\" (the outbound "
		 "interface's primary address, as MASQUERADE picks it), one address, "
		 "or a list of addresses for an SNAT pool" },
};

#define CONF_NKEYS (sizeof(conf_table) / sizeof(conf_table[0]))

const struct conf_key *
conf_keys(size_t *n)
{
	*n = CONF_NKEYS;
	return conf_table;
}

const char *
conf_key_leaf(const struct conf_key *k)
{
	const char *dot = strrchr(k->path, '.');

	return dot ? dot + 1 : k->path;
}

/* Is k a member of the group or list parent ("" = the top level)? */
static bool
conf_key_in(const struct conf_key *k, const char *parent)
{
	size_t n = strlen(parent);

	if (n == 0)
		return strchr(k->path, '.') == NULL;
	return strncmp(k->path, parent, n) == 0 && k->path[n] == '.' &&
	       strchr(k->path + n + 1, '.') == NULL;
}

void
conf_enum_names(const struct conf_enum *e, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int v = e->first; v <= e->last && used < len; v++)
		if (e->name(v))
			used += (size_t)snprintf(out + used, len - used, "%s%s",
						 used ? ", " : "", e->name(v));
}

void
conf_store(void *base, const struct conf_key *k, long long v)
{
	char *p = (char *)base + k->off;

	if (k->size == sizeof(bool)) {
		bool b = v != 0;

		memcpy(p, &b, sizeof(b));
	} else if (k->type == CONF_UINT) {
		unsigned u = (unsigned)v;

		memcpy(p, &u, sizeof(u));
	} else {
		int i = (int)v;

		memcpy(p, &i, sizeof(i));
	}
}

/* The one place defaults are applied: every key of parent and its groups. */
static void
conf_apply_defaults(void *base, const char *parent)
{
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_table[i];

		if (!conf_key_in(k, parent))
			continue;
		switch (k->type) {
		case CONF_BOOL:
		case CONF_UINT:
		case CONF_ENUM:
			if (!(k->flags & CONF_REQUIRED))
				conf_store(base, k, k->def);
			break;
		case CONF_STRING:
		case CONF_PATH:
			if (k->def_text)
				snprintf((char *)base + k->off, k->size, "%s", k->def_text);
			break;
		case CONF_CIDRS:
			if (k->flags & CONF_AUTO)
				*(bool *)(void *)((char *)base + k->off_auto) = true;
			break;
		case CONF_GROUP:
			conf_apply_defaults(base, k->path);
			break;
		case CONF_LIST:
			break;
		}
	}
}

void
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

static const struct conf_key *
conf_key_find(const char *parent, const char *name)
{
	for (size_t i = 0; i < CONF_NKEYS; i++)
		if (conf_key_in(&conf_table[i], parent) &&
		    strcmp(conf_key_leaf(&conf_table[i]), name) == 0)
			return &conf_table[i];
	return NULL;
}

/* "first; count; maxlen;": the members of a group, for messages. */
static void
conf_members(const char *parent, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < CONF_NKEYS && used < len; i++)
		if (conf_key_in(&conf_table[i], parent))
			used += (size_t)snprintf(out + used, len - used, "%s%s;",
						 used ? " " : "", conf_key_leaf(&conf_table[i]));
}

static void conf_load_members(struct loader *L, const config_setting_t *g,
			      const char *parent, void *base, const char *what);
static void conf_load_policies(struct loader *L, const config_setting_t *list,
			       struct conf *c);

static void
conf_load_value(struct loader *L, const config_setting_t *s, const struct conf_key *k,
		void *base)
{
	char members[128];

	switch (k->type) {
	case CONF_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			conf_err(L, s, "'%s' must be true or false", conf_key_leaf(k));
		else
			conf_store(base, k, config_setting_get_bool(s));
		break;
	case CONF_UINT:
		conf_load_uint(L, s, k, base);
		break;
	case CONF_ENUM:
		conf_load_enum(L, s, k, base);
		break;
	case CONF_STRING:
	case CONF_PATH:
		conf_load_text(L, s, k, base);
		break;
	case CONF_CIDRS:
		conf_load_cidrs(L, s, k, base);
		break;
	case CONF_GROUP:
		conf_members(k->path, members, sizeof(members));
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			conf_err(L, s, "'%s' must be a group { %s }", k->path, members);
		else
			conf_load_members(L, s, k->path, base, k->path);
		break;
	case CONF_LIST:
		/* The one list holds the policies; base is the conf. */
		conf_load_policies(L, s, base);
		break;
	}
}

/* Load the members of group g that the table lists under parent; report
 * every other member as unknown (in what). */
static void
conf_load_members(struct loader *L, const config_setting_t *g, const char *parent,
		  void *base, const char *what)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		const struct conf_key *k = name ? conf_key_find(parent, name) : NULL;

		if (!k)
			conf_err(L, m, "unknown key '%s' in %s", name ? name : "?", what);
		else
			conf_load_value(L, m, k, base);
	}
}

/* Report every CONF_REQUIRED key of parent missing from g. */
static void
conf_check_required(struct loader *L, const config_setting_t *g, const char *parent,
		    const char *what)
{
	for (size_t i = 0; i < CONF_NKEYS; i++) {
		const struct conf_key *k = &conf_table[i];
		char names[160] = "";

		if (!conf_key_in(k, parent) || !(k->flags & CONF_REQUIRED) ||
		    config_setting_get_member(g, conf_key_leaf(k)))
			continue;
		if (k->type == CONF_ENUM)
			conf_enum_names(k->names, names, sizeof(names));
		conf_err(L, g, "%s needs '%s'%s%s%s", what, conf_key_leaf(k),
			 names[0] ? " (one of " : "", names, names[0] ? ")" : "");
	}
}

static void
conf_load_policy(struct loader *L, const config_setting_t *g, struct policy *p)
{
	const config_setting_t *mode = config_setting_get_member(g, "mode");
	char what[96];

	conf_apply_defaults(p, "policies");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		conf_err(L, g, "each policy must be a group { ... }");
		return;
	}
	conf_load_members(L, g, "policies", p, "policy");
	if (p->name[0])
		snprintf(what, sizeof(what), "policy '%s'", p->name);
	else
		snprintf(what, sizeof(what), "policy");
	conf_check_required(L, g, "policies", what);
	if (mode && p->mode != MODE_AUTO && config_setting_get_member(g, "action"))
		conf_err(L, config_setting_get_member(g, "action"),
			 "%s: 'action' is for mode auto only", what);
}

static void
conf_load_policies(struct loader *L, const config_setting_t *list, struct conf *c)
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

		conf_load_policy(L, g, &c->pol[i]);
		for (int j = 0; j < i; j++)
			if (c->pol[i].name[0] && strcmp(c->pol[i].name, c->pol[j].name) == 0)
				conf_err(L, g, "duplicate policy name '%s'", c->pol[i].name);
	}
}

/* What the table cannot say: checks across keys. */
static void
conf_check_root(struct loader *L, const config_setting_t *root, const struct conf *c)
{
	const config_setting_t *q = config_setting_get_member(root, "queue");

	if (c->queue_first + c->queue_count - 1 > 65535)
		conf_err(L, q, "queues %u..%u go past 65535", c->queue_first,
			 c->queue_first + c->queue_count - 1);
}

/* Parse path into cfg, once the file passed conf_file_open's checks; on
 * any error report it and return false (cfg destroyed). */
static bool
conf_read(const char *path, config_t *cfg, FILE *errs)
{
	FILE *f = conf_file_open(path, errs);
	int ok;

	if (!f)
		return false;
	config_init(cfg);
	ok = config_read(cfg, f);
	fclose(f);
	if (ok)
		return true;
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
		fprintf(errs, "%s: cannot read the file\n", path);
	else
		fprintf(errs, "%s:%d: %s\n",
			config_error_file(cfg) ? config_error_file(cfg) : path,
			config_error_line(cfg), config_error_text(cfg));
	config_destroy(cfg);
	return false;
}

struct conf *
conf_load(const char *path, FILE *errs)
{
	struct loader L = { .path = path, .errs = errs };
	struct conf *c;
	config_t cfg;
	long n;

	if (!(c = calloc(1, sizeof(*c))))
		fatal("calloc");
	conf_apply_defaults(c, "");
	if (!conf_read(path, &cfg, errs)) {
		conf_free(c);
		return NULL;
	}
	conf_check_included(&L, config_root_setting(&cfg));
	conf_load_members(&L, config_root_setting(&cfg), "", c, "the top level");
	conf_check_root(&L, config_root_setting(&cfg), c);
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

bool
conf_rewrites(const struct conf *c)
{
	for (size_t i = 0; i < c->npol; i++)
		if (c->pol[i].mode == MODE_REWRITE ||
		    (c->pol[i].mode == MODE_AUTO && c->pol[i].action == MODE_REWRITE))
			return true;
	return false;
}
