/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulestool.c - the rules tools: found in absolute PATH directories,
 * run as child processes (posix_spawn, no shell) with the text on a pipe
 * to their standard input, their listing read from another, their errors
 * passed on (see rulestool_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules.h"
#include "rulesapply.h"
#include "rulestool_int.h"

extern char **environ;

static const char *const tool_names[TOOL_N] = {
	[TOOL_IPT] = "iptables", [TOOL_IPT_RESTORE] = "iptables-restore",
	[TOOL_IP6T] = "ip6tables", [TOOL_IP6T_RESTORE] = "ip6tables-restore",
	[TOOL_NFT] = "nft",
};

/* Where the tools are when PATH is unset (execvp would only look in
 * /bin and /usr/bin). */
#define RULES_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* A listing longer than this is refused: mangle -S of any real gateway
 * is far smaller. */
#define RULES_LISTING_MAX ((size_t)64 << 20)

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

unsigned
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

/* The tool's standard error, kept in a memory file (not a pipe: the
 * tool could fill one while we still write its input), copied to err
 * once it has exited and returned NUL-terminated (NULL if it could not be
 * read; the caller frees it). */
static char *
errors_take(int fd, FILE *err)
{
	char *text = NULL;

	if (lseek(fd, 0, SEEK_SET) == 0 && (text = read_all(fd)))
		fputs(text, err);
	close(fd);
	return text;
}

int
tool_run(const char *const argv[], const char *input, size_t inlen, char **output, char **errors,
    FILE *err)
{
	int efd = -1;

	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status, e;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, pipe_sig;
	char *got = NULL;
	pid_t pid;

	if (errors)
		*errors = NULL;
	if ((input && pipe2(in, O_CLOEXEC) < 0) || (output && pipe2(out, O_CLOEXEC) < 0) ||
	    (errors && (efd = memfd_create("tsnatd-tool-errors", MFD_CLOEXEC)) < 0)) {
		fprintf(err, "tsnatd: pipe for %s: %s\n", argv[0], strerror(errno));
		close_pair(in);
		close_pair(out);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	if (input)
		posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (output)
		posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	if (errors)
		posix_spawn_file_actions_adddup2(&fa, efd, STDERR_FILENO);
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
		if (efd >= 0)
			close(efd);
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
			if (efd >= 0)
				close(efd);
			fprintf(err, "tsnatd: waiting for %s: %s\n", argv[0], strerror(errno));
			free(got);
			return -1;
		}
	if (efd >= 0)
		*errors = errors_take(efd, err);
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
