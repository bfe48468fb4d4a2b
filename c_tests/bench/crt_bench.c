/*
 * crt_bench: a self_test-like RPC benchmark for whichever libcart.so.4 the dynamic linker finds
 * (LD_LIBRARY_PATH), using only cart's public API, so one binary measures upstream's library
 * and oxidaos's side by side:
 *
 *   D_PROVIDER=ofi+tcp D_INTERFACE=lo LD_LIBRARY_PATH=... crt_bench [-t SECONDS] [-p PORT]
 *
 * It forks a server (rank 0, one context, D_PORT=PORT) and runs the client here: for message
 * sizes 0 B to 1 MiB (an iov in the request, empty reply) with 1 and 16 RPCs in flight, the
 * RPC rate and the median round-trip latency; then bulk bandwidth, 1 MiB per RPC with 16 in
 * flight, the server pulling (GET) or pushing (PUT) the client's buffer before it answers.
 * One line per case; every run is bounded by -t seconds (default 1) and an alarm.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cart/api.h>

#define BENCH_BASE 0x3b000000U
#define MAX_INFLIGHT 16
#define BULK_SIZE (1 << 20)

#define CRT_ISEQ_PING ((d_iov_t)(p_data) CRT_VAR)
#define CRT_OSEQ_PING ((uint64_t)(p_rc) CRT_VAR)
CRT_RPC_DECLARE(bping, CRT_ISEQ_PING, CRT_OSEQ_PING)
CRT_RPC_DEFINE(bping, CRT_ISEQ_PING, CRT_OSEQ_PING)

#define CRT_ISEQ_BBLK ((crt_bulk_t)(b_hdl) CRT_VAR)((uint64_t)(b_len) CRT_VAR)((uint32_t)(b_put) CRT_VAR)((uint32_t)(b_slot) CRT_VAR)
#define CRT_OSEQ_BBLK ((int64_t)(b_rc) CRT_VAR)
CRT_RPC_DECLARE(bblk, CRT_ISEQ_BBLK, CRT_OSEQ_BBLK)
CRT_RPC_DEFINE(bblk, CRT_ISEQ_BBLK, CRT_OSEQ_BBLK)

enum { OPC_PING, OPC_BULK, OPC_STOP, OPC_N };
#define OPC(i) CRT_PROTO_OPC(BENCH_BASE, 1, i)

/* ---- server ---------------------------------------------------------------------------- */
static int         srv_stop;
static crt_bulk_t  srv_bulk[MAX_INFLIGHT];
static void       *srv_buf[MAX_INFLIGHT];

static void
ping_hdlr(crt_rpc_t *rpc)
{
	((struct bping_out *)crt_reply_get(rpc))->p_rc = 0;
	crt_reply_send(rpc);
}

static int
srv_bulk_done(const struct crt_bulk_cb_info *info)
{
	crt_rpc_t *rpc = info->bci_arg;

	((struct bblk_out *)crt_reply_get(rpc))->b_rc = info->bci_rc;
	crt_reply_send(rpc);
	crt_req_decref(rpc);
	return 0;
}

static void
bulk_hdlr(crt_rpc_t *rpc)
{
	struct bblk_in      *in = crt_req_get(rpc);
	struct crt_bulk_desc d;
	int                  rc;

	if (in->b_slot >= MAX_INFLIGHT || in->b_len > BULK_SIZE) {
		((struct bblk_out *)crt_reply_get(rpc))->b_rc = -DER_INVAL;
		crt_reply_send(rpc);
		return;
	}
	crt_req_addref(rpc);
	d.bd_rpc        = rpc;
	d.bd_bulk_op    = in->b_put ? CRT_BULK_PUT : CRT_BULK_GET;
	d.bd_remote_hdl = in->b_hdl;
	d.bd_remote_off = 0;
	d.bd_local_hdl  = srv_bulk[in->b_slot];
	d.bd_local_off  = 0;
	d.bd_len        = in->b_len;
	rc              = crt_bulk_transfer(&d, srv_bulk_done, rpc, NULL);
	if (rc != 0) {
		((struct bblk_out *)crt_reply_get(rpc))->b_rc = rc;
		crt_reply_send(rpc);
		crt_req_decref(rpc);
	}
}

static void
stop_hdlr(crt_rpc_t *rpc)
{
	crt_reply_send(rpc);
	srv_stop = 1;
}

static struct crt_proto_rpc_format prf[OPC_N] = {
    {.prf_req_fmt = &CQF_bping, .prf_hdlr = ping_hdlr},
    {.prf_req_fmt = &CQF_bblk, .prf_hdlr = bulk_hdlr},
    {.prf_req_fmt = &CQF_bping, .prf_hdlr = stop_hdlr},
};
static struct crt_proto_format cpf = {
    .cpf_name = "crt_bench", .cpf_ver = 1, .cpf_count = OPC_N, .cpf_prf = prf, .cpf_base = BENCH_BASE};

