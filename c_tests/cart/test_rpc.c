/*
 * RPCs between processes on loopback (ofi+tcp on lo), through libcart's exports: two server
 * processes (ranks 0 and 1, two contexts each, D_PORT-based ports; rank 0 saves the group
 * config) and this client, which attaches through the saved config and checks in with every
 * rank:tag. Bodies declared with CRT_RPC_DECLARE/DEFINE go both ways (every crt_proc type,
 * a 1.5 MiB iov through the large-message path, 1.5 MiB bulk GET and PUT with offsets); the
 * second context hands its RPCs to a registered RPC task; one-way RPCs; protocol query; URI
 * lookup by RPC for a rank not in the cache; an opcode nobody registered (-DER_UNREG), a rank
 * nobody knows (-DER_OOG), a group the server lacks (-DER_INVAL), an RPC never answered
 * (-DER_TIMEDOUT), crt_req_abort (-DER_TIMEDOUT, as upstream), crt_ep_abort,
 * crt_rank_abort_all, a forced context destroy (-DER_TIMEDOUT, as upstream), credits per
 * endpoint; getters and reference counts. Bounded by alarm(); the servers always exit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <cart/api.h>

#define BASE 0x21000000U

#define CRT_ISEQ_ECHO ((uint64_t)(e_x) CRT_VAR)((d_string_t)(e_s) CRT_VAR)((d_iov_t)(e_iov) CRT_VAR)
#define CRT_OSEQ_ECHO                                                                              \
	((uint64_t)(e_x) CRT_VAR)((uint64_t)(e_sum) CRT_VAR)((uint32_t)(e_tag) CRT_VAR)            \
	((uint32_t)(e_src) CRT_VAR)((uint32_t)(e_via_task) CRT_VAR)((uint32_t)(e_pad) CRT_VAR)     \
	((d_string_t)(e_s) CRT_VAR)
CRT_RPC_DECLARE(echo, CRT_ISEQ_ECHO, CRT_OSEQ_ECHO)
CRT_RPC_DEFINE(echo, CRT_ISEQ_ECHO, CRT_OSEQ_ECHO)

#define CRT_ISEQ_NOTE ((uint32_t)(n_v) CRT_VAR)
#define CRT_OSEQ_NOTE ((uint32_t)(n_unused) CRT_VAR)
CRT_RPC_DECLARE(note, CRT_ISEQ_NOTE, CRT_OSEQ_NOTE)
CRT_RPC_DEFINE(note, CRT_ISEQ_NOTE, CRT_OSEQ_NOTE)

#define CRT_ISEQ_BLK ((crt_bulk_t)(b_src) CRT_VAR)((crt_bulk_t)(b_dst) CRT_VAR)((uint64_t)(b_len) CRT_VAR)
#define CRT_OSEQ_BLK ((uint64_t)(b_sum) CRT_VAR)((int32_t)(b_rc) CRT_VAR)((uint32_t)(b_pad) CRT_VAR)
CRT_RPC_DECLARE(blk, CRT_ISEQ_BLK, CRT_OSEQ_BLK)
CRT_RPC_DEFINE(blk, CRT_ISEQ_BLK, CRT_OSEQ_BLK)

/* Every crt_proc type: the server answers with what it decoded. */
#include "all_fields.h"

#define CRT_SEQ_ALL CRT_SEQ_ALL_FIELDS
CRT_RPC_DECLARE(allt, CRT_SEQ_ALL, CRT_SEQ_ALL)
CRT_RPC_DEFINE(allt, CRT_SEQ_ALL, CRT_SEQ_ALL)

enum { OPC_ECHO, OPC_NOTE, OPC_SILENT, OPC_STOP, OPC_BULK, OPC_ALL, OPC_COUNT };
#define PUT_OFF 4096
#define OPC(i) CRT_PROTO_OPC(BASE, 1, i)

static int       stop;
static int       notes;
static int       in_task;
static crt_rpc_t *held[16];
static int       nheld;

static void
echo_hdlr(crt_rpc_t *rpc)
{
	struct echo_in  *in  = crt_req_get(rpc);
	struct echo_out *out = crt_reply_get(rpc);
	d_rank_t         src = 7;
	uint32_t         tag = 99;
	uint64_t         sum = 0;
	size_t           i;

	assert_int_equal(crt_req_src_rank_get(rpc, &src), 0);
	assert_int_equal(crt_req_dst_tag_get(rpc, &tag), 0);
	for (i = 0; i < in->e_iov.iov_len; i++)
		sum += ((unsigned char *)in->e_iov.iov_buf)[i];
	out->e_x        = in->e_x + 1;
	out->e_tag      = tag;
	out->e_src      = src;
	out->e_via_task = in_task;
	out->e_sum      = sum;
	out->e_s        = in->e_s; /* echoed back */
	assert_int_equal(crt_reply_send(rpc), 0);
	assert_int_equal(crt_reply_send(rpc), -DER_BUSY); /* the reply is still on its way */
}

static void
note_hdlr(crt_rpc_t *rpc)
{
	struct note_in *in = crt_req_get(rpc);

	notes += in->n_v;
}

