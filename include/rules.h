/* rules.h - firewall rules that queue exactly what the configuration needs. */
#ifndef TSNATD_RULES_H
#define TSNATD_RULES_H

#include <stdio.h>

#include "conf.h"

enum rules_kind {
	RULES_IPTABLES,		/* IPv4, for iptables-restore --noflush */
	RULES_IP6TABLES,	/* IPv6, for ip6tables-restore --noflush */
	RULES_NFT,		/* both families, for nft -f */
};

/* "iptables", "ip6tables" or "nft"; -1 otherwise. */
int rules_kind_parse(const char *s);

/* Write the rules for c to out. The queue target always has bypass: no
 * listener means packets pass. Each rule's comment is its policy's name.
 * Returns 0; -1, having written nothing, if a policy name is one conf_load
 * would refuse (conf_policy_name_ok): it could break out of its comment. */
int rules_print(const struct conf *c, enum rules_kind kind, const char *conf_path,
		FILE *out);

#endif
