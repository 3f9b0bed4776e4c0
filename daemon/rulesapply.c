/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulesapply.c - tsnatd --apply-rules / --remove-rules: find the tools,
 * list what is there, feed rules.c's text to them.
 *
 * The tools run as child processes (posix_spawn, no shell), the text on a
 * pipe to their standard input; their own messages go to our standard
 * error, ahead of ours with their exit status. Every change is one
 * transaction of one tool (iptables-restore --noflush, nft -f), so a rule
 * set is replaced whole or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules.h"
#include "rulesapply.h"

extern char **environ;

/* Where the tools are when PATH is unset (execvp would only look in
 * /bin and /usr/bin). */
#define RULES_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* A listing longer than this is refused: mangle -S of any real gateway
 * is far smaller. */
#define RULES_LISTING_MAX ((size_t)64 << 20)
/* Seconds iptables waits for the xtables lock another program holds
 * (legacy iptables; the nf_tables variant needs no lock). */
#define RULES_WAIT "10"

enum tool { TOOL_IPT, TOOL_IPT_RESTORE, TOOL_IP6T, TOOL_IP6T_RESTORE, TOOL_NFT, TOOL_N };

static const char *const tool_names[TOOL_N] = {
	[TOOL_IPT] = "iptables", [TOOL_IPT_RESTORE] = "iptables-restore",
	[TOOL_IP6T] = "ip6tables", [TOOL_IP6T_RESTORE] = "ip6tables-restore",
	[TOOL_NFT] = "nft",
};

struct tools {
	char path[TOOL_N][PATH_MAX];	/* "" if not found */
	unsigned have;			/* RULES_HAVE_* */
};