static void
silent_hdlr(crt_rpc_t *rpc)
{
	/* never answered: kept until the server stops */
	crt_req_addref(rpc);
	if (nheld < 16)
		held[nheld++] = rpc;
	else
		crt_req_decref(rpc);
}

static void
stop_hdlr(crt_rpc_t *rpc)
{
	struct note_out *out = crt_reply_get(rpc);

	out->n_unused = (uint32_t)notes;
	assert_int_equal(crt_reply_send(rpc), 0);
	stop = 1;
}

/* Server side of OPC_BULK: GET the client's data, sum it, PUT a pattern back at PUT_OFF. */
struct blk_job {
	crt_rpc_t *rpc;
	crt_bulk_t local;
	void      *buf; /* the local bulk's memory */
};

static void
blk_job_free(struct blk_job *job)
{
	crt_bulk_free(job->local);
	free(job->buf);
	free(job);
}

static int
put_done(const struct crt_bulk_cb_info *info)
{
	struct blk_job *job = info->bci_arg;
	struct blk_out *out = crt_reply_get(job->rpc);

	if (info->bci_rc != 0)
		out->b_rc = info->bci_rc;
	crt_reply_send(job->rpc);
	crt_req_decref(job->rpc);
	blk_job_free(job);
	return 0;
}

static int
get_done(const struct crt_bulk_cb_info *info)
{
	struct blk_job      *job = info->bci_arg;
	struct blk_in       *in  = crt_req_get(job->rpc);
	struct blk_out      *out = crt_reply_get(job->rpc);
	d_iov_t              iov;
	d_sg_list_t          sgl = {.sg_nr = 1, .sg_nr_out = 0, .sg_iovs = &iov};
	struct crt_bulk_desc d;
	unsigned char       *p;
	uint64_t             i, sum = 0;
	int                  rc;

	out->b_rc = info->bci_rc;
	rc        = crt_bulk_access(job->local, &sgl);
	if (info->bci_rc != 0 || rc != 0) {
		out->b_rc = info->bci_rc ? info->bci_rc : rc;
		crt_reply_send(job->rpc);
		crt_req_decref(job->rpc);
		blk_job_free(job);
		return 0;
	}
	p = iov.iov_buf;
	for (i = 0; i < in->b_len; i++)
		sum += p[i];
	out->b_sum = sum;
	for (i = 0; i < in->b_len; i++)
		p[i] = (unsigned char)(i * 3);
	d.bd_rpc        = job->rpc;
	d.bd_bulk_op    = CRT_BULK_PUT;
	d.bd_remote_hdl = in->b_dst;
	d.bd_remote_off = PUT_OFF;
	d.bd_local_hdl  = job->local;
	d.bd_local_off  = 0;
	d.bd_len        = in->b_len - PUT_OFF;
	rc              = crt_bulk_transfer(&d, put_done, job, NULL);
	if (rc != 0) {
		out->b_rc = rc;
		crt_reply_send(job->rpc);
		crt_req_decref(job->rpc);
		blk_job_free(job);
	}
	return 0;
}

static void
bulk_hdlr(crt_rpc_t *rpc)
{
	struct blk_in       *in  = crt_req_get(rpc);
	struct blk_out      *out = crt_reply_get(rpc);
	struct blk_job      *job = calloc(1, sizeof(*job));
	d_iov_t              iov = {.iov_buf = NULL, .iov_buf_len = in->b_len, .iov_len = in->b_len};
	d_iov_t              none = {.iov_buf = NULL, .iov_buf_len = in->b_len, .iov_len = 0};
	d_sg_list_t          nsgl = {.sg_nr = 1, .sg_nr_out = 0, .sg_iovs = &none};
	d_sg_list_t          sgl = {.sg_nr = 1, .sg_nr_out = 0, .sg_iovs = &iov};
	struct crt_bulk_desc d;
	size_t               len = 0;
	int                  rc;

	rc = crt_bulk_get_len(in->b_src, &len);
	if (rc == 0 && len != in->b_len)
		rc = -DER_MISC;
	/* cart does not allocate a bulk's memory: a NULL segment is refused */
	if (rc == 0 && crt_bulk_create(rpc->cr_ctx, &nsgl, CRT_BULK_RW, &job->local) != -DER_INVAL)
		rc = -DER_MISC;
	if (rc == 0) {
		job->buf = malloc(in->b_len);
		iov.iov_buf = job->buf;
		rc = job->buf == NULL ? -DER_NOMEM : crt_bulk_create(rpc->cr_ctx, &sgl, CRT_BULK_RW, &job->local);
	}
	if (rc != 0) {
		out->b_rc = rc;
		crt_reply_send(rpc);
		free(job->buf);
		free(job);
		return;
	}
	crt_req_addref(rpc);
	job->rpc        = rpc;
	d.bd_rpc        = rpc;
	d.bd_bulk_op    = CRT_BULK_GET;
	d.bd_remote_hdl = in->b_src;
	d.bd_remote_off = 0;
	d.bd_local_hdl  = job->local;
	d.bd_local_off  = 0;
	d.bd_len        = in->b_len;
	rc              = crt_bulk_transfer(&d, get_done, job, NULL);
	if (rc != 0) {
		out->b_rc = rc;
		crt_reply_send(rpc);
		crt_req_decref(rpc);
		blk_job_free(job);
	}
}

