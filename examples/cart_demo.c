/* A live DAOS-like cluster on loopback, through libcart's C API only.
 *
 * The parent plays daos_server: it starts NRANKS engine processes (fork/exec of this program),
 * each of which is a CaRT server with one context (crt_init_opt, ofi+tcp on lo, a port the
 * system picks) and reports its self URI and incarnation. The parent hands out ranks (the
 * engine calls crt_rank_self_set, as on daos_server's SetRank) and sends the full membership
 * (ranks, incarnations, URIs, map version) that each engine applies with
 * crt_group_primary_modify(REPLACE), as on daos_server's group update; then each engine
 * enables SWIM with crt_swim_init(0).
 *
 * Then: rank 0 pings every rank with a registered protocol; rank 0 runs a collective RPC over
 * the group whose replies are aggregated (sum, count and bitmask of the ranks that ran); the
 * parent SIGKILLs one engine; SWIM on every survivor reports it DEAD through
 * crt_register_event_cb, each survivor printing how long after the kill; rank 0 runs a second
 * collective excluding the ranks its SWIM declared dead. A summary with the times and results
 * ends the run; every process is cleaned up; the exit status is 0 on PASS only.
 *
 * SWIM runs with shortened timers (SWIM_PROTOCOL_PERIOD_LEN, SWIM_PING_TIMEOUT,
 * SWIM_SUSPECT_TIMEOUT, set here unless already in the environment).
 *
 * Built against the installed libcart through pkg-config (./dev.sh demo); run by meson test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cart/api.h>

/* A libcart without SWIM's glue lacks these: the demo then says so instead of faking it. */
#pragma weak crt_swim_init
#pragma weak crt_swim_fini
#pragma weak crt_self_incarnation_get
#pragma weak crt_rank_state_get

#define NRANKS     5
#define KILL_RANK  3
#define MAP_VER    1
#define DEMO_BASE  0x2D000000U
#define OPC_PING   CRT_PROTO_OPC(DEMO_BASE, 1, 0)
#define OPC_SUM    CRT_PROTO_OPC(DEMO_BASE, 1, 1)
#define DEADLINE_S 55 /* the whole run */
#define DEAD_WAIT_S 20 /* for every survivor to report the death */

/* ---- the protocol: a ping with a small body, and a collective sum ---- */

#define CRT_ISEQ_PING ((uint64_t)(p_seq) CRT_VAR)((d_string_t)(p_msg) CRT_VAR)((uint32_t)(p_from) CRT_VAR)((uint32_t)(p_pad) CRT_VAR)
#define CRT_OSEQ_PING ((uint32_t)(p_rank) CRT_VAR)((uint32_t)(p_pid) CRT_VAR)((uint64_t)(p_seq) CRT_VAR)
CRT_RPC_DECLARE(demo_ping, CRT_ISEQ_PING, CRT_OSEQ_PING)
CRT_RPC_DEFINE(demo_ping, CRT_ISEQ_PING, CRT_OSEQ_PING)

#define CRT_ISEQ_SUM ((uint32_t)(s_round) CRT_VAR)
#define CRT_OSEQ_SUM ((uint64_t)(s_sum) CRT_VAR)((uint64_t)(s_mask) CRT_VAR)((uint32_t)(s_count) CRT_VAR)((uint32_t)(s_pad) CRT_VAR)
CRT_RPC_DECLARE(demo_sum, CRT_ISEQ_SUM, CRT_OSEQ_SUM)
CRT_RPC_DEFINE(demo_sum, CRT_ISEQ_SUM, CRT_OSEQ_SUM)

static crt_context_t ctx;
static d_rank_t      my_rank = CRT_NO_RANK;
static int           report_fd = -1; /* engine -> parent */

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* One whole line to a pipe in one write (atomic below PIPE_BUF). */
static void
say(int fd, const char *fmt, ...)
{
	char    buf[4096];
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (write(fd, buf, n) != n)
		_exit(90);
}

static void
ping_hdlr(crt_rpc_t *rpc)
{
	struct demo_ping_in  *in  = crt_req_get(rpc);
	struct demo_ping_out *out = crt_reply_get(rpc);

	out->p_rank = my_rank;
	out->p_pid  = getpid();
	out->p_seq  = in->p_seq + 1;
	crt_reply_send(rpc);
}

