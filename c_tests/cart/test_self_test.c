/*
 * The self-test protocol upstream's self_test tool uses, between processes on loopback
 * (ofi+tcp on lo): a server process (group "st_srv", rank 0, one context; the service is there
 * without any setup, as in an upstream engine) and this client. The client drives the service
 * by hand with upstream's bodies: sessions opened and closed, 0 B (BOTH_EMPTY), 4 KiB inline
 * both ways, 1 MiB pulled by bulk (the reply shows what the service got), 1 MiB pushed by bulk
 * (the service's buffer pattern arrives), both bulk, messages on a wrong or closed session,
 * unsupported types. Then it asks the server to run tests itself (START, as the tool's master
 * endpoint does) against its own rank:tag at 0 B, 4 KiB and 1 MiB with 1 and 16 in flight,
 * polls STATUS_REQ and checks the latencies pushed back; bad START parameters, a START while a
 * run goes, and a STATUS_REQ without a run get upstream's answers. Bounded by alarm().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <cart/api.h>
#include <cart/crt_tools_internal.h>

#define BASE   0x23000000U
#define OPC_STOP CRT_PROTO_OPC(BASE, 1, 0)
#define MIB    (1U << 20)
#define KIB4   4096U

static int stop;

static void
stop_hdlr(crt_rpc_t *rpc)
{
	crt_reply_send(rpc);
	stop = 1;
}

static struct crt_proto_rpc_format prf[] = {{.prf_req_fmt = NULL, .prf_hdlr = stop_hdlr}};
static struct crt_proto_format     cpf = {
    .cpf_name = "st-test", .cpf_ver = 1, .cpf_count = 1, .cpf_prf = prf, .cpf_base = BASE};

static int  port_base;
static char dir[] = "/tmp/cart_test_st.XXXXXX";

static int to_parent[2]; /* the server tells the client which port it bound */