static int
server(int port)
{
	crt_context_t ctx;
	char          p[16];
	int           i;

	snprintf(p, sizeof(p), "%d", port);
	setenv("D_PORT", p, 1);
	if (crt_init("bench_srv", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0 ||
	    crt_context_create(&ctx) != 0 || crt_rank_self_set(0, 1) != 0 ||
	    crt_proto_register(&cpf) != 0)
		return 2;
	for (i = 0; i < MAX_INFLIGHT; i++) {
		d_iov_t     iov;
		d_sg_list_t sgl = {.sg_nr = 1, .sg_nr_out = 0, .sg_iovs = &iov};

		srv_buf[i] = calloc(1, BULK_SIZE);
		d_iov_set(&iov, srv_buf[i], BULK_SIZE);
		if (crt_bulk_create(ctx, &sgl, CRT_BULK_RW, &srv_bulk[i]) != 0)
			return 3;
	}
	while (!srv_stop)
		crt_progress(ctx, 1000);
	for (i = 0; i < 100; i++)
		crt_progress(ctx, 1000);
	for (i = 0; i < MAX_INFLIGHT; i++) {
		crt_bulk_free(srv_bulk[i]);
		free(srv_buf[i]);
	}
	crt_context_destroy(ctx, 1);
	crt_finalize();
	return 0;
}

/* ---- client ---------------------------------------------------------------------------- */
static crt_context_t cctx;
static double        deadline;
static char         *payload;
static size_t        cur_size;
static int           cur_bulk, cur_put;
static crt_bulk_t    cli_bulk[MAX_INFLIGHT];
static long          done_n, sent_n, outstanding, errors;
static double       *lat;
static long          lat_cap;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct slot {
	int    idx;
	double t0;
};
static struct slot slots[MAX_INFLIGHT];

static void send_one(struct slot *s);

static void
done_cb(const struct crt_cb_info *info)
{
	struct slot *s = info->cci_arg;
	double       t = now_s();

	if (info->cci_rc != 0)
		errors++;
	if (done_n < lat_cap)
		lat[done_n] = (t - s->t0) * 1e6;
	done_n++;
	outstanding--;
	if (t < deadline)
		send_one(s);
}

static void
send_one(struct slot *s)
{
	crt_endpoint_t ep = {.ep_grp = NULL, .ep_rank = 0, .ep_tag = 0};
	crt_rpc_t     *rpc;

	if (crt_req_create(cctx, &ep, cur_bulk ? OPC(OPC_BULK) : OPC(OPC_PING), &rpc) != 0) {
		errors++;
		return;
	}
	if (cur_bulk) {
		struct bblk_in *in = crt_req_get(rpc);

		in->b_hdl  = cli_bulk[s->idx];
		in->b_len  = cur_size;
		in->b_put  = cur_put;
		in->b_slot = s->idx;
	} else {
		struct bping_in *in = crt_req_get(rpc);

		d_iov_set(&in->p_data, cur_size ? payload : NULL, cur_size);
	}
	s->t0 = now_s();
	outstanding++;
	sent_n++;
	crt_req_send(rpc, done_cb, s);
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
run(const char *what, size_t size, int inflight, double secs, int bulk, int put)
{
	double t0, el;
	long   n;
	int    i;

	cur_size = size;
	cur_bulk = bulk;
	cur_put  = put;
	done_n = sent_n = outstanding = errors = 0;
	/* warm up briefly, then measure */
	deadline = now_s() + 0.1;
	for (i = 0; i < inflight; i++)
		send_one(&slots[i]);
	while (outstanding > 0)
		crt_progress(cctx, 1000);
	done_n = sent_n = errors = 0;
	t0       = now_s();
	deadline = t0 + secs;
	for (i = 0; i < inflight; i++)
		send_one(&slots[i]);
	while (outstanding > 0)
		crt_progress(cctx, 1000);
	el = now_s() - t0;
	n  = done_n < lat_cap ? done_n : lat_cap;
	qsort(lat, n, sizeof(double), cmp_d);
	if (bulk)
		printf("%-5s size=%-8zu inflight=%-2d rpcs=%-7ld rate=%9.0f/s median_us=%8.1f "
		       "bw=%8.1f MB/s errors=%ld\n",
		       what, size, inflight, done_n, done_n / el, n ? lat[n / 2] : 0.0,
		       done_n * (double)size / el / 1e6, errors);
	else
		printf("%-5s size=%-8zu inflight=%-2d rpcs=%-7ld rate=%9.0f/s median_us=%8.1f "
		       "errors=%ld\n",
		       what, size, inflight, done_n, done_n / el, n ? lat[n / 2] : 0.0, errors);
	fflush(stdout);
}

static int
ready_cb(void *arg)
{
	return *(int *)arg;
}

static int ping_ok;

static void
ping_cb(const struct crt_cb_info *info)
{
	ping_ok = info->cci_rc == 0 ? 1 : -1;
}

int
main(int argc, char **argv)
{
	size_t sizes[] = {0, 64, 4096, 65536, 1 << 20};
	double secs    = 1.0;
	int    port    = 23000 + getpid() % 20000;
	int    opt, i, s, status, tries;
	pid_t  pid;
	char   uri[64];

	while ((opt = getopt(argc, argv, "t:p:")) != -1) {
		if (opt == 't')
			secs = atof(optarg);
		else if (opt == 'p')
			port = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-t SECONDS] [-p PORT]\n", argv[0]);
			return 2;
		}
	}
	if (getenv("D_PROVIDER") == NULL)
		setenv("D_PROVIDER", "ofi+tcp", 1);
	if (getenv("D_INTERFACE") == NULL)
		setenv("D_INTERFACE", "lo", 1);
	pid = fork();
	if (pid == 0) {
		alarm(60 + (unsigned)(secs * 40));
		_exit(server(port));
	}
	alarm(60 + (unsigned)(secs * 40));

	if (crt_init(NULL, 0) != 0 || crt_context_create(&cctx) != 0 ||
	    crt_proto_register(&cpf) != 0) {
		fprintf(stderr, "client init failed\n");
		kill(pid, SIGKILL);
		return 1;
	}
	snprintf(uri, sizeof(uri), "ofi+tcp://127.0.0.1:%d", port);
	crt_group_primary_rank_add(cctx, NULL, 0, uri);
	payload = malloc(1 << 20);
	memset(payload, 0x5a, 1 << 20);
	lat_cap = 4 * 1000 * 1000;
	lat     = malloc(lat_cap * sizeof(double));
	for (i = 0; i < MAX_INFLIGHT; i++) {
		d_iov_t     iov;
		d_sg_list_t sgl = {.sg_nr = 1, .sg_nr_out = 0, .sg_iovs = &iov};
		void       *b   = calloc(1, BULK_SIZE);

		slots[i].idx = i;
		d_iov_set(&iov, b, BULK_SIZE);
		if (crt_bulk_create(cctx, &sgl, CRT_BULK_RW, &cli_bulk[i]) != 0)
			return 1;
	}

	/* wait for the server */
	for (tries = 0; tries < 200 && ping_ok != 1; tries++) {
		crt_endpoint_t ep = {.ep_grp = NULL, .ep_rank = 0, .ep_tag = 0};
		crt_rpc_t     *rpc;

		ping_ok = 0;
		crt_req_create(cctx, &ep, OPC(OPC_PING), &rpc);
		crt_req_set_timeout(rpc, 1);
		crt_req_send(rpc, ping_cb, NULL);
		crt_progress_cond(cctx, 2 * 1000 * 1000, ready_cb, &ping_ok);
		if (ping_ok != 1)
			usleep(50 * 1000);
	}
	if (ping_ok != 1) {
		fprintf(stderr, "server did not answer\n");
		kill(pid, SIGKILL);
		return 1;
	}

	for (s = 0; s < (int)(sizeof(sizes) / sizeof(sizes[0])); s++) {
		run("rpc", sizes[s], 1, secs, 0, 0);
		run("rpc", sizes[s], 16, secs, 0, 0);
	}
	run("bulk", BULK_SIZE, 1, secs, 1, 0);
	run("bulk", BULK_SIZE, 16, secs, 1, 0);
	run("bulkp", BULK_SIZE, 16, secs, 1, 1);

	{
		crt_endpoint_t ep = {.ep_grp = NULL, .ep_rank = 0, .ep_tag = 0};
		crt_rpc_t     *rpc;

		ping_ok = 0;
		crt_req_create(cctx, &ep, OPC(OPC_STOP), &rpc);
		crt_req_send(rpc, ping_cb, NULL);
		crt_progress_cond(cctx, 5 * 1000 * 1000, ready_cb, &ping_ok);
	}
	waitpid(pid, &status, 0);
	for (i = 0; i < MAX_INFLIGHT; i++)
		crt_bulk_free(cli_bulk[i]);
	crt_context_destroy(cctx, 1);
	crt_finalize();
	free(payload);
	free(lat);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