static void
sum_hdlr(crt_rpc_t *rpc)
{
	struct demo_sum_out *out = crt_reply_get(rpc);

	out->s_sum   = my_rank;
	out->s_mask  = 1ULL << my_rank;
	out->s_count = 1;
	crt_reply_send(rpc);
}

static int
sum_aggregate(crt_rpc_t *source, crt_rpc_t *result, void *arg)
{
	struct demo_sum_out *src = crt_reply_get(source);
	struct demo_sum_out *dst = crt_reply_get(result);

	(void)arg;
	dst->s_sum += src->s_sum;
	dst->s_mask |= src->s_mask;
	dst->s_count += src->s_count;
	return 0;
}

static struct crt_corpc_ops sum_co_ops = {.co_aggregate = sum_aggregate};

static struct crt_proto_rpc_format demo_rpcs[] = {
    {.prf_req_fmt = &CQF_demo_ping, .prf_hdlr = ping_hdlr},
    {.prf_req_fmt = &CQF_demo_sum, .prf_hdlr = sum_hdlr, .prf_co_ops = &sum_co_ops},
};
static struct crt_proto_format demo_proto = {.cpf_name  = "cart_demo",
					     .cpf_ver   = 1,
					     .cpf_count = 2,
					     .cpf_prf   = demo_rpcs,
					     .cpf_base  = DEMO_BASE};

/* ---- an engine ---- */

static double   kill_time;            /* CLOCK_MONOTONIC of the kill, sent by the parent */
static d_rank_t dead[NRANKS];         /* what this engine's SWIM declared DEAD */
static int      ndead;

static void
event_cb(d_rank_t rank, uint64_t incarnation, enum crt_event_source src, enum crt_event_type type,
	 void *arg)
{
	double t = now_s();

	(void)arg;
	if (src != CRT_EVS_SWIM)
		return;
	if (type == CRT_EVT_DEAD) {
		if (ndead < NRANKS)
			dead[ndead++] = rank;
		if (kill_time > 0)
			printf("    [rank %u] SWIM: rank %u is DEAD (incarnation %" PRIu64
			       "), %.2f s after the kill\n",
			       my_rank, rank, incarnation, t - kill_time);
		else
			printf("    [rank %u] SWIM: rank %u is DEAD (incarnation %" PRIu64 ")\n",
			       my_rank, rank, incarnation);
		fflush(stdout);
		say(report_fd, "DEAD %u %u %.6f\n", my_rank, rank, t);
	} else if (type == CRT_EVT_ALIVE) {
		say(report_fd, "ALIVE %u %u %.6f\n", my_rank, rank, t);
	}
}

struct wait_one {
	int  done, rc;
	char out[64];
};

static int
is_done(void *arg)
{
	return ((struct wait_one *)arg)->done;
}

static void
ping_cb(const struct crt_cb_info *info)
{
	struct wait_one *w = info->cci_arg;

	w->rc = info->cci_rc;
	if (w->rc == 0)
		memcpy(w->out, crt_reply_get(info->cci_rpc), sizeof(struct demo_ping_out));
	w->done = 1;
}

static void
sum_cb(const struct crt_cb_info *info)
{
	struct wait_one *w = info->cci_arg;

	w->rc = info->cci_rc;
	if (w->rc == 0)
		memcpy(w->out, crt_reply_get(info->cci_rpc), sizeof(struct demo_sum_out));
	w->done = 1;
}