/* name in one of the absolute directories of search, executable. */
static bool
tool_find(const char *name, const char *search, char *out, size_t len)
{
	for (const char *p = search; *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		struct stat st;

		if (n > 0 && p[0] == '/' &&
		    (size_t)snprintf(out, len, "%.*s/%s", (int)n, p, name) < len &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return true;
		p += n + (end != NULL);
	}
	out[0] = '\0';
	return false;
}

static unsigned
tools_find(const char *search, struct tools *t)
{
	bool found[TOOL_N];

	if (!search)
		search = getenv("PATH");
	if (!search || !*search)
		search = RULES_DEFAULT_PATH;
	for (int i = 0; i < TOOL_N; i++)
		found[i] = tool_find(tool_names[i], search, t->path[i], sizeof(t->path[i]));
	t->have = 0;
	if (found[TOOL_IPT] && found[TOOL_IPT_RESTORE])
		t->have |= RULES_HAVE_IPTABLES;
	if (found[TOOL_IP6T] && found[TOOL_IP6T_RESTORE])
		t->have |= RULES_HAVE_IP6TABLES;
	if (found[TOOL_NFT])
		t->have |= RULES_HAVE_NFT;
	return t->have;
}

unsigned
rules_tools_find(const char *path)
{
	struct tools t;

	return tools_find(path, &t);
}

static void
close_pair(int fd[2])
{
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

/* Write all of buf to fd; a reader that went away (EPIPE) is not an
 * error here: its exit status says why. */
static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Everything fd gives until EOF, NUL-terminated; NULL if it is more than
 * RULES_LISTING_MAX or memory runs out. */
static char *
read_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nb;

	while (buf) {
		ssize_t n;

		if (cap - len < 2) {
			if (cap >= RULES_LISTING_MAX || !(nb = realloc(buf, cap * 2))) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* Run argv (argv[0] an absolute path) with input on its standard input
 * (NULL: /dev/null) and, if output is not NULL, its standard output
 * collected into *output (the caller frees it). Its standard error is
 * ours. Returns its exit status, or -1 after telling err why it did not
 * run or did not exit. */
static int
run(const char *const argv[], const char *input, size_t inlen, char **output, FILE *err)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status, e;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, pipe_sig;
	char *got = NULL;
	pid_t pid;

	if ((input && pipe2(in, O_CLOEXEC) < 0) || (output && pipe2(out, O_CLOEXEC) < 0)) {
		fprintf(err, "tsnatd: pipe for %s: %s\n", argv[0], strerror(errno));
		close_pair(in);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	if (input)
		posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (output)
		posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	/* The child starts with no signal blocked and SIGPIPE at its default,
	 * whatever this process does with them (it ignores SIGPIPE below). */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &pipe_sig);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	e = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (in[0] >= 0)
		close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (e) {
		fprintf(err, "tsnatd: cannot run %s: %s\n", argv[0], strerror(e));
		if (in[1] >= 0)
			close(in[1]);
		if (out[0] >= 0)
			close(out[0]);
		return -1;
	}
	if (input) {
		/* A tool that exits early must not kill us with SIGPIPE. */
		sigaction(SIGPIPE, &ign, &old);
		write_all(in[1], input, inlen);
		close(in[1]);
		sigaction(SIGPIPE, &old, NULL);
	}
	if (output) {
		got = read_all(out[0]);
		close(out[0]);	/* if the listing was cut short, the tool stops */
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(err, "tsnatd: waiting for %s: %s\n", argv[0], strerror(errno));
			free(got);
			return -1;
		}
	if (WIFSIGNALED(status)) {
		fprintf(err, "tsnatd: %s was killed by signal %d\n", argv[0], WTERMSIG(status));
		free(got);
		return -1;
	}
	if (output && !got && WEXITSTATUS(status) == 0) {
		fprintf(err, "tsnatd: the output of %s is too long or memory ran out\n", argv[0]);
		return -1;
	}
	if (output)
		*output = got;
	return WEXITSTATUS(status);
}

static const char *
kind_name(enum rules_kind kind)
{
	return kind == RULES_NFT ? "nft" : kind == RULES_IPTABLES ? "iptables" : "ip6tables";
}

/* What is there now: `iptables -t mangle -S` or `nft list tables`. NULL
 * after reporting a failure, as an error if strict, else as a warning
 * (then nothing of that tool is touched). */
static char *
list_now(const struct tools *t, enum rules_kind kind, bool strict, FILE *err)
{
	const char *ipt[] = { t->path[kind == RULES_IPTABLES ? TOOL_IPT : TOOL_IP6T], "-w",
			      RULES_WAIT, "-t", "mangle", "-S", NULL };
	const char *nft[] = { t->path[TOOL_NFT], "list", "tables", NULL };
	char *listing = NULL;
	int rc = run(kind == RULES_NFT ? nft : ipt, NULL, 0, &listing, err);

	if (rc == 0)
		return listing;
	free(listing);
	if (rc > 0)
		fprintf(err, "tsnatd: %s`%s` exited with status %d%s\n", strict ? "" : "warning: ",
			kind == RULES_NFT ? "nft list tables" : kind == RULES_IPTABLES ?
			"iptables -t mangle -S" : "ip6tables -t mangle -S", rc,
			strict ? "" : ": tsnatd's rules there, if any, are left as they are");
	return NULL;
}

/* Feed text to iptables-restore --noflush, ip6tables-restore --noflush or
 * nft -f -: one transaction. 0, or -1 after reporting. */
static int
load(const struct tools *t, enum rules_kind kind, const char *text, size_t len, FILE *err)
{
	const char *ipt[] = { t->path[kind == RULES_IPTABLES ? TOOL_IPT_RESTORE : TOOL_IP6T_RESTORE],
			      "-w", RULES_WAIT, "--noflush", NULL };
	const char *nft[] = { t->path[TOOL_NFT], "-f", "-", NULL };
	int rc = run(kind == RULES_NFT ? nft : ipt, text, len, NULL, err);

	if (rc > 0)
		fprintf(err, "tsnatd: `%s` exited with status %d: rules not changed\n",
			kind == RULES_NFT ? "nft -f -" : kind == RULES_IPTABLES ?
			"iptables-restore --noflush" : "ip6tables-restore --noflush", rc);
	return rc == 0 ? 0 : -1;
}

/* The text of rules.c into a buffer: NULL if it refused (bad policy name)
 * or memory ran out. */
static char *
text_apply(const struct conf *c, enum rules_kind kind, const char *conf_path,
	   unsigned jumps, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int rc;

	if (!f)
		return NULL;
	rc = rules_print_apply(c, kind, conf_path, jumps, f);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Replace kind's rules with c's: one transaction. */
static int
install(const struct conf *c, const char *conf_path, const struct tools *t,
	enum rules_kind kind, FILE *out, FILE *err)
{
	unsigned jumps = 0;
	char *listing, *text;
	size_t len;
	int rc;

	/* The jumps are counted in the listing rather than asked with
	 * `iptables -C FORWARD -j TSNATD`: that one fails (status 2, not 1)
	 * while the chain does not exist, and says nothing of the extra
	 * jumps that loading --print-rules output twice leaves. */
	if (kind != RULES_NFT) {
		if (!(listing = list_now(t, kind, true, err)))
			return -1;
		jumps = rules_jumps(listing);
		free(listing);
	}
	if (!(text = text_apply(c, kind, conf_path, jumps, &len))) {
		fprintf(err, "tsnatd: cannot write the %s rules (a policy name that cannot "
			"be a rule's comment, or out of memory)\n", kind_name(kind));
		return -1;
	}
	rc = load(t, kind, text, len, err);
	free(text);
	if (rc < 0)
		return -1;
	if (kind == RULES_NFT)
		fprintf(out, "nft: table inet " RULES_NFT_TABLE " replaced\n");
	else
		fprintf(out, "%s: chain " RULES_CHAIN " of table mangle replaced; %s\n",
			kind_name(kind), jumps == 0 ? "jump from FORWARD added" :
			jumps == 1 ? "its jump from FORWARD kept" :
			"extra jumps from FORWARD deleted, one kept");
	return 0;
}

/* Remove kind's tsnatd rules, if any: 1 if something was removed, 0 if
 * there was nothing (or, not strict, nothing could be listed), -1 on an
 * error. */
static int
remove_kind(const struct tools *t, enum rules_kind kind, bool strict, FILE *out, FILE *err)
{
	char *listing = list_now(t, kind, strict, err), *text = NULL;
	size_t len = 0;
	FILE *f;
	int n;

	if (!listing)
		return strict ? -1 : 0;
	if (!(f = open_memstream(&text, &len))) {
		free(listing);
		fprintf(err, "tsnatd: out of memory\n");
		return -1;
	}
	n = rules_print_remove(kind, listing, f);
	free(listing);
	if (fclose(f) != 0) {
		free(text);
		fprintf(err, "tsnatd: out of memory\n");
		return -1;
	}
	if (n > 0 && load(t, kind, text, len, err) < 0)
		n = -1;
	free(text);
	if (n > 0)
		fprintf(out, "%s: removed %s\n", kind_name(kind), kind == RULES_NFT ?
			"table inet " RULES_NFT_TABLE :
			"chain " RULES_CHAIN " and the rules jumping to it");
	return n < 0 ? -1 : n > 0;
}

static bool
have_kind(const struct tools *t, enum rules_kind kind)
{
	static const unsigned need[] = { [RULES_IPTABLES] = RULES_HAVE_IPTABLES,
		[RULES_IP6TABLES] = RULES_HAVE_IP6TABLES, [RULES_NFT] = RULES_HAVE_NFT };

	return (t->have & need[kind]) != 0;
}

/* The family kind's rules are for: RULES_IPV4, RULES_IPV6, or both. */
static unsigned
kind_families(enum rules_kind kind)
{
	return kind == RULES_IPTABLES ? RULES_IPV4 : kind == RULES_IP6TABLES ? RULES_IPV6 :
	       RULES_IPV4 | RULES_IPV6;
}

/* Does the back end install kind's rules for c? */
static bool
backend_uses(enum rules_backend b, enum rules_kind kind, unsigned families)
{
	if (b == RULES_BACKEND_NFT)
		return kind == RULES_NFT && families != 0;
	if (b == RULES_BACKEND_IPTABLES)
		return kind != RULES_NFT && (families & kind_families(kind));
	return false;
}

int
rules_apply(const struct conf *c, const char *conf_path, FILE *out, FILE *err)
{
	static const enum rules_kind kinds[] = { RULES_IPTABLES, RULES_IP6TABLES, RULES_NFT };
	unsigned families = rules_families(c);
	struct rules_choice ch;
	struct tools t;

	if (c->rules == CONF_RULES_NONE) {
		fprintf(out, "%s has rules = \"none\": no rules applied (tsnatd --print-rules "
			"prints them)\n", conf_path);
		return 0;
	}
	tools_find(NULL, &t);
	ch = rules_choose(c->rules, t.have, families);
	if (ch.error) {
		fprintf(err, "tsnatd: %s: %s\n", conf_path, ch.error);
		return -1;
	}
	if (!families)
		fprintf(out, "the policies queue nothing: no rules needed\n");
	/* What the chosen back end needs first, then the rest removed: a
	 * family without rules, and the back end not chosen (a switch from
	 * iptables to nft must not leave both queueing the same packets).
	 * Those removals warn rather than fail when their tool cannot even
	 * list (say ip6tables on a host without IPv6). */
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (backend_uses(ch.backend, kinds[i], families) &&
		    install(c, conf_path, &t, kinds[i], out, err) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!backend_uses(ch.backend, kinds[i], families) && have_kind(&t, kinds[i]) &&
		    remove_kind(&t, kinds[i], false, out, err) < 0)
			return -1;
	return 0;
}

int
rules_remove(const struct conf *c, const char *conf_path, FILE *out, FILE *err)
{
	static const enum rules_kind kinds[] = { RULES_IPTABLES, RULES_IP6TABLES, RULES_NFT };
	unsigned families = rules_families(c);
	struct rules_choice ch;
	struct tools t;
	int removed = 0, n;

	if (c->rules == CONF_RULES_NONE) {
		fprintf(out, "%s has rules = \"none\": no rules removed\n", conf_path);
		return 0;
	}
	tools_find(NULL, &t);
	/* Every back end: the configuration may have named another one when
	 * the rules were applied. Failing to list is an error only where
	 * this configuration puts its rules. */
	ch = rules_choose(c->rules, t.have, families);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!have_kind(&t, kinds[i]))
			continue;
		n = remove_kind(&t, kinds[i], backend_uses(ch.backend, kinds[i], families),
				out, err);
		if (n < 0)
			return -1;
		removed += n;
	}
	if (!removed)
		fprintf(out, "no tsnatd rules to remove\n");
	return 0;
}
