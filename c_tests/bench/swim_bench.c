/*
 * swim_bench: what SWIM membership costs and how fast it notices a death, for whichever
 * libcart.so.4 the dynamic linker finds (LD_LIBRARY_PATH), public API only:
 *
 *   D_PROVIDER=ofi+tcp D_INTERFACE=lo LD_LIBRARY_PATH=... swim_bench [-t SECS] [-p PORT] [-s]
 *
 * For 8 and 16 ranks: this process forks the ranks (servers on ports PORT+2*rank), each
 * joining the primary group (crt_group_primary_modify ADD of every rank) and enabling SWIM
 * (crt_swim_init). After a 3 s settling time the membership is left idle for SECS seconds
 * (default 10): every rank counts what it sends on its TCP sockets (send, sendto, sendmsg,
 * writev and write calls on AF_INET stream sockets, interposed in this program, so the figure
 * is what the library and libfabric put on the wire, framing included). Printed: sends and
 * bytes per second per rank (median and max over the ranks). Then the last rank is SIGKILLed
 * and every survivor reports when its SWIM raised CRT_EVT_DEAD: printed the first and the last
 * survivor's delay after the kill.
 *
 * SWIM's timers come from the environment (SWIM_PROTOCOL_PERIOD_LEN, SWIM_PING_TIMEOUT,
 * SWIM_SUSPECT_TIMEOUT; upstream's defaults 1000/900/20000 ms otherwise); -s sets cart_demo's
 * shortened ones (300/250/3000 ms). Bounded by an alarm; every child is killed at the end.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <cart/api.h>

#define NR_MAX 16

/* ---- counting what goes out on TCP sockets (this program's processes only) ---- */

static uint64_t sent_bytes, sent_calls;
static char     fd_kind[4096]; /* 0 unknown, 1 TCP, 2 other */

static int
is_tcp(int fd)
{
	struct sockaddr_storage a;
	socklen_t               l = sizeof(a);
	int                     type = 0;
	socklen_t               tl   = sizeof(type);

	if (fd < 0 || fd >= (int)sizeof(fd_kind))
		return 0;
	if (fd_kind[fd] == 0) {
		fd_kind[fd] = 2;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM &&
		    getsockname(fd, (struct sockaddr *)&a, &l) == 0 &&
		    (a.ss_family == AF_INET || a.ss_family == AF_INET6))
			fd_kind[fd] = 1;
	}
	return fd_kind[fd] == 1;
}

static void
count(int fd, ssize_t n)
{
	if (n > 0 && is_tcp(fd)) {
		__atomic_fetch_add(&sent_bytes, (uint64_t)n, __ATOMIC_RELAXED);
		__atomic_fetch_add(&sent_calls, 1, __ATOMIC_RELAXED);
	}
}

#define REAL(name)                                                                                 \
	static __typeof__(&name) real_##name;                                                      \
	if (real_##name == NULL)                                                                   \
		real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	REAL(send);
	ssize_t n = real_send(fd, buf, len, flags);

	count(fd, n);
	return n;
}

ssize_t
sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tl)
{
	REAL(sendto);
	ssize_t n = real_sendto(fd, buf, len, flags, to, tl);

	count(fd, n);
	return n;
}

ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	REAL(sendmsg);
	ssize_t n = real_sendmsg(fd, msg, flags);

	count(fd, n);
	return n;
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(writev);
	ssize_t n = real_writev(fd, iov, cnt);

	count(fd, n);
	return n;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	REAL(write);
	ssize_t n = real_write(fd, buf, len);

	count(fd, n);
	return n;
}

int
close(int fd)
{
	REAL(close);
	if (fd >= 0 && fd < (int)sizeof(fd_kind))
		fd_kind[fd] = 0;
	return real_close(fd);
}

/* ---- the ranks ---- */

