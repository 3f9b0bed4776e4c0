/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rules.h - firewall rules that queue exactly what the configuration needs,
 * as text: for --print-rules, and for --apply-rules / --remove-rules, which
 * feed it to iptables-restore or nft (rulesapply.h). Pure: no process is
 * run and nothing but out is written. */
#ifndef TSNATD_RULES_H
#define TSNATD_RULES_H

#include <stdio.h>

#include "conf.h"

#define RULES_CHAIN	"TSNATD"	/* iptables, ip6tables: chain of table mangle */
#define RULES_NFT_TABLE	"tsnatd"	/* nft: table inet tsnatd */

enum rules_kind {
	RULES_IPTABLES,		/* IPv4, for iptables-restore --noflush */
	RULES_IP6TABLES,	/* IPv6, for ip6tables-restore --noflush */
	RULES_NFT,		/* both families, for nft -f */
};

/* "iptables", "ip6tables" or "nft"; -1 otherwise. */
int rules_kind_parse(const char *s);

/* Write the rules for c to out. The queue target always has bypass: no
 * listener means packets pass. Each rule's comment is its policy's name.
 * For iptables and ip6tables the text declares chain TSNATD (which
 * flushes it) and adds one FORWARD jump into it: loaded twice, there are
 * two jumps. Returns 0; -1, having written nothing, if a policy name is
 * one conf_load would refuse (conf_policy_name_ok): it could break out of
 * its comment. */
int rules_print(const struct conf *c, enum rules_kind kind, const char *conf_path,
		FILE *out);

/* As rules_print, for --apply-rules: given that `jumps` rules
 * "-A FORWARD -j TSNATD" are there now (rules_jumps), the iptables text
 * leaves exactly one: it adds one if there is none and deletes the extra
 * ones if there are several. One iptables-restore --noflush transaction,
 * so the chain's contents are replaced atomically. nft's text replaces
 * its table whatever is there: jumps is ignored. */
int rules_print_apply(const struct conf *c, enum rules_kind kind, const char *conf_path,
		      unsigned jumps, FILE *out);

/* The address families c's rules have at least one rule for. */
#define RULES_IPV4	0x1
#define RULES_IPV6	0x2
unsigned rules_families(const struct conf *c);

/* How many lines "-A FORWARD -j TSNATD" listing (`iptables -t mangle -S`
 * output) has. */
unsigned rules_jumps(const char *listing);

/* The text that removes tsnatd's rules, given what is there now: for
 * iptables and ip6tables `-t mangle -S` output (every rule jumping to
 * TSNATD is deleted, the chain flushed and deleted, in one
 * iptables-restore --noflush transaction); for nft `nft list tables`
 * output (table inet tsnatd deleted, nft -f). Returns 0 having written
 * nothing when there is nothing to remove, else a positive number. */
int rules_print_remove(enum rules_kind kind, const char *listing, FILE *out);

/* For a family whose iptables is not in PATH: the text (for nft -f) that
 * removes what iptables-nft loaded of tsnatd's, given `nft -a list table
 * ip mangle` (ip6 for RULES_IP6TABLES) output: each rule jumping to
 * TSNATD deleted by its handle, the chain flushed and deleted. Returns 0
 * having written nothing when there is no chain TSNATD, else a positive
 * number; -1, having written nothing, for a jump whose chain name nft
 * could not take back as written. */
int rules_print_remove_compat(enum rules_kind kind, const char *listing, FILE *out);

/* What nft's error output (of nft -f with tsnatd's rules) means when it
 * is the kernel's lack of the queue expression ("Could not process rule:
 * No such file or directory" at a queue statement): a sentence saying
 * what is missing and what works instead; NULL for any other error. */
const char *rules_nft_hint(const char *nft_errors);

/* Which tools exist (rules_tools_find, rulesapply.h). */
#define RULES_HAVE_IPTABLES	0x1	/* iptables and iptables-restore */
#define RULES_HAVE_IP6TABLES	0x2	/* ip6tables and ip6tables-restore */
#define RULES_HAVE_NFT		0x4	/* nft */

enum rules_backend {
	RULES_BACKEND_NONE,	/* rules = "none", or no tool (error set) */
	RULES_BACKEND_IPTABLES,	/* iptables for IPv4, ip6tables for IPv6 */
	RULES_BACKEND_NFT,	/* nft, both families in one table */
};

struct rules_choice {
	enum rules_backend backend;
	const char *error;	/* NULL, or why no back end fits */
};

/* The back end for the rules setting, given the tools there are (have:
 * RULES_HAVE_*) and the families the rules need (rules_families):
 * "iptables" and "nft" need their tools (iptables also ip6tables when
 * there are IPv6 rules); "auto" takes iptables if that holds, else nft;
 * "none" is RULES_BACKEND_NONE without an error. */
struct rules_choice rules_choose(enum conf_rules setting, unsigned have,
				 unsigned families);

#endif