static void
all_hdlr(crt_rpc_t *rpc)
{
	struct allt_in  *in  = crt_req_get(rpc);
	struct allt_out *out = crt_reply_get(rpc);

	/* same layout both ways: the decoded input goes back as the output */
	memcpy(out, in, sizeof(*out));
	crt_reply_send(rpc);
}

static struct crt_proto_rpc_format prf[OPC_COUNT] = {
    {.prf_req_fmt = &CQF_echo, .prf_hdlr = echo_hdlr},
    {.prf_req_fmt = &CQF_note, .prf_hdlr = note_hdlr, .prf_flags = CRT_RPC_FEAT_NO_REPLY},
    {.prf_req_fmt = &CQF_note, .prf_hdlr = silent_hdlr},
    {.prf_req_fmt = &CQF_note, .prf_hdlr = stop_hdlr},
    {.prf_req_fmt = &CQF_blk, .prf_hdlr = bulk_hdlr},
    {.prf_req_fmt = &CQF_allt, .prf_hdlr = all_hdlr},
};
static struct crt_proto_format cpf = {
    .cpf_name = "rpc_test", .cpf_ver = 1, .cpf_count = OPC_COUNT, .cpf_prf = prf, .cpf_base = BASE};

/* The engine's way: context 1's RPCs go through a task callback, run here at once. */
static int
rpc_task(crt_context_t *ctx, void *hdlr_arg, void (*hdlr)(void *), void *arg)
{
	(void)ctx;
	if (arg != &in_task)
		return -DER_INVAL;
	in_task = 1;
	hdlr(hdlr_arg);
	in_task = 0;
	return 0;
}

static int  port_base;
static char attach_dir[] = "/tmp/cart_test_rpc.XXXXXX";

