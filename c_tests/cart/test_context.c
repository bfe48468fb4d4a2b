/*
 * Context progress and quotas, in one server process (ofi+tcp on lo) sending RPCs to itself.
 *
 *  1. Progress with SWIM running: SWIM pings a member that never answers (its port has no
 *     listener), so its protocol always has an event due soon. Every RPC sent to ourselves
 *     during two seconds completes within crt_progress_cond's first step, and a polling
 *     crt_progress(ctx, 0) returns at once: SWIM's share of progress must never hold the
 *     caller for its whole timeout while replies wait unread (the 1 s stalls cart_demo showed
 *     after a peer died).
 *  2. CRT_QUOTA_RPCS: with a limit of 2, ten RPCs sent at once reach the handler two at a
 *     time, the rest being submitted as replies come back; every one completes, in order of
 *     sending. Raising the limit lets the waiting ones go; D_QUOTA_RPCS sets the default.
 *  3. HLC in the RPC header: a second process whose wall clock runs 30 s ahead (this test
 *     interposes clock_gettime there) answers our request and sends us one. Both carry its
 *     HLC, beyond the 1 s epsilon: our request completes with -DER_HLC_SYNC (its output still
 *     decoded), its request is refused with -DER_HLC_SYNC without running our handler, and
 *     the crt_register_hlc_error_cb callback runs once (reports are rate-limited to one an
 *     hour). crt_req_origin_addr_get names the other end on both sides.
 *  4. A handler that never replies: the client gets -DER_NOREPLY when the server RPC goes;
 *     crt_req_destroy frees an RPC nobody references.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <cart/api.h>
#include <cart/crt_rpc_internal.h>
#include <valgrind/valgrind.h>

#define SLOW (RUNNING_ON_VALGRIND ? 8 : 1)
#define BASE 0x2C000000U

#define CRT_ISEQ_CTX_NOTE ((uint32_t)(n_v) CRT_VAR)
#define CRT_OSEQ_CTX_NOTE ((uint32_t)(n_r) CRT_VAR)
CRT_RPC_DECLARE(ctx_note, CRT_ISEQ_CTX_NOTE, CRT_OSEQ_CTX_NOTE)
CRT_RPC_DEFINE(ctx_note, CRT_ISEQ_CTX_NOTE, CRT_OSEQ_CTX_NOTE)

enum { OPC_ECHO, OPC_HOLD, OPC_FORGET, OPC_COUNT };
#define OPC(i) CRT_PROTO_OPC(BASE, 1, i)

/* The skewed process's wall clock runs this far ahead: every clock_gettime of the process
 * (libgurt's HLC included) goes through here. */
static long skew_s;

int
clock_gettime(clockid_t clk, struct timespec *ts)
{
	long rc = syscall(SYS_clock_gettime, clk, ts);

	if (rc != 0)
		return -1;
	if (clk == CLOCK_REALTIME)
		ts->tv_sec += skew_s;
	return 0;
}

static int  port_base;
static int  echo_from_skewed; /* handler runs for requests from rank 2 */
static char origin_seen[64];

#define NHOLD 10
static crt_rpc_t *held[NHOLD];
static int        nheld;     /* in the handler and not answered yet */
static int        max_held;  /* most at once */
static int        arrived[NHOLD];
static int        narrived;

static void
echo_hdlr(crt_rpc_t *rpc)
{
	struct ctx_note_in  *in  = crt_req_get(rpc);
	struct ctx_note_out *out = crt_reply_get(rpc);

	d_rank_t             src = 0;

	if (crt_req_src_rank_get(rpc, &src) == 0 && src == 2)
		echo_from_skewed++;
	snprintf(origin_seen, sizeof(origin_seen), "%s", crt_req_origin_addr_get(rpc));
	out->n_r = in->n_v + 1;
	crt_reply_send(rpc);
}

/* Keeps the request: answered later by the test. */
static void
hold_hdlr(crt_rpc_t *rpc)
{
	struct ctx_note_in *in = crt_req_get(rpc);

	crt_req_addref(rpc);
	held[nheld++] = rpc;
	if (nheld > max_held)
		max_held = nheld;
	if (narrived < NHOLD)
		arrived[narrived++] = (int)in->n_v;
}

/* Never answers: the RPC's last reference going answers -DER_NOREPLY. */
static void
forget_hdlr(crt_rpc_t *rpc)
{
	(void)rpc;
}

