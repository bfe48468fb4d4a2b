/*
 * oxidaos-launch: starts CaRT test programs as a group of local processes on one host, with
 * the environment crt_launch gives them under orterun, but without MPI.
 *
 *   oxidaos-launch [opts] -np N [-c] -e PROG ARGS... [: -np M [-c] -e PROG ARGS...]...
 *
 * Every ':'-separated block is one application of the job (orterun's MPMD form); ranks are
 * numbered across the whole job in order, so in `-np 5 -e srv : -np 1 -c -e cli` the servers
 * are ranks 0-4 and the client rank 5. For each rank a child process is forked that
 *   1. sets D_PORT = start_port + rank * num_ctx (and D_PORT_AUTO_ADJUST=1), initializes CaRT
 *      as a server, creates a context, reads its own URI and finalizes again;
 *   2. hands (rank, URI, port, is_client) to the launcher and waits for the whole job;
 *   3. gets its own group configuration file /tmp/crt_launch-info-XXXXXX (`rank URI` per
 *      server rank, clients excluded), then sets CRT_L_RANK, CRT_L_GRP_CFG, D_PORT (the port
 *      of its URI) and execs PROG.
 * The launcher waits for every rank and exits with the first failure's status (a rank killed
 * by a signal counts as 128 + signal), like orterun. SIGINT/SIGTERM/SIGHUP are passed to all
 * ranks; with -t SECONDS every rank still running then is killed (exit status 124). The group
 * files a program leaves behind are removed when the job ends (-k keeps them).
 *
 * Options before the first block: -p PORT first port (or OXIDAOS_LAUNCH_PORT; without either,
 * the first range from 31416 on that no other oxidaos-launch job holds and that is free),
 * -n NUM ports per rank (default 32), -t SECONDS job time limit, -k keep the group files,
 * -q quiet. Within a block: -np/-n N processes, -c client, -x VAR=VALUE extra environment
 * for that block (as orterun -x), -e PROG then PROG's own arguments up to the next ':'.
 * D_PROVIDER defaults to ofi+tcp and D_INTERFACE to lo (the loopback) when unset.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cart/api.h>

#define LAUNCH_URI_MAX 4096
#define LAUNCH_MAX_BLOCKS 16
#define LAUNCH_MAX_ENV 64
#define LAUNCH_PATH_MAX 64

/* One ':'-separated application of the job. */
struct block {
	int	  nprocs;
	bool	  client;
	char	**argv;	/* PROG and its arguments, NULL-terminated (points into main's argv) */
	char	 *env[LAUNCH_MAX_ENV];
	int	  nenv;
};

/* What a rank reports after its URI lookup. */
struct rank_info {
	int	rank;
	int	is_client;
	int	port;
	int	status;	/* 0, or the negative DER_* of the failed step */
	char	uri[LAUNCH_URI_MAX];
};

static struct block	blocks[LAUNCH_MAX_BLOCKS];
static int		nblocks;
static int		start_port = 31416;
static bool		port_given;	/* -p or OXIDAOS_LAUNCH_PORT: use exactly that range */
static int		ports_per_rank = 32;
static int		time_limit;
static bool		keep_files;
static bool		quiet;
static pid_t	       *pids;
static int		world;
static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t timed_out;

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: oxidaos-launch [-p PORT] [-n PORTS_PER_RANK] [-t SECONDS] [-k] [-q]\n"
		"                      -np N [-c] [-x VAR=VALUE]... -e PROG [ARGS...]\n"
		"                      [: -np M [-c] [-x VAR=VALUE]... -e PROG [ARGS...]]...\n"
		"Starts N (+M...) local processes with CRT_L_RANK, CRT_L_GRP_CFG and D_PORT set\n"
		"as crt_launch does; -c marks a block as clients (not in the group file).\n");
}

static int
parse_int(const char *s, int min, const char *what)
{
	char *end;
	long  v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > INT_MAX) {
		fprintf(stderr, "oxidaos-launch: bad %s '%s'\n", what, s);
		exit(2);
	}
	return (int)v;
}

