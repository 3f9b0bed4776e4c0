/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_ctl.c - libFuzzer: arbitrary bytes as a client writes them to the
 * control socket (which members of the group tsnatd can), through what
 * the daemon does with them: the connection's framing (ctlsock_frame, fed
 * in chunks as recv() would hand them over), the request parse
 * (control_parse), and the answer (control_render over a daemon's worth of
 * data: queues, flows, domains, servers, the kernel data path, a refused
 * reload), under ASan/UBSan. ctlsrv.c's dispatch is played here, without
 * its engine.
 *
 * Every answer must be well formed: "ok\n" and a body, or "error " and
 * one line (a refused reload: and its error lines); no NUL inside; with
 * --json, the body is exactly one JSON document and a newline (a strict
 * validator below: bytes >= 0x80 pass as the renderer copies them); flows
 * shows at most --limit rows. A request that parses is written back
 * (control_format, what tsnatctl sends) and parses to the same request.
 *
 * Input: [flags][chunk][bytes...]: flags pick the data (reload refused or
 * not, the kernel data path's state, how many flows); chunk (1..256, 0:
 * all at once) is the size of each read; the bytes are the stream. The
 * bytes after the first newline (what the daemon never reads) become the
 * text of the configuration path, a policy name, the kernel data path's
 * reason and the reload's errors, to put arbitrary bytes through the JSON
 * escaping. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctlreq.h"
#include "ctlsock.h"
#include "log.h"
#include "textbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFLOWS 150		/* above CONTROL_FLOWS_DEFAULT: the limit counts */
#define STRING_MAX 200

static struct policy pol[2];
static struct cidr dst[2];
static struct conf conf;
static struct control_queue q[3];
static struct control_flow flows[NFLOWS];
static struct control_domain dom[3];
static struct discovery_server srv[4];

static void
data_init(void)
{
	char err[128];

	if (cidr_parse("198.51.100.0/24", &dst[0], err, sizeof(err)) < 0 ||
	    cidr_parse("2001:db8:1::/64", &dst[1], err, sizeof(err)) < 0)
		abort();
	pol[0] = (struct policy){ .name = "legacy-web", .mode = MODE_STRIP, .dst = &dst[0],
				  .ndst = 1 };
	pol[1] = (struct policy){ .name = "v6", .mode = MODE_REWRITE, .dst = &dst[1], .ndst = 1,
				  .ts_auto = true };
	conf = (struct conf){ .enabled = true, .queue_first = 4, .queue_count = 3, .pol = pol,
			      .npol = 2, .flows_max = 65536 };
	for (unsigned i = 0; i < 3; i++) {
		q[i].queue = 4 + i;
		q[i].flows = 50 * i;
		q[i].st.packets = 1000 * i + 7;
		q[i].st.rewritten = 10 * i;
	}
	for (unsigned i = 0; i < NFLOWS; i++) {
		struct control_flow *f = &flows[i];

		*f = (struct control_flow){ .queue = 4 + i % 3, .family = i % 2 ? 6 : 4,
			.client_port = (uint16_t)(40000 + i), .server_port = 80,
			.domain = (uint16_t)(i % 4), .offset = 0xfffffff0u + i,
			.age_ms = i * 997, .idle_s = i };
		if (f->family == 4) {
			inet_pton(AF_INET, "192.0.2.2", f->client);
			inet_pton(AF_INET, "198.51.100.10", f->server);
		} else {
			inet_pton(AF_INET6, "2001:db8:c:1::2", f->client);
			inet_pton(AF_INET6, "2001:db8:1::10", f->server);
		}
	}
	dom[0] = (struct control_domain){ .id = 0 };
	dom[1] = (struct control_domain){ .id = 1, .family = 4, .has_mark = true,
					  .mark = 0xffffffffu, .distance_ms = INT32_MIN };
	inet_pton(AF_INET, "198.51.100.1", dom[1].addr);
	dom[2] = (struct control_domain){ .id = 2, .family = 6, .has_mark = true, .mark = 5,
					  .distance_ms = 12 };
	inet_pton(AF_INET6, "2001:db8:1::1", dom[2].addr);
	for (unsigned i = 0; i < 4; i++) {
		srv[i] = (struct discovery_server){ .family = i == 3 ? 6 : 4, .domain = (uint16_t)i,
			.syns = UINT64_MAX - i, .confirmed = 3 - i,
			.verdict = (enum discovery_verdict)(i % 3) };
		if (i == 3)
			inet_pton(AF_INET6, "2001:db8:2::10", srv[i].server);
		else
			inet_pton(AF_INET, i ? "203.0.113.5" : "198.51.100.10", srv[i].server);
	}
}

/* A strict JSON validator (RFC 8259 grammar), except that bytes >= 0x80
 * in strings are not checked as UTF-8: textbuf_json_str copies them. */
struct json {
	const char *p, *end;
	int depth;
};

static bool json_value(struct json *j);

static void
json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool
json_lit(struct json *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool
json_string(struct json *j)
{
	if (j->p >= j->end || *j->p++ != '"')
		return false;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, j->p++)
				if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) ||
				    !*j->p)
					return false;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return false;
		}
	}
	return false;
}

static bool
json_digits(struct json *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool
json_number(struct json *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!json_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.' && (j->p++, !json_digits(j)))
		return false;
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!json_digits(j))
			return false;
	}
	return true;
}

