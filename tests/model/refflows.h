/* SPDX-License-Identifier: GPL-2.0-or-later */
/* refflows.h - the reference model's flow table (refflows.c), private to
 * tests/model: a plain array searched from the start; a flow's list
 * follows from its state, and its place in the list from a stamp (the
 * larger, the more recent). */
#ifndef TSNATD_REFFLOWS_H
#define TSNATD_REFFLOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "refmodel.h"

/* The list f is on. */
enum ref_list ref_list_of(const struct ref_flow *f);

/* The index of the flow whose packet goes from (src, sport) to (dst,
 * dport), in either direction, or -1; *from_client says which. */
int ref_flows_index(const struct ref_model *m, int family, const uint8_t *src, uint16_t sport,
		    const uint8_t *dst, uint16_t dport, bool *from_client);

/* A new flow, the most recent of the half-open ones; the caller checked
 * that there is room. */
struct ref_flow *ref_flows_new(struct ref_model *m, int family, const uint8_t *client,
			       uint16_t cport, const uint8_t *server, uint16_t sport);

void ref_flows_drop(struct ref_model *m, struct ref_flow *f);

/* A packet of f now: the most recent of its list, unless it already had
 * one this second (then it keeps its place). */
void ref_flows_touch(struct ref_model *m, struct ref_flow *f);

/* The server's first packet of f: no longer half-open. */
void ref_flows_answer(struct ref_model *m, struct ref_flow *f);

/* A FIN of f from the client (from_client) or the server. */
void ref_flows_fin(struct ref_model *m, struct ref_flow *f, bool from_client);

/* Make room: drop the least recent half-open flow, else closing, else
 * open. False if there is none. */
bool ref_flows_evict(struct ref_model *m);

/* Flows of client address addr; closing ones only if with_closing. */
unsigned ref_flows_count(const struct ref_model *m, int family, const uint8_t *addr,
			 bool with_closing);

#endif