/* Parse the command line; PROG's arguments end at a lone ':'. */
static void
parse_args(int argc, char **argv)
{
	int i = 1;

	/* Global options. */
	while (i < argc) {
		if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			start_port = parse_int(argv[i + 1], 1, "port");
			port_given = true;
			i += 2;
		} else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			time_limit = parse_int(argv[i + 1], 1, "time limit");
			i += 2;
		} else if (strcmp(argv[i], "-k") == 0) {
			keep_files = true;
			i++;
		} else if (strcmp(argv[i], "-q") == 0) {
			quiet = true;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(argv[i], "-n") == 0 && nblocks == 0 && i + 1 < argc &&
			   i + 2 < argc && strcmp(argv[i + 2], "-e") != 0 &&
			   strcmp(argv[i + 2], "-c") != 0 && strcmp(argv[i + 2], "-x") != 0) {
			/* "-n K" before any -np: ports per rank (crt_launch's -n). */
			ports_per_rank = parse_int(argv[i + 1], 1, "ports per rank");
			i += 2;
		} else {
			break;
		}
	}

	while (i < argc) {
		struct block *b;

		if (nblocks == LAUNCH_MAX_BLOCKS) {
			fprintf(stderr, "oxidaos-launch: too many ':' blocks\n");
			exit(2);
		}
		b = &blocks[nblocks++];
		b->nprocs = 1;
		while (i < argc && b->argv == NULL) {
			if ((strcmp(argv[i], "-np") == 0 || strcmp(argv[i], "-n") == 0) &&
			    i + 1 < argc) {
				b->nprocs = parse_int(argv[i + 1], 1, "process count");
				i += 2;
			} else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--client") == 0) {
				b->client = true;
				i++;
			} else if (strcmp(argv[i], "-x") == 0 && i + 1 < argc) {
				if (b->nenv == LAUNCH_MAX_ENV) {
					fprintf(stderr, "oxidaos-launch: too many -x\n");
					exit(2);
				}
				b->env[b->nenv++] = argv[i + 1];
				i += 2;
			} else if ((strcmp(argv[i], "-e") == 0 || strcmp(argv[i], "--exec") == 0) &&
				   i + 1 < argc) {
				b->argv = &argv[i + 1];
				i += 2;
			} else {
				fprintf(stderr, "oxidaos-launch: unexpected '%s'\n", argv[i]);
				usage(stderr);
				exit(2);
			}
		}
		if (b->argv == NULL) {
			fprintf(stderr, "oxidaos-launch: a block has no -e PROG\n");
			usage(stderr);
			exit(2);
		}
		while (i < argc && strcmp(argv[i], ":") != 0)
			i++;
		if (i < argc) {
			argv[i] = NULL;	/* terminates this block's PROG argv */
			i++;
		}
		world += b->nprocs;
	}
	if (nblocks == 0) {
		usage(stderr);
		exit(2);
	}
}

static int
write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The port a URI such as "ofi+tcp://127.0.0.1:31416" names, or -1. */
static int
uri_port(const char *uri)
{
	const char *colon = strrchr(uri, ':');
	char	   *end;
	long	    v;

	if (colon == NULL)
		return -1;
	v = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || v <= 0 || v > 65535)
		return -1;
	return (int)v;
}

/* Step 1 of a rank: its URI, from CaRT itself with the port it will use. */
static void
lookup_self(struct rank_info *ri)
{
	crt_context_t ctx = NULL;
	char	      port[16];
	char	     *uri = NULL;
	int	      rc;

	snprintf(port, sizeof(port), "%d", start_port + ri->rank * ports_per_rank);
	setenv("D_PORT", port, 1);
	ri->port = atoi(port);

	rc = crt_init(NULL, CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE);
	if (rc != 0) {
		ri->status = rc;
		return;
	}
	rc = crt_context_create(&ctx);
	if (rc == 0) {
		rc = crt_self_uri_get(0, &uri);
		if (rc == 0) {
			snprintf(ri->uri, sizeof(ri->uri), "%s", uri);
			free(uri);
			/* With D_PORT_AUTO_ADJUST the port may have moved: pass on the real one. */
			if (uri_port(ri->uri) > 0)
				ri->port = uri_port(ri->uri);
		}
		crt_context_destroy(ctx, 1);
	}
	crt_finalize();
	ri->status = rc;
}