static struct crt_proto_rpc_format prf[OPC_COUNT] = {
    {.prf_req_fmt = &CQF_ctx_note, .prf_hdlr = echo_hdlr},
    {.prf_req_fmt = &CQF_ctx_note, .prf_hdlr = hold_hdlr},
    {.prf_req_fmt = &CQF_ctx_note, .prf_hdlr = forget_hdlr},
};
static struct crt_proto_format cpf = {
    .cpf_name = "ctx_test", .cpf_ver = 1, .cpf_count = OPC_COUNT, .cpf_prf = prf, .cpf_base = BASE};

static crt_context_t ctx;

struct done {
	int      n;
	int      rc;
	uint32_t r;
	int      order[NHOLD];
	char     origin[64];
};

static void
done_cb(const struct crt_cb_info *info)
{
	struct done         *d   = info->cci_arg;
	struct ctx_note_out *out = crt_reply_get(info->cci_rpc);
	struct ctx_note_in  *in  = crt_req_get(info->cci_rpc);

	if (info->cci_rc != 0)
		d->rc = info->cci_rc;
	d->r = out->n_r; /* decoded even when the reply's HLC was refused */
	snprintf(d->origin, sizeof(d->origin), "%s", crt_req_origin_addr_get(info->cci_rpc));
	if (d->n < NHOLD)
		d->order[d->n] = (int)in->n_v;
	d->n++;
}

static int
one_done(void *arg)
{
	return ((struct done *)arg)->n > 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
send_note_to(d_rank_t rank, int opc_idx, uint32_t v, struct done *d)
{
	crt_endpoint_t     ep = {.ep_grp = NULL, .ep_rank = rank, .ep_tag = 0};
	crt_rpc_t         *rpc;
	struct ctx_note_in *in;
	int                rc;

	rc = crt_req_create(ctx, &ep, OPC(opc_idx), &rpc);
	if (rc != 0)
		return rc;
	in      = crt_req_get(rpc);
	in->n_v = v;
	/* no transport handle yet: upstream's placeholder */
	if (strcmp(crt_req_origin_addr_get(rpc), "NOINFO") != 0)
		return -DER_MISC;
	return crt_req_send(rpc, done_cb, d);
}

static int
send_note(int opc_idx, uint32_t v, struct done *d)
{
	return send_note_to(0, opc_idx, v, d);
}

/* A TCP port nobody listens on. */
static int
dead_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t          l = sizeof(a);
	int                s = socket(AF_INET, SOCK_STREAM, 0);
	int                port;

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static void
test_progress_with_swim(void **state)
{
	d_rank_t      ranks[2] = {0, 1};
	d_rank_list_t rl       = {ranks, 2};
	uint64_t      incs[2]  = {0, 0};
	char          dead[64];
	char         *uris[2];
	char         *self = NULL;
	double        t0, dt, worst = 0, worst_poll = 0, start;
	int           n = 0;

	(void)state;
	assert_int_equal(crt_self_uri_get(0, &self), 0);
	snprintf(dead, sizeof(dead), "ofi+tcp://127.0.0.1:%d", dead_port());
	uris[0] = self;
	uris[1] = dead;
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &rl, incs, uris,
						  CRT_GROUP_MOD_OP_ADD, 1), 0);
	assert_int_equal(crt_swim_init(0), 0);

	start = now_s();
	while (now_s() - start < 2.0 * SLOW) {
		struct done d = {0};

		assert_int_equal(send_note(OPC_ECHO, (uint32_t)n, &d), 0);
		t0 = now_s();
		assert_int_equal(crt_progress_cond(ctx, 20 * 1000 * 1000, one_done, &d), 0);
		dt = now_s() - t0;
		assert_int_equal(d.rc, 0);
		assert_int_equal(d.r, (uint32_t)n + 1);
		if (dt > worst)
			worst = dt;
		n++;
		/* and a poll returns at once, whatever SWIM is waiting for */
		t0 = now_s();
		crt_progress(ctx, 0);
		dt = now_s() - t0;
		if (dt > worst_poll)
			worst_poll = dt;
	}
	print_message("%d RPCs to self with SWIM pinging a dead member: slowest %.3f ms, slowest "
		      "crt_progress(ctx, 0) %.3f ms\n", n, worst * 1e3, worst_poll * 1e3);
	assert_true(n > 20);
	/* A stall lasts crt_progress_cond's whole 1 s step. Other tests share the 2 cores and
	 * delay ordinary RPCs by up to ~100 ms (several hundred under valgrind), so only half a
	 * step or more counts as the stall. */
	assert_true(worst < (RUNNING_ON_VALGRIND ? 0.99 : 0.5));
	assert_true(worst_poll < 0.15 * SLOW);
	crt_swim_fini();
	rl.rl_ranks = &ranks[1];
	rl.rl_nr    = 1;
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &rl, incs, uris,
						  CRT_GROUP_MOD_OP_REMOVE, 2), 0);
	free(self);
}

