/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.h - CIDR sets and first-match policy lookup. Pure. */
#ifndef TSNATD_POLICY_H
#define TSNATD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


enum policy_mode {
	MODE_PASS = 0,
	MODE_STRIP,
	MODE_REWRITE,
	MODE_OBSERVE,
	MODE_AUTO,
};

struct cidr {
	uint8_t family;		/* 4 or 6 */
	uint8_t prefix;		/* 0..32 or 0..128 */
	uint8_t addr[16];	/* network order, host bits zero */
	uint32_t net4, mask4;	/* IPv4: host order, for one masked compare */
};

struct policy {
	char name[64];
	enum policy_mode mode;
	enum policy_mode action;	/* auto: what legacy servers get (strip, rewrite) */
	struct cidr *dst;	/* required, ndst >= 1 */
	size_t ndst;
	struct cidr *src;	/* empty: any source */
	size_t nsrc;
	bool ts_auto;		/* translated_source = "auto" */
	struct cidr *tsrc;	/* explicit translated source(s), /32 or /128 */
	size_t ntsrc;
	uint16_t domain;	/* clock domain of tsrc (set by the daemon) */
};

/* Parse "198.51.100.0/24", "2001:db8::/32" or a bare address (full-length
 * prefix). Host bits set under the prefix are an error (the operator meant
 * something else). Returns 0, or -1 with a message in err. */
int cidr_parse(const char *s, struct cidr *c, char *err, size_t errlen);

/* Print a CIDR as "addr/len". */
void cidr_format(const struct cidr *c, char *out, size_t outlen);

/* Does the address (4 or 16 bytes, per family) fall inside c? */
bool cidr_contains(const struct cidr *c, int family, const uint8_t *addr);

/* The first policy whose destinations contain daddr and whose sources (if
 * any) contain saddr, or NULL; any family, one CIDR at a time. Addresses
 * are 4 or 16 bytes, per family. */
const struct policy *policy_match(const struct policy *pol, size_t npol, int family,
				  const uint8_t *saddr, const uint8_t *daddr);

/* The IPv4 destinations of a policy list, flattened in policy order, so
 * that matching a SYN is one masked compare per entry. */
struct policy_dst4 {
	uint32_t net, mask;		/* host order */
	const struct policy *pol;
};

/* The table for pol[0..npol): *out is allocated (free() it; NULL when no
 * policy has an IPv4 destination). Returns the number of entries, or -1 if
 * out of memory. */
long policy_dst4_build(const struct policy *pol, size_t npol, struct policy_dst4 **out);

/* policy_match() for IPv4 over the flattened table t[0..n): the same first
 * match, since entries keep the policies' order and a policy's sources are
 * checked as before. Addresses as 4 bytes in network order. */
const struct policy *policy_match4(const struct policy_dst4 *t, size_t n,
				   const uint8_t *saddr, const uint8_t *daddr);

/* The name of a mode as the config file spells it, and back (-1: no such
 * name). The mode table (mode.c) is the one place that knows them. */
const char *policy_mode_name(enum policy_mode m);
int policy_mode_parse(const char *s, enum policy_mode *m);

#endif