/* A rank's own group file (each rank gets one, as each crt_launch writes its own). */
static int
write_group_file(const struct rank_info *all, char *path, size_t len)
{
	FILE *f;
	int   fd;
	int   r;

	snprintf(path, len, "/tmp/crt_launch-info-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(path);
		return -1;
	}
	for (r = 0; r < world; r++)
		if (!all[r].is_client)
			fprintf(f, "%d %s\n", all[r].rank, all[r].uri);
	if (fclose(f) != 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

/*
 * A rank's life before exec: look up the URI, report it on `up`, read the path of its group
 * file from `down` (EOF: the job was abandoned), set the environment and exec.
 */
static void
run_rank(int rank, const struct block *b, int up, int down)
{
	struct rank_info self = {.rank = rank, .is_client = b->client};
	char		 path[LAUNCH_PATH_MAX];
	char		 num[16];
	int		 i;

	lookup_self(&self);
	if (write_full(up, &self, sizeof(self)) != 0)
		_exit(125);
	close(up);
	if (self.status != 0)
		_exit(125);
	if (read_full(down, path, sizeof(path)) != 0)
		_exit(125);
	close(down);
	path[sizeof(path) - 1] = '\0';

	snprintf(num, sizeof(num), "%d", rank);
	setenv("CRT_L_RANK", num, 1);
	setenv("CRT_L_GRP_CFG", path, 1);
	snprintf(num, sizeof(num), "%d", self.port);
	setenv("D_PORT", num, 1);
	for (i = 0; i < b->nenv; i++)
		putenv(b->env[i]);

	execvp(b->argv[0], b->argv);
	fprintf(stderr, "oxidaos-launch: rank %d: exec %s: %s\n", rank, b->argv[0],
		strerror(errno));
	_exit(127);
}

/*
 * Ports. Without -p, concurrent jobs on one host must not collide: a job claims the first port
 * of each of its ranks' ranges as a file in LAUNCH_CLAIM_DIR (created exclusively, holding the
 * launcher's pid; a claim whose launcher is gone is stale and taken over), and only ranges
 * whose ports are all free to bind on the loopback are used.
 */
#define LAUNCH_CLAIM_DIR "/tmp/oxidaos-launch.ports"

static bool
port_free(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int		   fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool		   ok;

	if (fd < 0)
		return false;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static bool
claim_port(int port)
{
	char path[128];
	char buf[32];
	int  fd;
	int  n;

	snprintf(path, sizeof(path), LAUNCH_CLAIM_DIR "/%d", port);
	for (int attempt = 0; attempt < 2; attempt++) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
			if (write(fd, buf, (size_t)n) != n) {
				close(fd);
				unlink(path);
				return false;
			}
			close(fd);
			return true;
		}
		if (errno != EEXIST)
			return false;
		/* Taken: by a live launcher, or stale. */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		n = atoi(buf);
		if (n > 0 && (kill(n, 0) == 0 || errno == EPERM))
			return false;
		unlink(path);
	}
	return false;
}

static void
release_ports(int base, int nranks)
{
	char path[128];

	for (int r = 0; r < nranks; r++) {
		snprintf(path, sizeof(path), LAUNCH_CLAIM_DIR "/%d", base + r * ports_per_rank);
		unlink(path);
	}
}

/* Pick start_port: the first range from start_port on that is claimed and free. */
static int
choose_ports(void)
{
	int span = world * ports_per_rank;
	int base;

	mkdir(LAUNCH_CLAIM_DIR, 01777);
	chmod(LAUNCH_CLAIM_DIR, 01777);
	for (base = start_port; base + span <= 65535; base += ports_per_rank) {
		int  claimed = 0;
		bool ok = true;

		for (int r = 0; r < world && ok; r++) {
			int first = base + r * ports_per_rank;

			ok = claim_port(first);
			if (!ok)
				break;
			claimed++;
			for (int k = 0; k < ports_per_rank && ok; k++)
				ok = port_free(first + k);
		}
		if (ok) {
			start_port = base;
			return 0;
		}
		release_ports(base, claimed);
	}
	return -1;
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static void
kill_all(int sig)
{
	int r;

	for (r = 0; r < world; r++)
		if (pids[r] > 0)
			kill(pids[r], sig);
}

int
main(int argc, char **argv)
{
	struct rank_info *all;
	struct sigaction  sa;
	int		 *to_parent;	/* per rank: the read end of its report pipe */
	int		 *to_child;	/* per rank: the write end of its go pipe */
	char		(*paths)[LAUNCH_PATH_MAX];	/* per rank: its group file */
	int		  running;
	int		  first_bad = 0;
	int		  bad_rank = -1;
	int		  rank = 0;
	int		  bi;
	int		  r;
	const char	 *env_port;

	env_port = getenv("OXIDAOS_LAUNCH_PORT");
	if (env_port != NULL && *env_port != '\0') {
		start_port = parse_int(env_port, 1, "OXIDAOS_LAUNCH_PORT");
		port_given = true;
	}
	parse_args(argc, argv);

	if (!port_given && choose_ports() != 0) {
		fprintf(stderr, "oxidaos-launch: no free range of %d ports from %d\n",
			world * ports_per_rank, start_port);
		return 1;
	}

	setenv("D_PORT_AUTO_ADJUST", "1", 1);
	setenv("D_PROVIDER", "ofi+tcp", 0);
	setenv("D_INTERFACE", "lo", 0);

	pids = calloc((size_t)world, sizeof(*pids));
	all = calloc((size_t)world, sizeof(*all));
	to_parent = calloc((size_t)world, sizeof(int));
	to_child = calloc((size_t)world, sizeof(int));
	paths = calloc((size_t)world, sizeof(*paths));
	if (pids == NULL || all == NULL || to_parent == NULL || to_child == NULL || paths == NULL) {
		perror("oxidaos-launch");
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	fflush(stdout);
	fflush(stderr);
	for (bi = 0; bi < nblocks; bi++) {
		for (r = 0; r < blocks[bi].nprocs; r++, rank++) {
			int up[2];
			int down[2];

			if (pipe2(up, O_CLOEXEC) != 0 || pipe2(down, O_CLOEXEC) != 0) {
				perror("oxidaos-launch: pipe");
				kill_all(SIGKILL);
				return 1;
			}
			pids[rank] = fork();
			if (pids[rank] < 0) {
				perror("oxidaos-launch: fork");
				kill_all(SIGKILL);
				return 1;
			}
			if (pids[rank] == 0) {
				int j;

				signal(SIGINT, SIG_DFL);
				signal(SIGTERM, SIG_DFL);
				signal(SIGHUP, SIG_DFL);
				signal(SIGALRM, SIG_DFL);
				close(up[0]);
				close(down[1]);
				for (j = 0; j < rank; j++) {
					close(to_parent[j]);
					close(to_child[j]);
				}
				run_rank(rank, &blocks[bi], up[1], down[0]);
			}
			close(up[1]);
			close(down[0]);
			to_parent[rank] = up[0];
			to_child[rank] = down[1];
		}
	}

	if (time_limit > 0)
		alarm((unsigned)time_limit);

	/* The allgather: every rank's URI, then the table to every rank (the barrier). */
	for (r = 0; r < world; r++) {
		if (read_full(to_parent[r], &all[r], sizeof(all[r])) != 0 || all[r].status != 0) {
			fprintf(stderr, "oxidaos-launch: rank %d could not start CaRT (rc=%d)\n", r,
				all[r].status);
			first_bad = 125;
			bad_rank = r;
			break;
		}
		close(to_parent[r]);
		if (!quiet)
			fprintf(stderr, "oxidaos-launch: rank %d%s %s\n", r,
				all[r].is_client ? " (client)" : "", all[r].uri);
	}
	for (r = 0; r < world && first_bad == 0; r++) {
		if (write_group_file(all, paths[r], LAUNCH_PATH_MAX) != 0) {
			fprintf(stderr, "oxidaos-launch: group file: %s\n", strerror(errno));
			first_bad = 125;
			bad_rank = r;
		} else if (write_full(to_child[r], paths[r], LAUNCH_PATH_MAX) != 0) {
			first_bad = 125;
			bad_rank = r;
		}
	}
	for (r = 0; r < world; r++)
		close(to_child[r]);	/* on failure, ranks still waiting see EOF and exit */
	if (first_bad != 0)
		kill_all(SIGKILL);

	for (running = world; running > 0;) {
		int   status;
		int   code;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0) {
			if (errno != EINTR)
				break;
			if (got_signal) {
				kill_all((int)got_signal);
				got_signal = 0;
			}
			if (timed_out == 1) {
				fprintf(stderr, "oxidaos-launch: time limit %d s reached\n",
					time_limit);
				kill_all(SIGKILL);
				timed_out = 2;
				if (first_bad == 0)
					first_bad = 124;
			}
			continue;
		}
		for (r = 0; r < world && pids[r] != pid; r++)
			;
		if (r == world)
			continue;
		pids[r] = 0;
		running--;
		code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (code != 0 && first_bad == 0) {
			first_bad = code;
			bad_rank = r;
		}
		if (!quiet && code != 0)
			fprintf(stderr, "oxidaos-launch: rank %d exited with status %d\n", r, code);
	}
	if (first_bad != 0 && !quiet)
		fprintf(stderr, "oxidaos-launch: job failed (rank %d, status %d)\n", bad_rank,
			first_bad);

	/* Group files the programs did not delete themselves. */
	for (r = 0; r < world && !keep_files; r++)
		if (paths[r][0] != '\0')
			unlink(paths[r]);
	free(paths);
	if (!port_given)
		release_ports(start_port, world);
	free(to_parent);
	free(to_child);
	free(all);
	free(pids);
	return first_bad;
}