static int
server(void)
{
	crt_context_t ctx;
	char          port[16];
	int           i;

	/* the first free port from port_base (other tests run at the same time) */
	for (i = 0; i < 32; i++, port_base += 4) {
		snprintf(port, sizeof(port), "%d", port_base);
		setenv("D_PORT", port, 1);
		if (crt_init("st_srv", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0)
			return 10;
		if (crt_context_create(&ctx) == 0)
			break;
		crt_finalize();
	}
	if (i == 32 || write(to_parent[1], &port_base, sizeof(port_base)) != sizeof(port_base))
		return 11;
	if (crt_rank_self_set(0, 1) != 0 || crt_proto_register(&cpf) != 0)
		return 12;
	if (crt_group_config_save(NULL, true) != 0)
		return 13;
	while (!stop)
		crt_progress(ctx, 1000);
	for (i = 0; i < 50; i++)
		crt_progress(ctx, 1000);
	if (crt_group_config_remove(NULL) != 0)
		return 14;
	if (crt_context_destroy(ctx, 1) != 0)
		return 15;
	return crt_finalize() == 0 ? 0 : 16;
}

static crt_context_t cctx;
static crt_group_t  *grp;

struct result {
	int            done;
	int            rc;
	unsigned char  out[64];
	unsigned char *iov; /* a copy of a reply iov */
	size_t         iov_len;
};

static void
done_cb(const struct crt_cb_info *info)
{
	struct result *r = info->cci_arg;
	crt_opcode_t   opc = info->cci_rpc->cr_opc;

	r->rc = info->cci_rc;
	if (info->cci_rc == 0 && info->cci_rpc->cr_output_size > 0)
		memcpy(r->out, crt_reply_get(info->cci_rpc), info->cci_rpc->cr_output_size);
	if (info->cci_rc == 0 && (opc == CRT_OPC_SELF_TEST_BOTH_IOV ||
				  opc == CRT_OPC_SELF_TEST_SEND_ID_REPLY_IOV ||
				  opc == CRT_OPC_SELF_TEST_SEND_BULK_REPLY_IOV)) {
		d_iov_t *iov = crt_reply_get(info->cci_rpc);

		r->iov_len = iov->iov_len;
		if (iov->iov_len > 0) {
			r->iov = malloc(iov->iov_len);
			memcpy(r->iov, iov->iov_buf, iov->iov_len);
		}
	}
	r->done = 1;
}

static int
is_done(void *arg)
{
	return ((struct result *)arg)->done;
}

static void
result_reset(struct result *r)
{
	free(r->iov);
	memset(r, 0, sizeof(*r));
}

/* Sends opc to rank 0 tag 0 with the input fill() wrote; waits for the completion. */
static void
call_at(crt_opcode_t opc, void (*fill)(void *in, void *arg), void *arg, struct result *r, int line)
{
	crt_endpoint_t ep = {.ep_grp = grp, .ep_rank = 0, .ep_tag = 0};
	crt_rpc_t     *rpc;

	result_reset(r);
	if (crt_req_create(cctx, &ep, opc, &rpc) != 0)
		fail_msg("crt_req_create(%#x) failed at line %d", opc, line);
	if (fill != NULL)
		fill(crt_req_get(rpc), arg);
	if (crt_req_send(rpc, done_cb, r) != 0)
		fail_msg("crt_req_send(%#x) failed at line %d", opc, line);
	if (crt_progress_cond(cctx, 30 * 1000 * 1000, is_done, r) != 0)
		fail_msg("no completion in 30 s for the RPC of line %d", line);
}
#define call(opc, fill, arg, r) call_at(opc, fill, arg, r, __LINE__)

static void
fill_copy16(void *in, void *arg)
{
	memcpy(in, arg, 16);
}

static void
fill_id(void *in, void *arg)
{
	*(int64_t *)in = *(int64_t *)arg;
}

static void
fill_id_iov(void *in, void *arg)
{
	*(struct crt_st_send_id_iov *)in = *(struct crt_st_send_id_iov *)arg;
}

static void
fill_id_iov_bulk(void *in, void *arg)
{
	*(struct crt_st_send_id_iov_bulk *)in = *(struct crt_st_send_id_iov_bulk *)arg;
}

static void
fill_id_bulk(void *in, void *arg)
{
	*(struct crt_st_send_id_bulk *)in = *(struct crt_st_send_id_bulk *)arg;
}

static void
fill_start(void *in, void *arg)
{
	*(struct crt_st_start_params *)in = *(struct crt_st_start_params *)arg;
}

static void
fill_bulk(void *in, void *arg)
{
	*(crt_bulk_t *)in = *(crt_bulk_t *)arg;
}

static int64_t
open_session(uint32_t send_size, uint32_t reply_size, enum crt_st_msg_type st,
	     enum crt_st_msg_type rt, uint32_t nbuf)
{
	struct crt_st_session_params p = {0};
	struct result                r = {0};
	int64_t                      id;

	p.send_size     = send_size;
	p.reply_size    = reply_size;
	p.num_buffers   = nbuf;
	p.send_type     = st;
	p.reply_type    = rt;
	p.buf_alignment = CRT_ST_BUF_ALIGN_DEFAULT;
	call(CRT_OPC_SELF_TEST_OPEN_SESSION, fill_copy16, &p, &r);
	assert_int_equal(r.rc, 0);
	memcpy(&id, r.out, sizeof(id));
	result_reset(&r);
	return id;
}

static crt_bulk_t
bulk_over(void *buf, size_t len, crt_bulk_perm_t perm)
{
	d_iov_t     iov;
	d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};
	crt_bulk_t  h   = NULL;

	d_iov_set(&iov, buf, len);
	assert_int_equal(crt_bulk_create(cctx, &sgl, perm, &h), 0);
	return h;
}

static int
all_bytes(const unsigned char *b, size_t n, unsigned char v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != v)
			return 0;
	return 1;
}

