/* policy.h - CIDR sets and first-match policy lookup. Pure. */
#ifndef TSNATD_POLICY_H
#define TSNATD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

enum policy_mode {
	MODE_PASS = 0,
	MODE_STRIP,
	MODE_REWRITE,
	MODE_OBSERVE,
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

/* policy_match() for any family, one CIDR at a time. */
const struct policy *policy_match_general(const struct policy *pol, size_t npol,
					  int family, const uint8_t *saddr,
					  const uint8_t *daddr);

/* IPv4: one masked compare per CIDR. */
static inline bool
policy_cidr4_in(const struct cidr *set, size_t n, uint32_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].family == 4 && (addr & set[i].mask4) == set[i].net4)
			return true;
	return false;
}

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

/* policy_match() for IPv4 over the flattened table: the same first match,
 * since entries keep the policies' order and a policy's sources are
 * checked as before. Addresses in host order. */
static inline const struct policy *
policy_match4(const struct policy_dst4 *t, size_t n, uint32_t saddr, uint32_t daddr)
{
	for (size_t i = 0; i < n; i++) {
		const struct policy *p;

		if ((daddr & t[i].mask) != t[i].net)
			continue;
		p = t[i].pol;
		if (!p->nsrc || policy_cidr4_in(p->src, p->nsrc, saddr))
			return p;
	}
	return NULL;
}

/* The first policy whose destinations contain daddr and whose sources (if
 * any) contain saddr, or NULL. Inline for IPv4, the per-SYN case, with the
 * addresses loaded once. */
static inline const struct policy *
policy_match(const struct policy *pol, size_t npol, int family,
	     const uint8_t *saddr, const uint8_t *daddr)
{
	uint32_t s, d;

	if (family != 4)
		return policy_match_general(pol, npol, family, saddr, daddr);
	s = pkt_get32(saddr);
	d = pkt_get32(daddr);
	for (size_t i = 0; i < npol; i++) {
		const struct policy *p = &pol[i];

		if (policy_cidr4_in(p->dst, p->ndst, d) &&
		    (!p->nsrc || policy_cidr4_in(p->src, p->nsrc, s)))
			return p;
	}
	return NULL;
}

const char *policy_mode_name(enum policy_mode m);
int policy_mode_parse(const char *s, enum policy_mode *m);

#endif