/* Rank 0: one ping to every rank of the group (itself included). */
static void
do_pings(void)
{
	d_rank_list_t *ranks = NULL;
	unsigned       i, ok = 0;
	int            rc;
	double         worst = 0;

	rc = crt_group_ranks_get(NULL, &ranks);
	if (rc != 0) {
		say(report_fd, "PINGS %d 0 0\n", rc);
		return;
	}
	for (i = 0; i < ranks->rl_nr; i++) {
		crt_endpoint_t        ep = {.ep_grp = NULL, .ep_rank = ranks->rl_ranks[i], .ep_tag = 0};
		crt_rpc_t            *rpc = NULL;
		struct demo_ping_in  *in;
		struct demo_ping_out *out;
		struct wait_one       w = {0};
		double                t0, dt;

		rc = crt_req_create(ctx, &ep, OPC_PING, &rpc);
		if (rc != 0)
			break;
		in         = crt_req_get(rpc);
		in->p_from = my_rank;
		in->p_seq  = 1000 + ep.ep_rank;
		in->p_msg  = "hello from rank 0";
		t0         = now_s();
		rc         = crt_req_send(rpc, ping_cb, &w);
		if (rc == 0)
			rc = crt_progress_cond(ctx, 10 * 1000 * 1000, is_done, &w);
		if (rc == 0)
			rc = w.rc;
		dt  = now_s() - t0;
		out = (struct demo_ping_out *)w.out;
		if (rc == 0 && (out->p_rank != ep.ep_rank || out->p_seq != 1001 + ep.ep_rank))
			rc = -DER_MISC;
		if (rc == 0) {
			ok++;
			if (dt > worst)
				worst = dt;
			printf("    [rank 0] ping rank %u -> reply from rank %u (pid %u), seq %" PRIu64
			       ", %.3f ms\n",
			       ep.ep_rank, out->p_rank, out->p_pid, out->p_seq, dt * 1e3);
		} else {
			printf("    [rank 0] ping rank %u FAILED: %s (%d)\n", ep.ep_rank,
			       d_errstr(rc), rc);
		}
		fflush(stdout);
	}
	say(report_fd, "PINGS 0 %u %.6f\n", ok, worst);
	d_rank_list_free(ranks);
}

/* Rank 0: a collective over the primary group, excluding `excl` (may be NULL). */
static void
do_corpc(int round, d_rank_list_t *excl)
{
	crt_rpc_t           *rpc = NULL;
	struct demo_sum_in  *in;
	struct demo_sum_out *out;
	struct wait_one      w = {0};
	double               t0, dt;
	int                  rc;

	rc = crt_corpc_req_create(ctx, NULL, excl, OPC_SUM, NULL, NULL, 0,
				  crt_tree_topo(CRT_TREE_KNOMIAL, 2), &rpc);
	if (rc != 0) {
		say(report_fd, "CORPC %d %d 0 0 0 0\n", round, rc);
		return;
	}
	in          = crt_req_get(rpc);
	in->s_round = round;
	crt_req_set_timeout(rpc, 5);
	t0 = now_s();
	rc = crt_req_send(rpc, sum_cb, &w);
	if (rc == 0)
		rc = crt_progress_cond(ctx, 20 * 1000 * 1000, is_done, &w);
	if (rc == 0)
		rc = w.rc;
	dt  = now_s() - t0;
	out = (struct demo_sum_out *)w.out;
	if (rc != 0)
		say(report_fd, "CORPC %d %d 0 0 0 %.6f\n", round, rc, dt);
	else
		say(report_fd, "CORPC %d 0 %" PRIu64 " %u %" PRIu64 " %.6f\n", round, out->s_sum,
		    out->s_count, out->s_mask, dt);
}

/* Reads whole lines from a non-blocking fd; returns 1 with a line, 0 without, -1 on EOF. */
struct liner {
	int    fd;
	size_t len;
	char   buf[8192];
};

static int
next_line(struct liner *l, char *line, size_t max)
{
	char   *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(l->buf, '\n', l->len);
		if (nl != NULL) {
			size_t k = nl - l->buf;

			if (k >= max)
				k = max - 1;
			memcpy(line, l->buf, k);
			line[k] = '\0';
			l->len -= nl + 1 - l->buf;
			memmove(l->buf, nl + 1, l->len);
			return 1;
		}
		if (l->len == sizeof(l->buf))
			return -1;
		n = read(l->fd, l->buf + l->len, sizeof(l->buf) - l->len);
		if (n == 0)
			return -1;
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		l->len += n;
	}
}