/* The service, driven by hand. */
static void
service_by_hand(void)
{
	struct result                  r = {0};
	unsigned char                 *big = malloc(MIB), *small = malloc(KIB4);
	struct crt_st_send_id_iov      si;
	struct crt_st_send_id_bulk     sb;
	struct crt_st_send_id_iov_bulk sib;
	int64_t                        id, id_get, id_put, id_both, bad;
	crt_bulk_t                     h;
	size_t                         i;

	for (i = 0; i < MIB; i++)
		big[i] = (unsigned char)(i * 7 + 3);
	memset(small, 0x5a, KIB4);

	/* 0 B: no session, no body */
	call(CRT_OPC_SELF_TEST_BOTH_EMPTY, NULL, NULL, &r);
	assert_int_equal(r.rc, 0);

	/* 4 KiB inline both ways: the reply is the session's buffer (0xA7) */
	id = open_session(KIB4, KIB4, CRT_SELF_TEST_MSG_TYPE_IOV, CRT_SELF_TEST_MSG_TYPE_IOV, 2);
	assert_true(id >= 0);
	si.session_id = id;
	d_iov_set(&si.buf, small, KIB4);
	for (i = 0; i < 5; i++) { /* more messages than buffers: they come back */
		call(CRT_OPC_SELF_TEST_BOTH_IOV, fill_id_iov, &si, &r);
		assert_int_equal(r.rc, 0);
		assert_int_equal(r.iov_len, KIB4);
		assert_true(all_bytes(r.iov, KIB4, 0xA7));
	}
	/* SEND_IOV_REPLY_EMPTY needs no session */
	call(CRT_OPC_SELF_TEST_SEND_IOV_REPLY_EMPTY, fill_id_iov, &si, &r);
	assert_int_equal(r.rc, 0);

	/* 1 MiB pulled by the service, 4 KiB of it replied inline: what it got */
	id_get = open_session(MIB, KIB4, CRT_SELF_TEST_MSG_TYPE_BULK_GET, CRT_SELF_TEST_MSG_TYPE_IOV, 1);
	assert_true(id_get >= 0 && id_get != id);
	h             = bulk_over(big, MIB, CRT_BULK_RO);
	sb.session_id = id_get;
	sb.bulk_hdl   = h;
	call(CRT_OPC_SELF_TEST_SEND_BULK_REPLY_IOV, fill_id_bulk, &sb, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.iov_len, KIB4);
	assert_memory_equal(r.iov, big, KIB4);
	/* the same message on the 4 KiB session is refused: an empty reply */
	sb.session_id = id;
	call(CRT_OPC_SELF_TEST_SEND_BULK_REPLY_IOV, fill_id_bulk, &sb, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.iov_len, 0);
	assert_int_equal(crt_bulk_free(h), 0);

	/* 1 MiB pushed by the service into our buffer: its 0xA7 pattern arrives */
	id_put = open_session(KIB4, MIB, CRT_SELF_TEST_MSG_TYPE_IOV, CRT_SELF_TEST_MSG_TYPE_BULK_PUT, 1);
	assert_true(id_put >= 0);
	memset(big, 0, MIB);
	h              = bulk_over(big, MIB, CRT_BULK_RW);
	sib.session_id = id_put;
	d_iov_set(&sib.buf, small, KIB4);
	sib.bulk_hdl = h;
	call(CRT_OPC_SELF_TEST_SEND_IOV_REPLY_BULK, fill_id_iov_bulk, &sib, &r);
	assert_int_equal(r.rc, 0);
	assert_true(all_bytes(big, MIB, 0xA7));

	/* 1 MiB both ways by bulk: pulled, then pushed back (the data survives the trip) */
	id_both = open_session(MIB, MIB, CRT_SELF_TEST_MSG_TYPE_BULK_GET,
			       CRT_SELF_TEST_MSG_TYPE_BULK_PUT, 1);
	assert_true(id_both >= 0);
	for (i = 0; i < MIB; i++)
		big[i] = (unsigned char)(i * 13 + 1);
	sb.session_id = id_both;
	sb.bulk_hdl   = h;
	call(CRT_OPC_SELF_TEST_BOTH_BULK, fill_id_bulk, &sb, &r);
	assert_int_equal(r.rc, 0);
	for (i = 0; i < MIB; i += 4093)
		assert_int_equal(big[i], (unsigned char)(i * 13 + 1));
	assert_int_equal(crt_bulk_free(h), 0);

	/* unsupported types: no session */
	bad = open_session(KIB4, KIB4, CRT_SELF_TEST_MSG_TYPE_BULK_PUT, CRT_SELF_TEST_MSG_TYPE_IOV, 1);
	assert_int_equal(bad, -1);
	bad = open_session(KIB4, KIB4, CRT_SELF_TEST_MSG_TYPE_IOV, CRT_SELF_TEST_MSG_TYPE_BULK_GET, 1);
	assert_int_equal(bad, -1);

	/* closed sessions answer with nothing; closing twice is harmless */
	call(CRT_OPC_SELF_TEST_CLOSE_SESSION, fill_id, &id, &r);
	assert_int_equal(r.rc, 0);
	call(CRT_OPC_SELF_TEST_CLOSE_SESSION, fill_id, &id, &r);
	assert_int_equal(r.rc, 0);
	si.session_id = id;
	call(CRT_OPC_SELF_TEST_BOTH_IOV, fill_id_iov, &si, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.iov_len, 0);
	call(CRT_OPC_SELF_TEST_CLOSE_SESSION, fill_id, &id_get, &r);
	call(CRT_OPC_SELF_TEST_CLOSE_SESSION, fill_id, &id_put, &r);
	call(CRT_OPC_SELF_TEST_CLOSE_SESSION, fill_id, &id_both, &r);
	assert_int_equal(r.rc, 0);
	result_reset(&r);
	free(big);
	free(small);
}