/* [ values ] or { "key": value, ... }, open is '[' or '{'. */
static bool
json_container(struct json *j, char open)
{
	char close = open == '[' ? ']' : '}';

	if (++j->depth > 32)
		return false;
	j->p++;
	json_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (open == '{') {
			json_ws(j);
			if (!json_string(j))
				return false;
			json_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!json_value(j))
			return false;
		json_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		return false;
	}
}

static bool
json_value(struct json *j)
{
	json_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
	case '[':
		return json_container(j, *j->p);
	case '"':
		return json_string(j);
	case 't':
		return json_lit(j, "true");
	case 'f':
		return json_lit(j, "false");
	case 'n':
		return json_lit(j, "null");
	default:
		return json_number(j);
	}
}

/* body[0..len) is one JSON document and a newline. */
static bool
json_document(const char *body, size_t len)
{
	struct json j = { body, body + len, 0 };

	if (!len || body[len - 1] != '\n')
		return false;
	j.end--;
	if (!json_value(&j))
		return false;
	json_ws(&j);
	return j.p == j.end;
}

/* The rows of a flows table: lines between the header and the summary. */
static size_t
table_rows(const char *body)
{
	size_t lines = 0;

	for (const char *p = body; (p = strchr(p, '\n')); p++)
		lines++;
	return lines >= 2 ? lines - 2 : 0;
}

/* A string of at most STRING_MAX bytes from tail (NULs end it). */
static void
text_from(const uint8_t *tail, size_t n, char *out)
{
	n = n < STRING_MAX ? n : STRING_MAX;
	memcpy(out, tail, n);
	out[n] = '\0';
}

/* The answer ctlsrv_answer() gives a framed line, checked. */
static void
answer(const char *line, uint8_t flags, const char *text)
{
	static const enum control_offload_state states[] = {
		CONTROL_OFFLOAD_UNNEEDED, CONTROL_OFFLOAD_OFF, CONTROL_OFFLOAD_ACTIVE,
		CONTROL_OFFLOAD_DRAINING,
	};
	struct control_req r, back;
	struct textbuf out = { 0 };
	char err[160], req[CONTROL_LINE_MAX + 2];
	struct control_data d;

	if (control_parse(line, &r, err, sizeof(err)) < 0) {
		control_error(&out, err);
		if (strncmp(out.p, "error ", 6) != 0 || strchr(out.p, '\n') != out.p + out.len - 1)
			abort();	/* an error answer is one line */
		textbuf_free(&out);
		return;
	}
	/* What tsnatctl sends: parses back to the same request. */
	if (control_format(&r, req, sizeof(req)) < 0)
		abort();
	req[strlen(req) - 1] = '\0';
	if (control_parse(req, &back, err, sizeof(err)) < 0 || back.cmd != r.cmd ||
	    back.json != r.json || back.limit != r.limit)
		abort();

	pol[1].name[0] = '\0';
	strncat(pol[1].name, text, sizeof(pol[1].name) - 1);
	d = (struct control_data){ .version = "0.1.0", .config_path = text,
		.uptime_s = UINT64_MAX, .conf = &conf, .q = q, .nq = 3,
		.flows = flows, .nflows = (flags >> 4) * 10, .flows_total = 1u << 20,
		.dom = dom, .ndom = 3, .srv = srv, .nsrv = 4,
		.reload_ok = flags & 1, .reload_errors = (flags & 2) ? text : NULL };
	d.offload = (struct control_offload){ .state = states[(flags >> 2) & 3],
		.adopted = flags & 2, .reason = text, .dir = text, .flows = 7 };
	strncat(d.offload.interfaces, text, sizeof(d.offload.interfaces) - 1);
	control_render(&r, &d, &out);
	if (!out.p || strlen(out.p) != out.len)
		abort();	/* a NUL inside, or nothing */
	if (strncmp(out.p, "ok\n", 3) == 0) {
		if (r.json && !json_document(out.p + 3, out.len - 3))
			abort();
		if (r.cmd == CONTROL_FLOWS && !r.json && table_rows(out.p + 3) > r.limit)
			abort();
	} else if (strncmp(out.p, "error ", 6) != 0 ||
		   (r.cmd != CONTROL_RELOAD && strchr(out.p, '\n') != out.p + out.len - 1)) {
		abort();
	}
	textbuf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char line[CONTROL_LINE_MAX + 2], text[STRING_MAX + 1];
	size_t got = 0, chunk, at = 2;
	uint8_t flags;
	const uint8_t *nl;

	if (!ready) {
		log_init(LOG_CRIT);
		data_init();
		ready = true;
	}
	if (size < 2)
		return 0;
	flags = data[0];
	chunk = data[1] ? data[1] : sizeof(line);
	nl = memchr(data + 2, '\n', size - 2);
	text_from(nl ? nl + 1 : data + size, nl ? (size_t)(data + size - nl - 1) : 0, text);
	/* As conn_read: each read fills at most what is left of the line. */
	while (at < size) {
		size_t room = sizeof(line) - 1 - got, n = size - at;

		n = n < chunk ? n : chunk;
		n = n < room ? n : room;
		memcpy(line + got, data + at, n);
		got += n;
		at += n;
		switch (ctlsock_frame(line, got, sizeof(line))) {
		case CTLSOCK_LINE:
			if (strlen(line) > got)
				abort();
			answer(line, flags, text);
			return 0;
		case CTLSOCK_BAD:
			return 0;	/* CTLSOCK_BAD_REQUEST, and closed */
		case CTLSOCK_MORE:
			if (got >= sizeof(line) - 1)
				abort();	/* full, yet waiting */
			break;
		}
	}
	return 0;		/* no whole line: the deadline closes it */
}