static int
engine_join(char *line)
{
	d_rank_t       ranks[NRANKS];
	uint64_t       incs[NRANKS];
	char          *uris[NRANKS];
	d_rank_list_t  rl  = {.rl_ranks = ranks, .rl_nr = 0};
	unsigned       rank, ver, n, i;
	char          *save = NULL, *tok;
	int            rc;

	/* JOIN <rank> <version> <n> then n times <rank> <incarnation> <uri> */
	tok = strtok_r(line, " ", &save);
	if (tok == NULL || strcmp(tok, "JOIN") != 0)
		return -DER_INVAL;
	if (sscanf(strtok_r(NULL, " ", &save), "%u", &rank) != 1 ||
	    sscanf(strtok_r(NULL, " ", &save), "%u", &ver) != 1 ||
	    sscanf(strtok_r(NULL, " ", &save), "%u", &n) != 1 || n > NRANKS)
		return -DER_INVAL;
	for (i = 0; i < n; i++) {
		char *r = strtok_r(NULL, " ", &save), *inc = strtok_r(NULL, " ", &save);

		uris[i] = strtok_r(NULL, " ", &save);
		if (r == NULL || inc == NULL || uris[i] == NULL)
			return -DER_INVAL;
		ranks[i] = strtoul(r, NULL, 10);
		incs[i]  = strtoull(inc, NULL, 10);
	}
	rl.rl_nr = n;

	/* daos_server's SetRank: the engine learns its rank and the lowest map version */
	rc = crt_rank_self_set(rank, ver);
	if (rc != 0)
		return rc;
	my_rank = rank;
	/* daos_server's group update: the whole membership at map version `ver` */
	rc = crt_group_primary_modify(NULL, &ctx, 1, &rl, incs, uris, CRT_GROUP_MOD_OP_REPLACE,
				      ver);
	if (rc != 0)
		return rc;
	return 0;
}

/* What this engine's SWIM thinks of every rank (crt_rank_state_get). */
static void
print_states(void)
{
	char     buf[512];
	int      n = 0;
	d_rank_t r;

	crt_group_t *grp = crt_group_lookup(NULL); /* upstream wants the group itself */

	if (crt_rank_state_get == NULL)
		return;
	for (r = 0; r < NRANKS; r++) {
		struct swim_member_state st = {0};
		int                      rc = crt_rank_state_get(grp, r, &st);

		if (rc == 0 && st.sms_status <= SWIM_MEMBER_INACTIVE)
			n += snprintf(buf + n, sizeof(buf) - n, "  r%u %c", r,
				      SWIM_STATUS_CHARS[st.sms_status]);
		else
			n += snprintf(buf + n, sizeof(buf) - n, "  r%u rc=%d", r, rc);
	}
	printf("    [rank %u] crt_rank_state_get (A alive, S suspect, D dead):%s\n", my_rank, buf);
	fflush(stdout);
}