static struct crt_st_start_params
start_params(uint32_t *endpts, uint32_t reps, uint32_t inflight, uint32_t size,
	     enum crt_st_msg_type st, enum crt_st_msg_type rt)
{
	struct crt_st_start_params p = {0};

	p.srv_grp = "st_srv";
	d_iov_set(&p.endpts, endpts, 2 * sizeof(uint32_t));
	p.rep_count     = reps;
	p.max_inflight  = inflight;
	p.send_size     = size;
	p.reply_size    = size;
	p.send_type     = st;
	p.reply_type    = rt;
	p.buf_alignment = CRT_ST_BUF_ALIGN_DEFAULT;
	return p;
}

/* STATUS_REQ until the run is complete; the latencies land in lat. */
static struct crt_st_status_req_out
wait_status(struct st_latency *lat, uint32_t reps)
{
	struct crt_st_status_req_out out;
	struct result                r = {0};
	crt_bulk_t                   h = bulk_over(lat, reps * sizeof(*lat), CRT_BULK_RW);
	int                          i;

	for (i = 0; i < 3000; i++) {
		call(CRT_OPC_SELF_TEST_STATUS_REQ, fill_bulk, &h, &r);
		assert_int_equal(r.rc, 0);
		memcpy(&out, r.out, sizeof(out));
		if (out.status != CRT_ST_STATUS_TEST_IN_PROGRESS)
			break;
		assert_true(out.num_remaining <= reps);
		usleep(10 * 1000);
	}
	assert_int_equal(crt_bulk_free(h), 0);
	result_reset(&r);
	return out;
}

/* A run of the server against itself, as the self_test tool's master endpoint does. */
static void
run_on_server(uint32_t size, enum crt_st_msg_type st, enum crt_st_msg_type rt, uint32_t inflight)
{
	uint32_t                     endpts[2] = {0, 0};
	uint32_t                     reps      = 64, i;
	struct crt_st_start_params   p = start_params(endpts, reps, inflight, size, st, rt);
	struct crt_st_status_req_out out;
	struct st_latency           *lat = calloc(reps, sizeof(*lat));
	struct result                r   = {0};
	int32_t                      rc;
	uint64_t                     sum = 0;

	call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
	assert_int_equal(r.rc, 0);
	memcpy(&rc, r.out, sizeof(rc));
	assert_int_equal(rc, 0);
	out = wait_status(lat, reps);
	assert_int_equal(out.status, CRT_ST_STATUS_TEST_COMPLETE);
	assert_int_equal(out.num_remaining, 0);
	assert_true(out.test_duration_ns > 0);
	for (i = 0; i < reps; i++) {
		assert_int_equal(lat[i].cci_rc, 0);
		assert_int_equal(lat[i].rank, 0);
		assert_int_equal(lat[i].tag, 0);
		assert_true(lat[i].val > 0);
		sum += lat[i].val;
	}
	print_message("self-test %7u B %s/%s, %2u in flight: %u reps in %.2f ms, mean latency %.1f us\n",
		      size, st == CRT_SELF_TEST_MSG_TYPE_BULK_GET ? "bulk" : "iov",
		      rt == CRT_SELF_TEST_MSG_TYPE_BULK_PUT ? "bulk" : "iov", inflight, reps,
		      out.test_duration_ns / 1e6, sum / (double)reps / 1e3);
	result_reset(&r);
	free(lat);
}