static int           port_base = 33000;
static crt_context_t ctx;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct report {
	uint32_t rank;
	uint32_t kind; /* 1: counters, 2: DEAD seen */
	uint32_t subject;
	uint32_t pad;
	uint64_t bytes, calls;
	double   t; /* CLOCK_MONOTONIC, s */
};

static int rep_fd;
static d_rank_t me;

static void
on_event(d_rank_t rank, uint64_t inc, enum crt_event_source src, enum crt_event_type type, void *arg)
{
	struct report r = {me, 2, rank, 0, 0, 0, now_s()};

	(void)inc;
	(void)arg;
	if (src == CRT_EVS_SWIM && type == CRT_EVT_DEAD)
		if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
			_exit(20);
}

static int
rank_main(d_rank_t rank, int nr, int cmd_fd)
{
	char          port[16], us[NR_MAX][64], *uris[NR_MAX];
	d_rank_t      ranks[NR_MAX];
	uint64_t      inc[NR_MAX];
	d_rank_list_t l = {.rl_ranks = ranks, .rl_nr = 0};
	uint64_t      b0 = 0, c0 = 0;
	int           i;
	char          c;

	me = rank;
	snprintf(port, sizeof(port), "%d", port_base + 2 * (int)rank);
	setenv("D_PORT", port, 1);
	if (crt_init("swim_bench", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0 ||
	    crt_context_create(&ctx) != 0 || crt_rank_self_set(rank, 1) != 0 ||
	    crt_register_event_cb(on_event, NULL) != 0)
		return 1;
	for (i = 0; i < nr; i++) {
		snprintf(us[l.rl_nr], sizeof(us[0]), "ofi+tcp://127.0.0.1:%d", port_base + 2 * i);
		uris[l.rl_nr]    = us[l.rl_nr];
		inc[l.rl_nr]     = 0;
		ranks[l.rl_nr++] = i;
	}
	if (crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris, CRT_GROUP_MOD_OP_ADD, 2) != 0)
		return 2;
	if (crt_swim_init(0) != 0)
		return 3;
	fcntl(cmd_fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n;

		crt_progress(ctx, 1000);
		n = read(cmd_fd, &c, 1);
		if (n == 0)
			break; /* the parent is done */
		if (n != 1)
			continue;
		if (c == 'S') {
			b0 = __atomic_load_n(&sent_bytes, __ATOMIC_RELAXED);
			c0 = __atomic_load_n(&sent_calls, __ATOMIC_RELAXED);
		} else if (c == 'E') {
			struct report r = {rank, 1, 0, 0, sent_bytes - b0, sent_calls - c0, now_s()};

			if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
				return 4;
		}
	}
	return 0;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
wait_s(double s)
{
	double end = now_s() + s;

	while (now_s() < end)
		usleep(10000);
}

/* One group of `nr` ranks: idle overhead for `secs`, then death-to-DEAD. */
static int
run(int nr, double secs)
{
	pid_t         kids[NR_MAX];
	int           cmd[NR_MAX], fds[2], rep[2], i, got = 0, ndead = 0, rc = 0;
	double        bps[NR_MAX], cps[NR_MAX], t_kill, first = -1, last = -1, deadline;
	struct report r;

	if (pipe(rep) != 0)
		return 1;
	for (i = 0; i < nr; i++) {
		if (pipe(fds) != 0)
			return 1;
		kids[i] = fork();
		if (kids[i] == 0) {
			close(fds[1]);
			close(rep[0]);
			rep_fd = rep[1];
			alarm(600);
			_exit(rank_main(i, nr, fds[0]));
		}
		close(fds[0]);
		cmd[i] = fds[1];
	}
	close(rep[1]);
	fcntl(rep[0], F_SETFL, O_NONBLOCK);
	wait_s(3.0); /* joined, connected, SWIM past its first rounds */
	for (i = 0; i < nr; i++)
		if (write(cmd[i], "S", 1) != 1)
			rc = 2;
	wait_s(secs);
	for (i = 0; i < nr; i++)
		if (write(cmd[i], "E", 1) != 1)
			rc = 2;
	deadline = now_s() + 10;
	while (got < nr && now_s() < deadline) {
		if (read(rep[0], &r, sizeof(r)) != sizeof(r)) {
			usleep(1000);
			continue;
		}
		if (r.kind == 1) {
			bps[got]   = r.bytes / secs;
			cps[got++] = r.calls / secs;
		}
	}
	if (got < nr) {
		fprintf(stderr, "swim ranks %d: %d of %d ranks reported\n", nr, got, nr);
		rc = 3;
	} else {
		qsort(bps, nr, sizeof(double), cmp_d);
		qsort(cps, nr, sizeof(double), cmp_d);
		fflush(stdout);
		printf("swim idle   ranks %2d  per rank: %6.1f sends/s (max %6.1f)  %8.0f B/s (max %8.0f)"
		       "  over %.0f s\n", nr, cps[nr / 2], cps[nr - 1], bps[nr / 2], bps[nr - 1], secs);
	}

	/* death-to-DEAD */
	kill(kids[nr - 1], SIGKILL);
	waitpid(kids[nr - 1], NULL, 0);
	t_kill   = now_s();
	deadline = t_kill + 120;
	while (ndead < nr - 1 && now_s() < deadline) {
		if (read(rep[0], &r, sizeof(r)) != sizeof(r)) {
			usleep(1000);
			continue;
		}
		if (r.kind == 2 && r.subject == (uint32_t)(nr - 1)) {
			double d = r.t - t_kill;

			if (first < 0 || d < first)
				first = d;
			if (d > last)
				last = d;
			ndead++;
		}
	}
	if (ndead == nr - 1)
		printf("swim death  ranks %2d  rank %d SIGKILLed: DEAD at the first survivor after %.2f s, "
		       "at all %d after %.2f s\n", nr, nr - 1, first, nr - 1, last);
	else {
		fprintf(stderr, "swim ranks %d: %d of %d survivors saw the death\n", nr, ndead, nr - 1);
		rc = 4;
	}
	fflush(stdout);
	for (i = 0; i < nr; i++)
		close(cmd[i]);
	for (i = 0; i < nr - 1; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	close(rep[0]);
	return rc;
}

int
main(int argc, char **argv)
{
	double secs = 10;
	int    opt, rc = 0;

	while ((opt = getopt(argc, argv, "t:p:s")) != -1) {
		if (opt == 't')
			secs = atof(optarg);
		else if (opt == 'p')
			port_base = atoi(optarg);
		else if (opt == 's') {
			setenv("SWIM_PROTOCOL_PERIOD_LEN", "300", 1);
			setenv("SWIM_PING_TIMEOUT", "250", 1);
			setenv("SWIM_SUSPECT_TIMEOUT", "3000", 1);
		} else
			return 2;
	}
	if (secs <= 0)
		secs = 1;
	setenv("D_PROVIDER", getenv("D_PROVIDER") ? getenv("D_PROVIDER") : "ofi+tcp", 1);
	setenv("D_INTERFACE", getenv("D_INTERFACE") ? getenv("D_INTERFACE") : "lo", 1);
	signal(SIGPIPE, SIG_IGN);
	alarm(900);
	printf("SWIM timers (ms): period %s, ping %s, suspicion %s\n",
	       getenv("SWIM_PROTOCOL_PERIOD_LEN") ? getenv("SWIM_PROTOCOL_PERIOD_LEN") : "1000 (default)",
	       getenv("SWIM_PING_TIMEOUT") ? getenv("SWIM_PING_TIMEOUT") : "900 (default)",
	       getenv("SWIM_SUSPECT_TIMEOUT") ? getenv("SWIM_SUSPECT_TIMEOUT") : "20000 (default)");
	fflush(stdout); /* before the forks */
	rc |= run(8, secs);
	port_base += 40;
	rc |= run(16, secs);
	return rc;
}