static int
engine_main(int idx, int cmd_fd, int rep_fd)
{
	crt_init_options_t opt = {0};
	struct liner       in  = {.fd = cmd_fd};
	char               line[8192], *uri = NULL;
	uint64_t           inc = 0;
	int                rc, swim = -1;

	report_fd = rep_fd;
	signal(SIGPIPE, SIG_IGN);
	alarm(DEADLINE_S + 10); /* never outlive a parent that died */
	fcntl(cmd_fd, F_SETFL, O_NONBLOCK);

	opt.cio_provider  = "ofi+tcp";
	opt.cio_interface = "lo";
	rc = crt_init_opt("daos_server", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE, &opt);
	if (rc == 0)
		rc = crt_context_create(&ctx);
	if (rc == 0)
		rc = crt_proto_register(&demo_proto);
	if (rc == 0)
		rc = crt_register_event_cb(event_cb, NULL);
	if (rc == 0)
		rc = crt_self_uri_get(0, &uri);
	if (rc != 0) {
		say(rep_fd, "ERR %d startup %d\n", idx, rc);
		return 1;
	}
	/* the engine's incarnation: SWIM's own once it runs, a start time otherwise */
	if (crt_self_incarnation_get == NULL || crt_self_incarnation_get(&inc) != 0 || inc == 0)
		inc = (uint64_t)(now_s() * 1e6);
	say(rep_fd, "URI %d %" PRIu64 " %s\n", idx, inc, uri);
	free(uri);

	for (;;) {
		rc = crt_progress(ctx, 1000);
		if (rc != 0 && rc != -DER_TIMEDOUT) {
			say(rep_fd, "ERR %d progress %d\n", idx, rc);
			return 1;
		}
		rc = next_line(&in, line, sizeof(line));
		if (rc < 0)
			break; /* the parent is gone */
		if (rc == 0)
			continue;
		if (strncmp(line, "JOIN ", 5) == 0) {
			rc = engine_join(line);
			if (rc != 0) {
				say(rep_fd, "ERR %d join %d\n", idx, rc);
				continue;
			}
			swim = -DER_NOSYS;
			if (crt_swim_init != NULL)
				swim = crt_swim_init(0);
			say(rep_fd, "READY %d %u %d\n", idx, my_rank, swim);
		} else if (strcmp(line, "PINGS") == 0) {
			do_pings();
		} else if (strcmp(line, "CORPC1") == 0) {
			do_corpc(1, NULL);
		} else if (strcmp(line, "CORPC2") == 0) {
			/* exclude the ranks this engine's SWIM declared dead */
			d_rank_list_t excl = {.rl_ranks = dead, .rl_nr = ndead};

			print_states();

			do_corpc(2, ndead ? &excl : NULL);
		} else if (strncmp(line, "CORPCX ", 7) == 0) {
			/* no SWIM: exclude the rank daos_server says is gone */
			d_rank_t      r    = strtoul(line + 7, NULL, 10);
			d_rank_list_t excl = {.rl_ranks = &r, .rl_nr = 1};

			do_corpc(2, &excl);
		} else if (strncmp(line, "KILLED ", 7) == 0) {
			unsigned r;

			if (sscanf(line + 7, "%u %lf", &r, &kill_time) != 2)
				kill_time = 0;
		} else if (strcmp(line, "EXIT") == 0) {
			break;
		}
	}
	if (swim == 0 && crt_swim_fini != NULL)
		crt_swim_fini();
	rc = crt_context_destroy(ctx, 1);
	if (rc == 0)
		rc = crt_finalize();
	return rc == 0 ? 0 : 1;
}

/* ---- the parent: daos_server ---- */

struct engine {
	pid_t    pid;
	int      cmd_fd;
	uint64_t inc;
	char     uri[CRT_ADDR_STR_MAX_LEN + 1];
	int      swim_rc;
	bool     ready, killed;
	double   dead_at; /* when its SWIM declared KILL_RANK dead */
};

static struct engine eng[NRANKS];
static struct liner  reports;
static double        t_start;

static void
cleanup(void)
{
	int i;

	for (i = 0; i < NRANKS; i++)
		if (eng[i].pid > 0) {
			kill(eng[i].pid, SIGKILL);
			waitpid(eng[i].pid, NULL, 0);
			eng[i].pid = 0;
		}
}

static void
on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "\ncart_demo: FAIL: the deadline passed; killing every engine\n";
	if (write(1, m, sizeof(m) - 1) < 0)
		_exit(3);
	cleanup();
	_exit(2);
}

static void
step(const char *fmt, ...)
{
	va_list ap;

	printf("[%6.2fs] ", now_s() - t_start);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The next report line, waiting up to `secs`; returns false on timeout. */
static bool
next_report(char *line, size_t max, double secs)
{
	double until = now_s() + secs;

	for (;;) {
		struct pollfd p = {.fd = reports.fd, .events = POLLIN};
		int           rc = next_line(&reports, line, max);
		double        left;

		if (rc > 0) {
			if (strncmp(line, "ERR ", 4) == 0)
				step("engine error: %s", line + 4);
			if (strncmp(line, "ALIVE ", 6) == 0)
				continue;
			return true;
		}
		if (rc < 0)
			return false;
		left = until - now_s();
		if (left <= 0)
			return false;
		poll(&p, 1, (int)(left * 1000) + 1);
	}
}

static void
tell(int rank, const char *fmt, ...)
{
	char    buf[8192];
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && n < (int)sizeof(buf) && write(eng[rank].cmd_fd, buf, n) != n)
		step("could not reach rank %d", rank);
}

