/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics.h - the Prometheus text exposition (format 0.0.4) of what the
 * control socket knows, and its textfile for node_exporter.
 *
 * Cardinality is bounded by design: labels are queue (at most 64), policy
 * and mode (the configuration's), translated_source (the clock domains,
 * at most DOMAIN_MAX, in practice the gateway's few SNAT addresses), and
 * server only for the METRICS_SERVERS_TOP servers of the discovery table
 * with the most confirmed drops; all of them are counted by verdict.
 * Never per flow or per client. */
#ifndef TSNATD_METRICS_H
#define TSNATD_METRICS_H

#include "control.h"
#include "textbuf.h"

#define METRICS_SERVERS_TOP 20

/* Append the exposition of d to out: HELP and TYPE for every family,
 * counters named *_total. Uses d's queues, conf, domains, servers,
 * flows_total, version and uptime. */
void metrics_render(const struct control_data *d, struct textbuf *out);

/* Replace path with text[0..len) atomically: a temporary file in the same
 * directory (mode 0644: node_exporter runs as another user), then
 * rename(). A reader sees the old file or the new one, whole. 0, or -1
 * with errno (the temporary file removed). */
int metrics_file_write(const char *path, const char *text, size_t len);

#endif