/* Progress until `cond` or 10 s. */
static void
pump_until(int (*cond)(void))
{
	double t0 = now_s();

	while (!cond()) {
		crt_progress(ctx, 1000);
		assert_true(now_s() - t0 < 10.0 * SLOW);
	}
}

static int
ep_empty(void)
{
	return crt_context_ep_empty(ctx);
}

static int
one_held(void)
{
	return nheld == 1;
}

static int
two_held(void)
{
	return nheld == 2;
}

static struct done qd;

static int
all_done(void)
{
	return qd.n == NHOLD;
}

static void
reply_held(void)
{
	int i, n = nheld;

	for (i = 0; i < n; i++) {
		struct ctx_note_out *out = crt_reply_get(held[i]);

		out->n_r = 7;
		assert_int_equal(crt_reply_send(held[i]), 0);
		crt_req_decref(held[i]);
	}
	nheld = 0;
}

static void
test_quota_rpcs(void **state)
{
	int      limit = 0;
	int      i, k;

	(void)state;
	/* SWIM's last pings (they count too) are done */
	pump_until(ep_empty);
	/* D_QUOTA_RPCS (set in main) is the contexts' default */
	assert_int_equal(crt_context_quota_limit_get(ctx, CRT_QUOTA_RPCS, &limit), 0);
	assert_int_equal(limit, 64);
	assert_int_equal(crt_context_quota_limit_set(ctx, CRT_QUOTA_COUNT, 1), -DER_INVAL);
	assert_int_equal(crt_context_quota_limit_set(ctx, CRT_QUOTA_RPCS, 2), 0);
	assert_int_equal(crt_context_quota_limit_get(ctx, CRT_QUOTA_RPCS, &limit), 0);
	assert_int_equal(limit, 2);

	memset(&qd, 0, sizeof(qd));
	nheld = max_held = narrived = 0;
	for (i = 0; i < NHOLD; i++)
		assert_int_equal(send_note(OPC_HOLD, (uint32_t)i, &qd), 0);
	/* two reach the handler; the others wait for a slot */
	for (k = 0; k < NHOLD / 2; k++) {
		pump_until(two_held);
		/* more progress lets no third one through */
		for (i = 0; i < 20; i++)
			crt_progress(ctx, 1000);
		assert_int_equal(nheld, 2);
		reply_held();
	}
	pump_until(all_done);
	assert_int_equal(max_held, 2);
	assert_int_equal(qd.rc, 0);
	for (i = 0; i < NHOLD; i++) {
		assert_int_equal(arrived[i], i); /* submitted in the order sent */
		assert_int_equal(qd.order[i], i);
	}

	/* raising the limit releases what waits */
	memset(&qd, 0, sizeof(qd));
	nheld = max_held = narrived = 0;
	assert_int_equal(crt_context_quota_limit_set(ctx, CRT_QUOTA_RPCS, 1), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(send_note(OPC_HOLD, (uint32_t)i, &qd), 0);
	for (i = 0; i < 50; i++)
		crt_progress(ctx, 1000);
	assert_int_equal(nheld, 1);
	assert_int_equal(crt_context_quota_limit_set(ctx, CRT_QUOTA_RPCS, 0), 0); /* 0: none */
	for (i = 0; i < 4; i++)
		crt_progress(ctx, 1000); /* the next completion submits the waiting ones */
	reply_held();
	{
		double t0 = now_s();

		while (qd.n < 4) {
			crt_progress(ctx, 1000);
			if (nheld > 0)
				reply_held();
			assert_true(now_s() - t0 < 10.0 * SLOW);
		}
	}
	assert_int_equal(qd.rc, 0);
	assert_true(max_held >= 1);

	/* aborting the rank cancels the waiting requests and the one in flight, and leaves no
	 * slot taken: the next request goes straight through */
	memset(&qd, 0, sizeof(qd));
	nheld = max_held = narrived = 0;
	assert_int_equal(crt_context_quota_limit_set(ctx, CRT_QUOTA_RPCS, 1), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(send_note(OPC_HOLD, (uint32_t)i, &qd), 0);
	pump_until(one_held);
	assert_int_equal(crt_rank_abort(0), 0);
	{
		double t0 = now_s();

		while (qd.n < 3) {
			crt_progress(ctx, 1000);
			assert_true(now_s() - t0 < 10.0 * SLOW);
		}
	}
	assert_int_equal(qd.rc, -DER_TIMEDOUT); /* upstream: an abort is an expired deadline */
	reply_held(); /* the server side still answers; the reply finds nobody */
	memset(&qd, 0, sizeof(qd));
	assert_int_equal(send_note(OPC_HOLD, 9, &qd), 0);
	pump_until(one_held);
	reply_held();
	while (qd.n < 1)
		crt_progress(ctx, 1000);
	assert_int_equal(qd.rc, 0);
	assert_int_equal(crt_context_quota_limit_set(ctx, CRT_QUOTA_RPCS, 0), 0);
}

static int hlc_errors;

static void
hlc_err_cb(void *arg)
{
	assert_ptr_equal(arg, &hlc_errors);
	hlc_errors++;
}

static int skewed_fd = -1; /* the skewed process reports its request's rc here */
static pid_t skewed_pid;

/* The process whose clock runs ahead: rank 2 at port_base + 10. It sends one echo to rank 0
 * (reporting the rc through `wfd`) and serves until SIGTERM. */
static volatile sig_atomic_t skewed_stop;

static void
on_term(int sig)
{
	(void)sig;
	skewed_stop = 1;
}

static int
skewed_child(int wfd)
{
	char          port[16], uri0[64];
	crt_context_t c;
	struct done   d = {0};
	int           rc, tries;

	skew_s = 30;
	signal(SIGTERM, on_term);
	alarm(60);
	snprintf(port, sizeof(port), "%d", port_base + 10);
	setenv("D_PORT", port, 1);
	if (crt_init("ctx_skewed", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0)
		return 10;
	if (crt_context_create(&c) != 0 || crt_rank_self_set(2, 1) != 0 ||
	    crt_proto_register(&cpf) != 0)
		return 11;
	snprintf(uri0, sizeof(uri0), "ofi+tcp://127.0.0.1:%d", port_base);
	if (crt_group_primary_rank_add(c, NULL, 0, uri0) != 0)
		return 12;
	ctx = c;
	/* rank 0 may not listen yet: retry while unreachable */
	for (tries = 0; tries < 100; tries++) {
		memset(&d, 0, sizeof(d));
		if (send_note_to(0, OPC_ECHO, 5, &d) != 0)
			return 13;
		while (d.n == 0 && !skewed_stop)
			crt_progress(c, 1000);
		if (d.rc != -DER_UNREACH && d.rc != -DER_HG && d.rc != -DER_TIMEDOUT)
			break;
		usleep(50 * 1000);
	}
	rc = d.rc;
	if (write(wfd, &rc, sizeof(rc)) != sizeof(rc))
		return 14;
	while (!skewed_stop)
		crt_progress(c, 1000);
	if (crt_context_destroy(c, 1) != 0)
		return 15;
	return crt_finalize() == 0 ? 0 : 16;
}

static void
test_hlc_in_header(void **state)
{
	char        uri2[64];
	struct done d = {0};
	int         rc = 0, st = 0;
	double      t0;

	(void)state;
	snprintf(uri2, sizeof(uri2), "ofi+tcp://127.0.0.1:%d", port_base + 10);
	assert_int_equal(crt_group_primary_rank_add(ctx, NULL, 2, uri2), 0);

	/* its request reaches us with a timestamp 30 s ahead: refused, handler not run */
	t0 = now_s();
	for (;;) {
		ssize_t n = read(skewed_fd, &rc, sizeof(rc));

		if (n == (ssize_t)sizeof(rc))
			break;
		assert_true(n < 0);
		crt_progress(ctx, 1000);
		assert_true(now_s() - t0 < 20.0 * SLOW);
	}
	assert_int_equal(rc, -DER_HLC_SYNC);
	assert_int_equal(echo_from_skewed, 0);
	assert_int_equal(hlc_errors, 1);

	/* our request: its reply carries its HLC, refused too (the output is still decoded) */
	assert_int_equal(send_note_to(2, OPC_ECHO, 41, &d), 0);
	t0 = now_s();
	while (d.n == 0) {
		crt_progress(ctx, 1000);
		assert_true(now_s() - t0 < 10.0 * SLOW);
	}
	assert_int_equal(d.rc, -DER_HLC_SYNC);
	assert_int_equal(d.r, 42);
	assert_string_equal(d.origin, uri2);
	assert_int_equal(hlc_errors, 1); /* one report an hour */

	/* a request of ours to ourselves is fine, and names us as its origin */
	memset(&d, 0, sizeof(d));
	origin_seen[0] = 0;
	assert_int_equal(send_note(OPC_ECHO, 1, &d), 0);
	while (d.n == 0)
		crt_progress(ctx, 1000);
	assert_int_equal(d.rc, 0);
	assert_int_equal(d.r, 2);
	assert_true(strncmp(origin_seen, "ofi+tcp://127.0.0.1:", 20) == 0);
	assert_int_equal(crt_register_hlc_error_cb(NULL, NULL), 0);

	kill(skewed_pid, SIGTERM);
	assert_int_equal(waitpid(skewed_pid, &st, 0), skewed_pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	skewed_pid = 0;
}

static void
test_noreply_and_destroy(void **state)
{
	struct done d = {0};
	crt_rpc_t  *rpc;
	crt_endpoint_t ep = {.ep_grp = NULL, .ep_rank = 0, .ep_tag = 0};
	double      t0 = now_s();

	(void)state;
	assert_int_equal(send_note(OPC_FORGET, 3, &d), 0);
	while (d.n == 0) {
		crt_progress(ctx, 1000);
		assert_true(now_s() - t0 < 10.0 * SLOW);
	}
	assert_int_equal(d.rc, -DER_NOREPLY);

	/* upstream's internal destructor: the private RPC starts with its crt_rpc_t */
	assert_int_equal(crt_req_create(ctx, &ep, OPC(OPC_ECHO), &rpc), 0);
	crt_req_destroy((struct crt_rpc_priv *)rpc);
	crt_req_destroy(NULL);
}

static int
setup(void **state)
{
	(void)state;
	char port[16];

	snprintf(port, sizeof(port), "%d", port_base);
	setenv("D_PORT", port, 1);
	if (crt_init("ctx_srv", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0)
		return -1;
	if (crt_context_create(&ctx) != 0 || crt_rank_self_set(0, 1) != 0 ||
	    crt_proto_register(&cpf) != 0)
		return -1;
	/* before anything: the skewed process's request may come at any time */
	return crt_register_hlc_error_cb(hlc_err_cb, &hlc_errors);
}

static int
teardown(void **state)
{
	(void)state;
	if (crt_context_destroy(ctx, 1) != 0)
		return -1;
	return crt_finalize();
}

int
main(void)
{
	char v[16];
	int  fds[2], rc;

	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	setenv("D_QUOTA_RPCS", "64", 1);
	snprintf(v, sizeof(v), "%d", 200 * SLOW);
	setenv("SWIM_PROTOCOL_PERIOD_LEN", v, 1);
	snprintf(v, sizeof(v), "%d", 150 * SLOW);
	setenv("SWIM_PING_TIMEOUT", v, 1);
	snprintf(v, sizeof(v), "%d", 3000 * SLOW);
	setenv("SWIM_SUSPECT_TIMEOUT", v, 1);
	port_base = 26000 + (getpid() % 15000);

	if (pipe(fds) != 0)
		return 1;
	skewed_pid = fork();
	if (skewed_pid < 0)
		return 1;
	if (skewed_pid == 0) {
		close(fds[0]);
		_exit(skewed_child(fds[1]));
	}
	close(fds[1]);
	skewed_fd = fds[0];
	fcntl(skewed_fd, F_SETFL, O_NONBLOCK);

	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_progress_with_swim),
	    cmocka_unit_test(test_quota_rpcs),
	    cmocka_unit_test(test_hlc_in_header),
	    cmocka_unit_test(test_noreply_and_destroy),
	};
	rc = cmocka_run_group_tests_name("cart_context", tests, setup, teardown);
	if (skewed_pid > 0) {
		kill(skewed_pid, SIGKILL);
		waitpid(skewed_pid, NULL, 0);
	}
	return rc;
}