static void
runs(void)
{
	uint32_t                     endpts[3] = {0, 0, 0};
	struct crt_st_start_params   p;
	struct crt_st_status_req_out out;
	struct st_latency            lat[4];
	struct result                r = {0};
	int32_t                      rc;
	crt_bulk_t                   h;
	int                          i;

	/* no run yet */
	out = wait_status(lat, 4);
	assert_int_equal(out.status, CRT_ST_STATUS_INVAL);
	assert_int_equal(out.num_remaining, UINT32_MAX);

	/* bad parameters */
	p = start_params(endpts, 4, 0, 0, CRT_SELF_TEST_MSG_TYPE_EMPTY, CRT_SELF_TEST_MSG_TYPE_EMPTY);
	call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
	memcpy(&rc, r.out, 4);
	assert_int_equal(rc, -DER_INVAL); /* no in-flight */
	p = start_params(endpts, 0, 1, 0, CRT_SELF_TEST_MSG_TYPE_EMPTY, CRT_SELF_TEST_MSG_TYPE_EMPTY);
	call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
	memcpy(&rc, r.out, 4);
	assert_int_equal(rc, -DER_INVAL); /* no repetitions */
	p = start_params(endpts, 4, 1, 0, CRT_SELF_TEST_MSG_TYPE_EMPTY, CRT_SELF_TEST_MSG_TYPE_EMPTY);
	d_iov_set(&p.endpts, endpts, 12);
	call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
	memcpy(&rc, r.out, 4);
	assert_int_equal(rc, -DER_INVAL); /* not rank:tag pairs */
	p = start_params(endpts, 4, 1, 8, CRT_SELF_TEST_MSG_TYPE_BULK_PUT, CRT_SELF_TEST_MSG_TYPE_IOV);
	call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
	memcpy(&rc, r.out, 4);
	assert_int_equal(rc, -DER_INVAL); /* unsupported type */
	p = start_params(endpts, 4, 1, 8, CRT_SELF_TEST_MSG_TYPE_IOV, CRT_SELF_TEST_MSG_TYPE_IOV);
	p.buf_alignment = 300 - 512; /* -212: neither default nor in [0, 255] */
	call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
	memcpy(&rc, r.out, 4);
	assert_int_equal(rc, -DER_INVAL);

	/* a run while another goes: -DER_BUSY; then the first one's status */
	p = start_params(endpts, 2000, 1, KIB4, CRT_SELF_TEST_MSG_TYPE_IOV, CRT_SELF_TEST_MSG_TYPE_IOV);
	call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
	memcpy(&rc, r.out, 4);
	assert_int_equal(rc, 0);
	call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
	memcpy(&rc, r.out, 4);
	assert_int_equal(rc, -DER_BUSY);
	{
		struct st_latency *l = calloc(2000, sizeof(*l));

		/* a bulk of the wrong size is refused once the run is complete (the run stays) */
		h = bulk_over(lat, sizeof(lat), CRT_BULK_RW);
		for (i = 0; i < 3000; i++) {
			call(CRT_OPC_SELF_TEST_STATUS_REQ, fill_bulk, &h, &r);
			assert_int_equal(r.rc, 0);
			memcpy(&out, r.out, sizeof(out));
			if (out.status != CRT_ST_STATUS_TEST_IN_PROGRESS)
				break;
			usleep(10 * 1000);
		}
		assert_int_equal(out.status, CRT_ST_STATUS_INVAL);
		out = wait_status(l, 2000);
		assert_int_equal(out.status, CRT_ST_STATUS_TEST_COMPLETE);
		assert_true(l[1999].val > 0 && l[0].val > 0);
		free(l);
		assert_int_equal(crt_bulk_free(h), 0);
	}

	/* aligned buffers */
	p = start_params(endpts, 8, 2, KIB4, CRT_SELF_TEST_MSG_TYPE_IOV, CRT_SELF_TEST_MSG_TYPE_IOV);
	p.buf_alignment = 17;
	call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
	memcpy(&rc, r.out, 4);
	assert_int_equal(rc, 0);
	{
		struct st_latency l[8];

		out = wait_status(l, 8);
		assert_int_equal(out.status, CRT_ST_STATUS_TEST_COMPLETE);
		assert_int_equal(l[7].cci_rc, 0);
	}
	result_reset(&r);

	/* an endpoint the server cannot reach (rank 7): evicted, the run completes on 0:0 */
	{
		uint32_t          two[4] = {0, 0, 7, 0};
		struct st_latency l[16];
		int               oog = 0, ok = 0;

		p = start_params(two, 16, 2, 0, CRT_SELF_TEST_MSG_TYPE_EMPTY,
				 CRT_SELF_TEST_MSG_TYPE_EMPTY);
		d_iov_set(&p.endpts, two, sizeof(two));
		call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
		memcpy(&rc, r.out, 4);
		assert_int_equal(rc, 0);
		out = wait_status(l, 16);
		assert_int_equal(out.status, CRT_ST_STATUS_TEST_COMPLETE);
		for (i = 0; i < 16; i++) {
			if (l[i].rank == 7 && l[i].cci_rc == -DER_OOG)
				oog++;
			else if (l[i].rank == 0 && l[i].cci_rc == 0 && l[i].val > 0)
				ok++;
		}
		assert_true(oog >= 1);
		assert_int_equal(oog + ok, 16);
		/* with sessions: rank 7's OPEN_SESSION fails, so it never gets a message */
		p = start_params(two, 16, 2, KIB4, CRT_SELF_TEST_MSG_TYPE_IOV, CRT_SELF_TEST_MSG_TYPE_IOV);
		d_iov_set(&p.endpts, two, sizeof(two));
		call(CRT_OPC_SELF_TEST_START, fill_start, &p, &r);
		memcpy(&rc, r.out, 4);
		assert_int_equal(rc, 0);
		out = wait_status(l, 16);
		assert_int_equal(out.status, CRT_ST_STATUS_TEST_COMPLETE);
		for (i = 0; i < 16; i++) {
			assert_int_equal(l[i].rank, 0);
			assert_int_equal(l[i].cci_rc, 0);
		}
	}
	result_reset(&r);

	run_on_server(0, CRT_SELF_TEST_MSG_TYPE_EMPTY, CRT_SELF_TEST_MSG_TYPE_EMPTY, 1);
	run_on_server(0, CRT_SELF_TEST_MSG_TYPE_EMPTY, CRT_SELF_TEST_MSG_TYPE_EMPTY, 16);
	run_on_server(KIB4, CRT_SELF_TEST_MSG_TYPE_IOV, CRT_SELF_TEST_MSG_TYPE_IOV, 1);
	run_on_server(KIB4, CRT_SELF_TEST_MSG_TYPE_IOV, CRT_SELF_TEST_MSG_TYPE_IOV, 16);
	run_on_server(MIB, CRT_SELF_TEST_MSG_TYPE_BULK_GET, CRT_SELF_TEST_MSG_TYPE_BULK_PUT, 1);
	run_on_server(MIB, CRT_SELF_TEST_MSG_TYPE_BULK_GET, CRT_SELF_TEST_MSG_TYPE_BULK_PUT, 16);
}