int
main(int argc, char **argv)
{
	int      rep[2], i, nready = 0, ndead_seen = 0, false_dead = 0;
	char     line[8192], join[8192];
	bool     ok_pings = false, ok_c1 = false, ok_c2 = false, ok_dead = false, have_swim;
	unsigned npings = 0;
	double   worst_ping = 0, c1_t = 0, c2_t = 0, t_kill = 0, slowest = 0;
	uint64_t c1_sum = 0, c2_sum = 0, c1_mask = 0, c2_mask = 0;
	unsigned c1_n = 0, c2_n = 0, expect1 = 0, expect2;
	int      c1_rc = -1, c2_rc = -1, n;

	if (argc == 5 && strcmp(argv[1], "--engine") == 0)
		return engine_main(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));

	setvbuf(stdout, NULL, _IOLBF, 0);
	t_start = now_s();
	/* SWIM's timers, shortened (upstream: 1000 ms period, 900 ms ping, 20 s suspicion) */
	setenv("SWIM_PROTOCOL_PERIOD_LEN", "300", 0);
	setenv("SWIM_PING_TIMEOUT", "250", 0);
	setenv("SWIM_SUSPECT_TIMEOUT", "3000", 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(DEADLINE_S);
	atexit(cleanup);

	printf("cart_demo: %d engines on loopback (ofi+tcp, lo), through libcart's C API\n", NRANKS);
	printf("SWIM timers: period %s ms, ping timeout %s ms, suspicion %s ms\n",
	       getenv("SWIM_PROTOCOL_PERIOD_LEN"), getenv("SWIM_PING_TIMEOUT"),
	       getenv("SWIM_SUSPECT_TIMEOUT"));
	have_swim = crt_swim_init != NULL;
	if (!have_swim)
		printf("NOTE: this libcart exports no crt_swim_init: the SWIM step is MISSING\n");
	fflush(stdout);

	if (pipe(rep) != 0)
		return 1;
	reports.fd = rep[0];
	fcntl(rep[0], F_SETFL, O_NONBLOCK);
	for (i = 0; i < NRANKS; i++) {
		int  cmd[2];
		char a2[16], a3[16], a4[16];

		if (pipe(cmd) != 0)
			return 1;
		snprintf(a2, sizeof(a2), "%d", i);
		snprintf(a3, sizeof(a3), "%d", cmd[0]);
		snprintf(a4, sizeof(a4), "%d", rep[1]);
		eng[i].pid = fork();
		if (eng[i].pid < 0)
			return 1;
		if (eng[i].pid == 0) {
			close(cmd[1]);
			close(rep[0]);
			execl("/proc/self/exe", argv[0], "--engine", a2, a3, a4, (char *)NULL);
			_exit(127);
		}
		close(cmd[0]);
		eng[i].cmd_fd = cmd[1];
		fcntl(cmd[1], F_SETFD, FD_CLOEXEC);
	}
	close(rep[1]);
	step("started %d engines (pids %d %d %d %d %d)", NRANKS, eng[0].pid, eng[1].pid, eng[2].pid,
	     eng[3].pid, eng[4].pid);

	/* 1. every engine reports its URI */
	for (n = 0; n < NRANKS;) {
		unsigned long long inc;
		char               uri[CRT_ADDR_STR_MAX_LEN + 1];

		if (!next_report(line, sizeof(line), 20))
			goto summary;
		if (sscanf(line, "URI %d %llu %128s", &i, &inc, uri) == 3 && i >= 0 && i < NRANKS) {
			eng[i].inc = inc;
			snprintf(eng[i].uri, sizeof(eng[i].uri), "%s", uri);
			step("engine %d (pid %d) is up at %s, incarnation %llu", i, eng[i].pid, uri,
			     inc);
			n++;
		}
	}

	/* 2. ranks and the group: engine i becomes rank i; map version MAP_VER */
	n = snprintf(join, sizeof(join), " %d %d", MAP_VER, NRANKS);
	for (i = 0; i < NRANKS; i++)
		n += snprintf(join + n, sizeof(join) - n, " %d %" PRIu64 " %s", i, eng[i].inc,
			      eng[i].uri);
	for (i = 0; i < NRANKS; i++)
		tell(i, "JOIN %d%s\n", i, join);
	step("sent every engine its rank (crt_rank_self_set) and the %d-rank group at version %d "
	     "(crt_group_primary_modify REPLACE)",
	     NRANKS, MAP_VER);
	while (nready < NRANKS) {
		int      rank, swim;

		if (!next_report(line, sizeof(line), 20))
			goto summary;
		if (sscanf(line, "READY %d %*u %d", &rank, &swim) == 2 && rank >= 0 && rank < NRANKS) {
			eng[rank].ready   = true;
			eng[rank].swim_rc = swim;
			nready++;
			step("rank %d joined the group; crt_swim_init: %s", rank,
			     swim == 0 ? "SWIM on" : d_errstr(swim));
			if (swim != 0 && have_swim)
				goto summary;
		}
	}

	/* 3. rank 0 pings everybody */
	step("rank 0 pings every rank (protocol cart_demo v1, opcode %#x)", OPC_PING);
	tell(0, "PINGS\n");
	while (next_report(line, sizeof(line), 30)) {
		int rc;

		if (sscanf(line, "PINGS %d %u %lf", &rc, &npings, &worst_ping) >= 2) {
			ok_pings = rc == 0 && npings == NRANKS;
			step("pings: %u/%d answered, slowest %.3f ms", npings, NRANKS, worst_ping * 1e3);
			break;
		}
	}
	if (!ok_pings)
		goto summary;

	/* 4. a collective RPC over the whole group */
	for (i = 0; i < NRANKS; i++)
		expect1 += i;
	step("rank 0 runs a collective RPC over the group (k-nomial tree, radix 2), replies "
	     "aggregated as sum of ranks");
	tell(0, "CORPC1\n");
	while (next_report(line, sizeof(line), 30)) {
		if (sscanf(line, "CORPC 1 %d %" SCNu64 " %u %" SCNu64 " %lf", &c1_rc, &c1_sum, &c1_n,
			   &c1_mask, &c1_t) == 5) {
			ok_c1 = c1_rc == 0 && c1_sum == expect1 && c1_n == NRANKS &&
				c1_mask == (1ULL << NRANKS) - 1;
			step("collective 1: rc %d, sum of ranks %" PRIu64 " (expected %u), %u ranks ran "
			     "(mask %#" PRIx64 "), %.3f ms",
			     c1_rc, c1_sum, expect1, c1_n, c1_mask, c1_t * 1e3);
			break;
		}
	}
	if (!ok_c1)
		goto summary;

	/* let SWIM settle a few periods: no one may be declared dead while all are alive */
	if (have_swim) {
		double until = now_s() + 2.0;

		while (now_s() < until && next_report(line, sizeof(line), until - now_s()))
			if (strncmp(line, "DEAD ", 5) == 0) {
				false_dead++;
				step("FALSE DEAD before any kill: %s", line);
			}
	}

	/* 5. kill one engine */
	t_kill = now_s();
	kill(eng[KILL_RANK].pid, SIGKILL);
	waitpid(eng[KILL_RANK].pid, NULL, 0);
	eng[KILL_RANK].pid    = 0;
	eng[KILL_RANK].killed = true;
	close(eng[KILL_RANK].cmd_fd);
	step("SIGKILLed rank %d", KILL_RANK);
	for (i = 0; i < NRANKS; i++)
		if (i != KILL_RANK)
			tell(i, "KILLED %d %.6f\n", KILL_RANK, t_kill);

	/* 6. SWIM on every survivor reports it DEAD */
	expect2 = expect1 - KILL_RANK;
	if (have_swim) {
		double until = t_kill + DEAD_WAIT_S;

		step("waiting for SWIM on the %d survivors to declare rank %d DEAD", NRANKS - 1,
		     KILL_RANK);
		while (ndead_seen < NRANKS - 1 && now_s() < until &&
		       next_report(line, sizeof(line), until - now_s())) {
			unsigned who, whom;
			double   t;

			if (sscanf(line, "DEAD %u %u %lf", &who, &whom, &t) != 3)
				continue;
			if (whom != KILL_RANK || who >= NRANKS) {
				false_dead++;
				step("FALSE DEAD: rank %u says rank %u", who, whom);
				continue;
			}
			if (eng[who].dead_at == 0) {
				eng[who].dead_at = t;
				ndead_seen++;
				if (t - t_kill > slowest)
					slowest = t - t_kill;
			}
		}
		ok_dead = ndead_seen == NRANKS - 1 && false_dead == 0;
		step("%d/%d survivors saw rank %d DEAD; last one %.2f s after the kill", ndead_seen,
		     NRANKS - 1, KILL_RANK, slowest);
		if (!ok_dead)
			goto summary;
		step("rank 0 runs a second collective, excluding the ranks its SWIM declared dead");
		tell(0, "CORPC2\n");
	} else {
		step("no SWIM: rank 0 runs a second collective excluding rank %d as daos_server "
		     "would tell it (NOT detected by SWIM)",
		     KILL_RANK);
		tell(0, "CORPCX %d\n", KILL_RANK);
	}

	/* 7. the second collective */
	while (next_report(line, sizeof(line), 30)) {
		if (sscanf(line, "CORPC 2 %d %" SCNu64 " %u %" SCNu64 " %lf", &c2_rc, &c2_sum, &c2_n,
			   &c2_mask, &c2_t) == 5) {
			ok_c2 = c2_rc == 0 && c2_sum == expect2 && c2_n == NRANKS - 1 &&
				c2_mask == (((1ULL << NRANKS) - 1) & ~(1ULL << KILL_RANK));
			step("collective 2: rc %d, sum of ranks %" PRIu64 " (expected %u), %u ranks ran "
			     "(mask %#" PRIx64 "), %.3f ms",
			     c2_rc, c2_sum, expect2, c2_n, c2_mask, c2_t * 1e3);
			break;
		}
	}

summary:
	/* 8. everybody leaves */
	for (i = 0; i < NRANKS; i++)
		if (eng[i].pid > 0)
			tell(i, "EXIT\n");
	{
		double until = now_s() + 10;
		int    clean = 0, alive = 0;

		for (i = 0; i < NRANKS; i++) {
			int st;

			if (eng[i].pid <= 0)
				continue;
			alive++;
			while (waitpid(eng[i].pid, &st, WNOHANG) == 0 && now_s() < until)
				usleep(10000);
			if (waitpid(eng[i].pid, &st, WNOHANG) == 0) {
				kill(eng[i].pid, SIGKILL);
				waitpid(eng[i].pid, &st, 0);
			} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
				clean++;
			}
			eng[i].pid = 0;
		}
		step("engines shut down: %d/%d finalized cleanly", clean, alive);
	}

	{
		bool pass = ok_pings && ok_c1 && ok_c2 && (have_swim ? ok_dead : true);

		printf("\n==== cart_demo summary ====\n");
		printf("engines started:            %d (one killed: rank %d)\n", NRANKS, KILL_RANK);
		printf("group formed:               %s\n", nready == NRANKS ? "yes" : "NO");
		printf("pings from rank 0:          %u/%d answered, slowest %.3f ms  %s\n", npings,
		       NRANKS, worst_ping * 1e3, ok_pings ? "ok" : "FAIL");
		printf("collective 1 (all ranks):   sum %" PRIu64 " of %u expected, %u ranks, %.3f ms  "
		       "%s\n",
		       c1_sum, expect1, c1_n, c1_t * 1e3, ok_c1 ? "ok" : "FAIL");
		if (have_swim) {
			printf("SWIM DEAD detection:        %d/%d survivors", ndead_seen, NRANKS - 1);
			for (i = 0; i < NRANKS; i++)
				if (eng[i].dead_at > 0)
					printf("  r%d %.2fs", i, eng[i].dead_at - t_kill);
			printf("%s  %s\n", false_dead ? "  (false DEAD seen)" : "",
			       ok_dead ? "ok" : "FAIL");
		} else {
			printf("SWIM DEAD detection:        MISSING (this libcart has no crt_swim_init)\n");
		}
		printf("collective 2 (rank %d out):  sum %" PRIu64 " of %u expected, %u ranks, %.3f ms  "
		       "%s\n",
		       KILL_RANK, c2_sum, expect1 - KILL_RANK, c2_n, c2_t * 1e3,
		       ok_c2 ? "ok" : "FAIL");
		printf("total time:                 %.2f s\n", now_s() - t_start);
		if (pass && have_swim)
			printf("RESULT: PASS\n");
		else if (pass)
			printf("RESULT: PASS without SWIM (the SWIM step is missing)\n");
		else
			printf("RESULT: FAIL\n");
		return pass ? 0 : 1;
	}
}
