/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlreq.h - the control socket's request, pure: parsed from one line by
 * the daemon and, with the same code, by tsnatctl before it connects (so
 * that a usage error is found, and told apart, without a daemon), and
 * written back as the line tsnatctl sends.
 *
 * Request: one line of at most CONTROL_LINE_MAX bytes: a COMMAND and its
 * options, [--json] [--limit N], in any order (tsnatctl --json status,
 * as ip, ss and systemctl take them). COMMAND: status, stats, flows,
 * domains, servers, reload, metrics, takeover; --limit N is flows' only. */
#ifndef TSNATD_CTLREQ_H
#define TSNATD_CTLREQ_H

#include <stdbool.h>
#include <stddef.h>

#define CONTROL_SOCKET_DEFAULT "/run/tsnatd/control"
#define CONTROL_LINE_MAX 256
#define CONTROL_FLOWS_DEFAULT 100	/* flows --limit */
#define CONTROL_FLOWS_MAX 10000

enum control_cmd {
	CONTROL_STATUS,
	CONTROL_STATS,
	CONTROL_FLOWS,
	CONTROL_DOMAINS,
	CONTROL_SERVERS,
	CONTROL_RELOAD,
	CONTROL_METRICS,
	CONTROL_TAKEOVER,
};

struct control_req {
	enum control_cmd cmd;
	bool json;
	unsigned limit;			/* flows */
};

/* Parse a request line (without its newline). 0, or -1 with a message in
 * err (the answer to send; for tsnatctl, the usage error to print). */
int control_parse(const char *line, struct control_req *r, char *err, size_t errlen);

/* r as a request line, newline included, in the order every version of
 * the daemon reads ("COMMAND [--json] [--limit N]\n"; --limit only when
 * not the default). 0, or -1 if it does not fit in len. */
int control_format(const struct control_req *r, char *line, size_t len);

/* The name of a command as the protocol spells it. */
const char *control_cmd_name(enum control_cmd c);

#endif