static void
test_self_test(void **state)
{
	struct result r = {0};
	pid_t         pid;
	int           status, i;

	(void)state;
	/* the packed parameter word, as upstream's compiler lays it out */
	{
		struct crt_st_session_params sp = {0};

		assert_int_equal(sizeof(sp), 16);
		assert_int_equal(sizeof(struct crt_st_start_params), 56);
		assert_int_equal(offsetof(struct crt_st_start_params, flags), 48);
		sp.send_type     = CRT_SELF_TEST_MSG_TYPE_BULK_GET;
		sp.reply_type    = CRT_SELF_TEST_MSG_TYPE_BULK_PUT;
		sp.buf_alignment = -1;
		assert_int_equal(sp.flags, 0xFFFF000BU);
		assert_int_equal(sizeof(struct st_latency), 24);
	}
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	assert_non_null(mkdtemp(dir));
	setenv("CRT_ATTACH_INFO_PATH", dir, 1);
	/* above Linux's ephemeral ports and the other tests' ranges */
	port_base = 61002 + (getpid() % 1000) * 4;
	assert_int_equal(pipe(to_parent), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(120);
		_exit(server());
	}
	alarm(180);
	if (read(to_parent[0], &port_base, sizeof(port_base)) != sizeof(port_base)) {
		waitpid(pid, &status, 0);
		fail_msg("the server did not start (exit status %d)", WEXITSTATUS(status));
	}
	close(to_parent[0]);
	close(to_parent[1]);

	assert_int_equal(crt_init(NULL, 0), 0);
	assert_int_equal(crt_context_create(&cctx), 0);
	assert_int_equal(crt_proto_register(&cpf), 0);
	for (i = 0; i < 200; i++) {
		if (crt_group_attach("st_srv", &grp) == 0)
			break;
		usleep(50 * 1000);
	}
	assert_non_null(grp);

	service_by_hand();
	runs();
	/* a session left open (a tool that died): the server still finalizes cleanly */
	assert_true(open_session(MIB, MIB, CRT_SELF_TEST_MSG_TYPE_BULK_GET,
				 CRT_SELF_TEST_MSG_TYPE_BULK_PUT, 4) >= 0);

	call(OPC_STOP, NULL, NULL, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(crt_group_detach(grp), 0);
	assert_int_equal(crt_context_destroy(cctx, 0), 0);
	assert_int_equal(crt_finalize(), 0);
	rmdir(dir);
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_self_test),
	};

	return cmocka_run_group_tests_name("cart_self_test", tests, NULL, NULL);
}