/* Server rank `me` (0 or 1): two contexts at D_PORT = port_base + 10 * me. */
static int
server(int me)
{
	crt_context_t ctx[2];
	char          port[16];
	int           i;

	snprintf(port, sizeof(port), "%d", port_base + 10 * me);
	setenv("D_PORT", port, 1);
	if (crt_init("rpc_srv", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0)
		return 10;
	if (crt_context_create(&ctx[0]) != 0 || crt_context_create(&ctx[1]) != 0)
		return 11;
	if (crt_context_register_rpc_task(ctx[1], rpc_task, NULL, &in_task) != 0)
		return 12;
	if (crt_rank_self_set(me, 1) != 0 || crt_proto_register(&cpf) != 0)
		return 13;
	if (me == 0) {
		char other[64];

		/* publish the group for clients (CRT_ATTACH_INFO_PATH): only rank 0 so far */
		if (crt_group_config_save(NULL, true) != 0)
			return 16;
		/* the other server rank, known here only: clients learn it by URI lookup */
		snprintf(other, sizeof(other), "ofi+tcp://127.0.0.1:%d", port_base + 10);
		if (crt_group_primary_rank_add(ctx[0], NULL, 1, other) != 0)
			return 19;
	}
	while (!stop) {
		crt_progress(ctx[0], 1000);
		crt_progress(ctx[1], 1000);
	}
	/* let the last reply leave */
	for (i = 0; i < 50; i++) {
		crt_progress(ctx[0], 1000);
		crt_progress(ctx[1], 1000);
	}
	for (i = 0; i < nheld; i++)
		crt_req_decref(held[i]);
	if (me == 0 && crt_group_config_remove(NULL) != 0)
		return 17;
	if (crt_context_destroy(ctx[0], 1) != 0 || crt_context_destroy(ctx[1], 1) != 0)
		return 14;
	return crt_finalize() == 0 ? 0 : 15;
}

struct result {
	int              done;
	int              rc;
	struct echo_out  out;
	char             s[64];
};

static void
done_cb(const struct crt_cb_info *info)
{
	struct result *r = info->cci_arg;

	r->rc = info->cci_rc;
	if (info->cci_rc == 0 && crt_reply_get(info->cci_rpc) != NULL &&
	    info->cci_rpc->cr_opc == OPC(OPC_ECHO)) {
		r->out = *(struct echo_out *)crt_reply_get(info->cci_rpc);
		if (r->out.e_s != NULL)
			snprintf(r->s, sizeof(r->s), "%s", r->out.e_s);
		r->out.e_s = NULL; /* freed with the RPC */
	}
	r->done = 1;
}

static int
is_done(void *arg)
{
	return ((struct result *)arg)->done;
}

static crt_context_t cctx;
static crt_group_t  *srv_grp; /* attached through the server's saved config */
static d_rank_t      echo_rank; /* where echo_to() goes */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct pq_result {
	int done;
	int ver;
	int rc;
};

static void
pq_cb(struct crt_proto_query_cb_info *info)
{
	struct pq_result *r = info->pq_arg;

	r->ver  = info->pq_ver;
	r->rc   = info->pq_rc;
	r->done = 1;
}

static int
pq_done(void *arg)
{
	return ((struct pq_result *)arg)->done;
}

static void
wait_result_at(struct result *r, int line)
{
	if (crt_progress_cond(cctx, 20 * 1000 * 1000, is_done, r) != 0)
		fail_msg("no completion in 20 s for the RPC of line %d", line);
}
#define wait_result(r) wait_result_at(r, __LINE__)

static void
echo_to(uint32_t tag, size_t iov_len, struct result *r)
{
	crt_endpoint_t  ep = {.ep_grp = srv_grp, .ep_rank = echo_rank, .ep_tag = tag};
	crt_rpc_t      *rpc;
	struct echo_in *in;
	unsigned char  *buf = malloc(iov_len ? iov_len : 1);
	size_t          i;
	uint32_t        t;
	d_rank_t        rk;

	for (i = 0; i < iov_len; i++)
		buf[i] = (unsigned char)(i * 7);
	memset(r, 0, sizeof(*r));
	assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_ECHO), &rpc), 0);
	/* the request header's destination is filled when the request is encoded: 0 before */
	t = 99;
	assert_int_equal(crt_req_dst_tag_get(rpc, &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(crt_req_dst_rank_get(rpc, &rk), 0);
	assert_int_equal(rk, 0);
	assert_int_equal(crt_req_get_proto_ver(rpc), 1);
	in        = crt_req_get(rpc);
	in->e_x   = 41 + tag;
	in->e_s   = "hello over the wire";
	d_iov_set(&in->e_iov, buf, iov_len);
	crt_req_addref(rpc); /* kept past the completion, for the header */
	assert_int_equal(crt_req_send(rpc, done_cb, r), 0);
	wait_result(r);
	assert_int_equal(crt_req_dst_tag_get(rpc, &t), 0);
	assert_int_equal(t, tag);
	assert_int_equal(crt_req_dst_rank_get(rpc, &rk), 0);
	assert_int_equal(rk, echo_rank);
	crt_req_decref(rpc);
	free(buf);
}

static void
test_rpcs(void **state)
{
	crt_endpoint_t ep = {.ep_grp = NULL, .ep_rank = 0, .ep_tag = 0};
	struct result  r;
	crt_rpc_t     *rpc;
	struct note_in *nin;
	char           uri[64];
	pid_t          pid, pid1;
	int            status, i;
	uint64_t       sum;
	uint32_t       t;
	d_rank_t       rank;

	(void)state;
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	assert_non_null(mkdtemp(attach_dir));
	setenv("CRT_ATTACH_INFO_PATH", attach_dir, 1);
	port_base = 22000 + (getpid() % 20000);
	pid       = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(60);
		_exit(server(0));
	}
	pid1 = fork();
	assert_true(pid1 >= 0);
	if (pid1 == 0) {
		alarm(60);
		_exit(server(1));
	}
	alarm(90);

	setenv("CRT_CREDIT_EP_CTX", "2", 1); /* two RPCs in flight per rank:tag */
	assert_int_equal(crt_init(NULL, 0), 0);
	unsetenv("CRT_CREDIT_EP_CTX");
	assert_int_equal(crt_context_create(&cctx), 0);
	assert_int_equal(crt_proto_register(&cpf), 0);
	snprintf(uri, sizeof(uri), "ofi+tcp://127.0.0.1:%d", port_base);
	assert_int_equal(crt_group_primary_rank_add(cctx, NULL, 0, uri), 0);
	/* attach to the server's group once it has saved its config */
	assert_int_equal(crt_group_attach("no_such_grp", &srv_grp), -DER_NONEXIST);
	for (i = 0; i < 200; i++) {
		if (crt_group_attach("rpc_srv", &srv_grp) == 0)
			break;
		usleep(50 * 1000);
	}
	assert_non_null(srv_grp);
	assert_string_equal(srv_grp->cg_grpid, "rpc_srv");
	{
		uint32_t gsize = 0;

		assert_int_equal(crt_group_size(srv_grp, &gsize), 0);
		assert_int_equal(gsize, 1); /* rank 0 only: rank 1 was added after the save */
	}
	assert_int_equal(crt_group_rank(NULL, &rank), -DER_NONEXIST); /* a client: no rank */
	assert_int_equal(rank, CRT_NO_RANK);

	/* the server may still be starting: retry the first RPC until it answers */
	for (i = 0; i < 100; i++) {
		echo_to(0, 16, &r);
		if (r.rc == 0)
			break;
		usleep(50 * 1000);
	}
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.out.e_x, 42);
	assert_int_equal(r.out.e_tag, 0);
	assert_int_equal(r.out.e_src, CRT_NO_RANK);
	assert_int_equal(r.out.e_via_task, 0);
	assert_string_equal(r.s, "hello over the wire");

	/* check in with every rank:tag of the server group (rank 1 may still be starting);
	 * rank 1's address comes from rank 0 by URI lookup */
	{
		d_rank_t rk;
		uint32_t tg;
		char    *luri = NULL, want[64];

		assert_int_equal(crt_rank_uri_get(srv_grp, 1, 0, &luri), -DER_OOG);

		for (rk = 0; rk < 2; rk++) {
			for (tg = 0; tg < 2; tg++) {
				echo_rank = rk;
				for (i = 0; i < 100; i++) {
					echo_to(tg, 8, &r);
					if (r.rc == 0)
						break;
					usleep(50 * 1000);
				}
				assert_int_equal(r.rc, 0);
				assert_int_equal(r.out.e_tag, tg);
				assert_int_equal(r.out.e_via_task, tg == 1);
			}
		}
		echo_rank = 0;
		assert_int_equal(crt_rank_uri_get(srv_grp, 1, 0, &luri), 0); /* now cached */
		snprintf(want, sizeof(want), "ofi+tcp://127.0.0.1:%d", port_base + 10);
		assert_string_equal(luri, want);
		free(luri);
	}

	/* protocol query: the highest version both sides know */
	{
		uint32_t         vers[] = {3, 1, 2};
		uint32_t         none[] = {5};
		struct pq_result q      = {0};

		assert_int_equal(crt_proto_query(&ep, BASE, NULL, 1, 0, pq_cb, &q), -DER_INVAL);
		assert_int_equal(crt_proto_query(&ep, BASE, vers, 3, 5, pq_cb, &q), 0);
		assert_int_equal(crt_progress_cond(cctx, 20 * 1000 * 1000, pq_done, &q), 0);
		assert_int_equal(q.rc, 0);
		assert_int_equal(q.ver, 1);
		memset(&q, 0, sizeof(q));
		ep.ep_tag = 1;
		assert_int_equal(crt_proto_query_with_ctx(&ep, BASE, none, 1, 0, pq_cb, &q, cctx), 0);
		assert_int_equal(crt_progress_cond(cctx, 20 * 1000 * 1000, pq_done, &q), 0);
		assert_int_equal(q.rc, -DER_UNREG); /* BASE is registered, version 5 is not */
		ep.ep_tag = 0;
	}

	/* URI lookups the server cannot answer: a rank of the client's own (default-named) group,
	 * a group the server does not have (-DER_INVAL); a rank nobody knows (-DER_OOG) */
	{
		crt_endpoint_t  lep = {.ep_grp = NULL, .ep_rank = 3, .ep_tag = 0};
		char           *luri = NULL;

		assert_int_equal(crt_rank_uri_get(NULL, 3, 0, &luri), -DER_OOG);
		memset(&r, 0, sizeof(r));
		assert_int_equal(crt_req_create(cctx, &lep, OPC(OPC_ECHO), &rpc), 0);
		assert_int_equal(crt_req_send(rpc, done_cb, &r), 0);
		wait_result(&r);
		assert_int_equal(r.rc, -DER_INVAL);
		assert_int_equal(crt_rank_uri_get(NULL, 3, 0, &luri), -DER_OOG);

		memset(&r, 0, sizeof(r));
		lep.ep_grp  = srv_grp;
		lep.ep_rank = 4;
		assert_int_equal(crt_req_create(cctx, &lep, OPC(OPC_ECHO), &rpc), 0);
		assert_int_equal(crt_req_send(rpc, done_cb, &r), 0);
		wait_result(&r);
		assert_int_equal(r.rc, -DER_OOG);
	}

	/* context 1 (port + 1) through the RPC task, with a 1.5 MiB iov */
	echo_to(1, 1536 * 1024, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.out.e_x, 43);
	assert_int_equal(r.out.e_tag, 1);
	assert_int_equal(r.out.e_via_task, 1);
	for (sum = 0, i = 0; i < 1536 * 1024; i++)
		sum += (unsigned char)(i * 7);
	assert_int_equal(r.out.e_sum, sum);

	/* bulk both ways: 1.5 MiB pulled from two segments, pushed back at an offset */
	{
		size_t           len = 1536 * 1024, half = 512 * 1024, got = 0;
		unsigned char   *src = malloc(len), *dst = calloc(1, len);
		d_iov_t          siov[2], diov, aiov[2];
		d_sg_list_t      ssgl = {.sg_nr = 2, .sg_nr_out = 0, .sg_iovs = siov};
		d_sg_list_t      dsgl = {.sg_nr = 1, .sg_nr_out = 0, .sg_iovs = &diov};
		d_sg_list_t      asgl = {.sg_nr = 1, .sg_nr_out = 0, .sg_iovs = aiov};
		crt_bulk_t       sb, db;
		unsigned int     nseg = 0;
		struct blk_in   *bin;
		struct blk_out  *bout;
		struct result    br;
		uint64_t         want = 0;
		size_t           k;

		for (k = 0; k < len; k++) {
			src[k] = (unsigned char)(k * 5);
			want += src[k];
		}
		d_iov_set(&siov[0], src, half);
		d_iov_set(&siov[1], src + half, len - half);
		d_iov_set(&diov, dst, len);
		assert_int_equal(crt_bulk_create(cctx, &ssgl, CRT_BULK_RO, &sb), 0);
		assert_int_equal(crt_bulk_create(cctx, &dsgl, CRT_BULK_RW, &db), 0);
		assert_int_equal(crt_bulk_create(cctx, &dsgl, (crt_bulk_perm_t)0x77, &db), -DER_INVAL);
		assert_int_equal(crt_bulk_create(NULL, &dsgl, CRT_BULK_RW, &db), -DER_INVAL);
		diov.iov_buf_len = 0; /* an empty segment */
		assert_int_equal(crt_bulk_create(cctx, &dsgl, CRT_BULK_RW, &db), -DER_INVAL);
		diov.iov_buf_len = len;
		assert_int_equal(crt_bulk_get_len(sb, &got), 0);
		assert_int_equal(got, len);
		assert_int_equal(crt_bulk_get_sgnum(sb, &nseg), 0);
		assert_int_equal(nseg, 2);
		assert_int_equal(crt_bulk_access(sb, &asgl), -DER_TRUNC);
		assert_int_equal(asgl.sg_nr_out, 2);
		asgl.sg_nr = 2;
		assert_int_equal(crt_bulk_access(sb, &asgl), 0);
		assert_ptr_equal(aiov[1].iov_buf, src + half);
		assert_int_equal(aiov[1].iov_len, len - half);

		memset(&br, 0, sizeof(br));
		assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_BULK), &rpc), 0);
		bin        = crt_req_get(rpc);
		bin->b_src = sb;
		bin->b_dst = db;
		bin->b_len = len;
		crt_req_addref(rpc);
		assert_int_equal(crt_req_send(rpc, done_cb, &br), 0);
		wait_result(&br);
		assert_int_equal(br.rc, 0);
		bout = crt_reply_get(rpc);
		assert_int_equal(bout->b_rc, 0);
		assert_int_equal(bout->b_sum, want);
		crt_req_decref(rpc);
		for (k = 0; k < PUT_OFF; k++)
			assert_int_equal(dst[k], 0);
		for (k = 0; k < len - PUT_OFF; k++)
			if (dst[PUT_OFF + k] != (unsigned char)(k * 3))
				fail_msg("PUT byte %zu: %u", k, dst[PUT_OFF + k]);
		assert_int_equal(crt_bulk_free(sb), 0);
		assert_int_equal(crt_bulk_free(db), 0);
		assert_int_equal(crt_bulk_free(NULL), -DER_INVAL);
		free(src);
		free(dst);
	}

	/* every crt_proc type across the wire and back */
	{
		static char      sg0[] = "abc", sg1[] = "defgh", iovd[] = "0123456789";
		d_iov_t          sgiov[2];
		d_rank_t         rk[] = {3, 1, 0xfffffffe};
		uint32_t         arr[] = {10, 20, 30, 40};
		struct ox_point       pts[2] = {{1, 2, 3}, {4, 5, 6}};
		d_rank_list_t    rl = {.rl_ranks = rk, .rl_nr = 3};
		struct allt_in  *ai;
		struct allt_out *ao;
		struct result    ar;
		crt_bulk_t       hb;
		d_iov_t          hiov;
		d_sg_list_t      hsgl = {.sg_nr = 1, .sg_nr_out = 0, .sg_iovs = &hiov};
		char             hbuf[300];
		size_t           blen = 0;
		int              k;

		d_iov_set(&hiov, hbuf, sizeof(hbuf));
		assert_int_equal(crt_bulk_create(cctx, &hsgl, CRT_BULK_RO, &hb), 0);
		assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_ALL), &rpc), 0);
		ai        = crt_req_get(rpc);
		ai->a_u64 = 0x0102030405060708ULL;
		ai->a_i64 = -5;
		ai->a_i32 = -70000;
		ai->a_u32 = 0xdeadbeef;
		ai->a_i16 = -300;
		ai->a_u16 = 65000;
		ai->a_i8  = -7;
		ai->a_u8  = 250;
		ai->a_b   = true;
		ai->a_b2  = false;
		for (k = 0; k < 16; k++)
			ai->a_uuid[k] = (unsigned char)(k * 17);
		ai->a_str  = "hello, cart";
		ai->a_cstr = "const";
		d_iov_set(&ai->a_iov, iovd, 4);
		ai->a_iov.iov_buf_len = 10;
		d_iov_set(&sgiov[0], sg0, 3);
		d_iov_set(&sgiov[1], sg1, 5);
		ai->a_sgl.sg_nr     = 2;
		ai->a_sgl.sg_nr_out = 1;
		ai->a_sgl.sg_iovs   = sgiov;
		ai->a_ranks         = &rl;
		ai->a_bulk          = hb;
		ai->a_arr.ca_count  = 4;
		ai->a_arr.ca_arrays = arr;
		ai->a_pts.ca_count  = 2;
		ai->a_pts.ca_arrays = pts;
		ai->a_pt            = (struct ox_point){7, 8, 9};
		ai->a_raw           = 0x1122334455667788ULL;
		ai->a_grp           = "grp";
		ai->a_rank          = 42;
		ai->a_st            = -1003;
		ai->a_int           = 123456;
		memset(&ar, 0, sizeof(ar));
		crt_req_addref(rpc);
		assert_int_equal(crt_req_send(rpc, done_cb, &ar), 0);
		wait_result(&ar);
		assert_int_equal(ar.rc, 0);
		ao = crt_reply_get(rpc);
		assert_int_equal(ao->a_u64, 0x0102030405060708ULL);
		assert_int_equal(ao->a_i64, -5);
		assert_int_equal(ao->a_i32, -70000);
		assert_int_equal(ao->a_u32, 0xdeadbeef);
		assert_int_equal(ao->a_i16, -300);
		assert_int_equal(ao->a_u16, 65000);
		assert_int_equal(ao->a_i8, -7);
		assert_int_equal(ao->a_u8, 250);
		assert_true(ao->a_b);
		assert_false(ao->a_b2);
		for (k = 0; k < 16; k++)
			assert_int_equal(ao->a_uuid[k], (unsigned char)(k * 17));
		assert_string_equal(ao->a_str, "hello, cart");
		assert_string_equal(ao->a_cstr, "const");
		assert_int_equal(ao->a_iov.iov_len, 4);
		assert_int_equal(ao->a_iov.iov_buf_len, 10);
		assert_memory_equal(ao->a_iov.iov_buf, "0123", 4);
		assert_int_equal(ao->a_sgl.sg_nr, 2);
		assert_int_equal(ao->a_sgl.sg_nr_out, 1);
		assert_memory_equal(ao->a_sgl.sg_iovs[1].iov_buf, "defgh", 5);
		assert_int_equal(ao->a_ranks->rl_nr, 3);
		assert_int_equal(ao->a_ranks->rl_ranks[2], 0xfffffffe);
		assert_non_null(ao->a_bulk);
		assert_int_equal(crt_bulk_get_len(ao->a_bulk, &blen), 0);
		assert_int_equal(blen, sizeof(hbuf));
		assert_int_equal(ao->a_arr.ca_count, 4);
		assert_int_equal(ao->a_arr.ca_arrays[3], 40);
		assert_int_equal(ao->a_pts.ca_count, 2);
		assert_int_equal(ao->a_pts.ca_arrays[1].pt_z, 6);
		assert_int_equal(ao->a_pt.pt_x, 7);
		assert_int_equal(ao->a_pt.pt_z, 9);
		assert_int_equal(ao->a_raw, 0x1122334455667788ULL);
		assert_string_equal(ao->a_grp, "grp");
		assert_int_equal(ao->a_rank, 42);
		assert_int_equal(ao->a_st, -1003);
		assert_int_equal(ao->a_int, 123456);
		crt_req_decref(rpc); /* frees the decoded output */
		assert_int_equal(crt_bulk_free(hb), 0);
	}

	/* one-way notes */
	for (i = 0; i < 3; i++) {
		memset(&r, 0, sizeof(r));
		assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_NOTE), &rpc), 0);
		nin      = crt_req_get(rpc);
		nin->n_v = 10;
		assert_int_equal(crt_req_send(rpc, done_cb, &r), 0);
		wait_result(&r);
		assert_int_equal(r.rc, 0);
	}

	/* a rank outside the group */
	memset(&r, 0, sizeof(r));
	ep.ep_grp  = srv_grp;
	ep.ep_rank = 5;
	assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_ECHO), &rpc), 0);
	assert_int_equal(crt_req_send(rpc, done_cb, &r), 0);
	wait_result(&r); /* after asking rank 0, which does not know it either */
	assert_int_equal(r.rc, -DER_OOG);
	ep.ep_grp  = NULL;
	ep.ep_rank = 0;

	/* an opcode nobody registered */
	assert_int_equal(crt_req_create(cctx, &ep, CRT_PROTO_OPC(BASE, 2, 0), &rpc), -DER_UNREG);

	/* never answered: times out */
	memset(&r, 0, sizeof(r));
	assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_SILENT), &rpc), 0);
	assert_int_equal(crt_req_set_timeout(rpc, 0), -DER_INVAL);
	assert_int_equal(crt_req_set_timeout(rpc, 1), 0);
	assert_int_equal(crt_req_get_timeout(rpc, &t), 0);
	assert_int_equal(t, 1);
	assert_int_equal(crt_req_send(rpc, done_cb, &r), 0);
	wait_result(&r);
	assert_int_equal(r.rc, -DER_TIMEDOUT);

	/* aborted: ends as if timed out (upstream's abort moves the deadline to now); the extra
	 * reference keeps the RPC for the abort; aborting it again once done: nothing, 0 */
	memset(&r, 0, sizeof(r));
	assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_SILENT), &rpc), 0);
	crt_req_addref(rpc);
	assert_int_equal(crt_req_send(rpc, done_cb, &r), 0);
	crt_progress(cctx, 10 * 1000);
	assert_int_equal(crt_req_abort(rpc), 0);
	wait_result(&r);
	assert_int_equal(r.rc, -DER_TIMEDOUT);
	assert_int_equal(crt_req_abort(rpc), 0);
	crt_req_decref(rpc);

	/* crt_ep_abort cancels every RPC to the rank (both tags); crt_rank_abort_all the rest */
	{
		struct result a[3];

		memset(a, 0, sizeof(a));
		for (i = 0; i < 3; i++) {
			ep.ep_tag = i == 1;
			assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_SILENT), &rpc), 0);
			assert_int_equal(crt_req_send(rpc, done_cb, &a[i]), 0);
		}
		ep.ep_tag = 0;
		crt_progress(cctx, 10 * 1000);
		assert_int_equal(crt_rank_abort(7), 0); /* nothing in flight there */
		assert_int_equal(crt_ep_abort(NULL), -DER_INVAL);
		assert_int_equal(crt_ep_abort(&ep), 0);
		for (i = 0; i < 3; i++) {
			wait_result(&a[i]);
			assert_int_equal(a[i].rc, -DER_TIMEDOUT);
		}
		memset(a, 0, sizeof(a));
		assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_SILENT), &rpc), 0);
		assert_int_equal(crt_req_send(rpc, done_cb, &a[0]), 0);
		crt_progress(cctx, 10 * 1000);
		assert_int_equal(crt_rank_abort_all(NULL), 0);
		wait_result(&a[0]);
		assert_int_equal(a[0].rc, -DER_TIMEDOUT);
	}

	/* credits: with 2 per endpoint, the 3rd and 4th wait, then time out a period later */
	{
		struct result a[4];
		double        t0 = now_s(), at[4] = {0};
		int           left = 4;

		memset(a, 0, sizeof(a));
		for (i = 0; i < 4; i++) {
			assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_SILENT), &rpc), 0);
			assert_int_equal(crt_req_set_timeout(rpc, 1), 0);
			assert_int_equal(crt_req_send(rpc, done_cb, &a[i]), 0);
		}
		while (left > 0 && now_s() - t0 < 20) {
			crt_progress(cctx, 10 * 1000);
			for (i = 0, left = 0; i < 4; i++) {
				if (a[i].done && a[i].done++ == 1)
					at[i] = now_s() - t0;
				left += !a[i].done;
			}
		}
		assert_int_equal(left, 0);
		for (i = 0; i < 4; i++)
			assert_int_equal(a[i].rc, -DER_TIMEDOUT);
		assert_true(at[0] < 1.8 && at[1] < 1.8);
		assert_true(at[2] > 1.8 && at[3] > 1.8);
	}

	/* a forced destroy cancels what is still in flight, callbacks included */
	{
		crt_context_t ctx2;
		struct result a;

		memset(&a, 0, sizeof(a));
		assert_int_equal(crt_context_create(&ctx2), 0);
		assert_int_equal(crt_req_create(ctx2, &ep, OPC(OPC_SILENT), &rpc), 0);
		assert_int_equal(crt_req_send(rpc, done_cb, &a), 0);
		crt_progress(ctx2, 10 * 1000);
		assert_int_equal(crt_context_destroy(ctx2, 1), 0);
		assert_int_equal(a.done, 1);
		assert_int_equal(a.rc, -DER_TIMEDOUT);
	}

	/* a client RPC's request header: source rank 0 until it is sent; its own timeout */
	assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_ECHO), &rpc), 0);
	rank = 7;
	assert_int_equal(crt_req_src_rank_get(rpc, &rank), 0);
	assert_int_equal(rank, 0);
	assert_int_equal(crt_req_src_rank_get(rpc, NULL), -DER_INVAL);
	assert_int_equal(crt_req_src_rank_get(NULL, &rank), -DER_INVAL);
	assert_int_equal(crt_reply_send(rpc), -DER_INVAL);
	assert_int_equal(crt_req_set_timeout(rpc, 9), 0);
	assert_int_equal(crt_req_src_timeout_get(rpc, &t), 0);
	assert_int_equal(t, 9);
	crt_req_decref(rpc);

	/* A client whose own group carries the server group's name (upstream's iv_client
	 * does this): RPCs to the attached group still go to the servers. */
	assert_int_equal(crt_group_detach(srv_grp), 0);
	assert_int_equal(crt_context_destroy(cctx, 0), 0);
	assert_int_equal(crt_finalize(), 0);
	srv_grp = NULL;
	assert_int_equal(crt_init("rpc_srv", 0), 0);
	assert_int_equal(crt_context_create(&cctx), 0);
	assert_int_equal(crt_proto_register(&cpf), 0);
	assert_int_equal(crt_group_attach("rpc_srv", &srv_grp), 0);
	echo_rank = 0;
	echo_to(0, 16, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.out.e_x, 42);
	ep.ep_grp = srv_grp;

	/* stop rank 1 (through the attached group), then rank 0 */
	{
		crt_endpoint_t sep = {.ep_grp = srv_grp, .ep_rank = 1, .ep_tag = 0};

		memset(&r, 0, sizeof(r));
		assert_int_equal(crt_req_create(cctx, &sep, OPC(OPC_STOP), &rpc), 0);
		assert_int_equal(crt_req_send(rpc, done_cb, &r), 0);
		wait_result(&r);
		assert_int_equal(r.rc, 0);
		assert_int_equal(waitpid(pid1, &status, 0), pid1);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	memset(&r, 0, sizeof(r));
	assert_int_equal(crt_req_create(cctx, &ep, OPC(OPC_STOP), &rpc), 0);
	assert_int_equal(crt_req_send(rpc, done_cb, &r), 0);
	wait_result(&r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(crt_group_detach(srv_grp), 0);
	assert_int_equal(crt_context_destroy(cctx, 0), 0);
	assert_int_equal(crt_finalize(), 0);
	rmdir(attach_dir);
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rpcs),
	};

	return cmocka_run_group_tests_name("cart_rpc", tests, NULL, NULL);
}
