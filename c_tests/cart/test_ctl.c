/*
 * The control protocol upstream's cart_ctl speaks, between processes on loopback (ofi+tcp on
 * lo): a server process (group "ctl_srv", rank 0, two contexts, a second rank 5 known by URI,
 * logging to a file) and this client, which attaches through the server's saved group config
 * and sends every control RPC with upstream's bodies: CTL_LS (before any protocol query),
 * then after crt_register_proto_ctl / crt_register_proto_fi: GET_URI_CACHE, GET_HOSTNAME,
 * GET_PID, LOG_SET (a good and a malformed mask), LOG_ADD_MSG (with and without a message),
 * DUMP_COUNTERS, FI_TOGGLE and FI_SET_ATTR. Results are checked against what the server
 * reports through a test RPC (its masks, fault-injection state and attributes) and against
 * its log file; bad input (wrong rank, wrong or missing group name, unknown rank) gets
 * upstream's errors. Bounded by alarm(); the server always exits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <cart/api.h>
#include <cart/crt_tools_internal.h>
#include <gurt/dlog.h>
#include <gurt/fault_inject.h>

#define BASE 0x22000000U
#define OPC(i) CRT_PROTO_OPC(BASE, 1, i)

/* The server's state as it sees it. */
#define CRT_ISEQ_STATE ((uint32_t)(s_fault_id)CRT_VAR)
#define CRT_OSEQ_STATE                                                                             \
	((d_string_t)(s_masks)CRT_VAR)((uint64_t)(s_max_faults)CRT_VAR)                            \
	((uint32_t)(s_fi_enabled)CRT_VAR)((uint32_t)(s_found)CRT_VAR)                              \
	((uint32_t)(s_interval)CRT_VAR)((int32_t)(s_err_code)CRT_VAR)                              \
	((uint32_t)(s_prob_x)CRT_VAR)((uint32_t)(s_prob_y)CRT_VAR)
CRT_RPC_DECLARE(state, CRT_ISEQ_STATE, CRT_OSEQ_STATE)
CRT_RPC_DEFINE(state, CRT_ISEQ_STATE, CRT_OSEQ_STATE)

enum { OPC_STATE, OPC_STOP, OPC_COUNT };

static int  stop;
static char masks[1024];

static void
state_hdlr(crt_rpc_t *rpc)
{
	struct state_in       *in  = crt_req_get(rpc);
	struct state_out      *out = crt_reply_get(rpc);
	struct d_fault_attr_t *fa;

	d_log_getmasks(masks, 0, sizeof(masks), 0);
	out->s_masks      = masks;
	out->s_fi_enabled = d_fault_inject_is_enabled();
	fa                = d_fault_attr_lookup(in->s_fault_id);
	if (fa != NULL) {
		out->s_found      = 1;
		out->s_max_faults = fa->fa_max_faults;
		out->s_interval   = fa->fa_interval;
		out->s_err_code   = fa->fa_err_code;
		out->s_prob_x     = fa->fa_probability_x;
		out->s_prob_y     = fa->fa_probability_y;
	}
	crt_reply_send(rpc);
}

static void
stop_hdlr(crt_rpc_t *rpc)
{
	crt_reply_send(rpc);
	stop = 1;
}

static struct crt_proto_rpc_format prf[OPC_COUNT] = {
    {.prf_req_fmt = &CQF_state, .prf_hdlr = state_hdlr},
    {.prf_req_fmt = NULL, .prf_hdlr = stop_hdlr},
};

static struct crt_proto_format cpf = {
    .cpf_name = "ctl-test", .cpf_ver = 1, .cpf_count = OPC_COUNT, .cpf_prf = prf, .cpf_base = BASE};

static int  port_base;
static char dir[] = "/tmp/cart_test_ctl.XXXXXX";
static char log_path[256];

static char *
uri_of(int port)
{
	static char u[4][64];
	static int  n;
	char       *s = u[n++ % 4];

	snprintf(s, 64, "ofi+tcp://127.0.0.1:%d", port);
	return s;
}

static int to_parent[2]; /* the server tells the client which ports it bound */

static int
server(void)
{
	crt_context_t ctx[2];
	char          port[16];
	int           i, n;

	setenv("D_LOG_FILE", log_path, 1);
	setenv("D_LOG_MASK", "WARN", 1);
	/* fault injection can be switched on only in a process started with a config (crt_init
	 * reads it, as upstream's does) */
	{
		char  fi[300];
		FILE *f;

		snprintf(fi, sizeof(fi), "%s/fi.yaml", dir);
		f = fopen(fi, "w");
		if (f == NULL)
			return 9;
		fprintf(f, "seed: 5\nfault_config:\n  - id: 200\n    probability_x: 1\n"
			   "    probability_y: 1000\n    max_faults: 4\n");
		fclose(f);
		setenv("D_FI_CONFIG", fi, 1);
	}
	/* the first free pair of ports from port_base (other tests run at the same time) */
	for (i = 0; i < 32; i++, port_base += 4) {
		snprintf(port, sizeof(port), "%d", port_base);
		setenv("D_PORT", port, 1);
		if (crt_init("ctl_srv", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0)
			return 10;
		n = 0;
		if (crt_context_create(&ctx[0]) == 0 && ++n && crt_context_create(&ctx[1]) == 0)
			break;
		if (n == 1)
			crt_context_destroy(ctx[0], 1);
		crt_finalize();
	}
	if (i == 32 || write(to_parent[1], &port_base, sizeof(port_base)) != sizeof(port_base))
		return 11;
	if (crt_rank_self_set(0, 1) != 0 || crt_proto_register(&cpf) != 0)
		return 12;
	/* another rank, known by URI only (in the URI cache) */
	if (crt_group_primary_rank_add(ctx[0], NULL, 5, uri_of(port_base + 50)) != 0)
		return 13;
	if (crt_group_config_save(NULL, true) != 0)
		return 14;
	while (!stop) {
		crt_progress(ctx[0], 1000);
		crt_progress(ctx[1], 1000);
	}
	for (i = 0; i < 50; i++) {
		crt_progress(ctx[0], 1000);
		crt_progress(ctx[1], 1000);
	}
	if (crt_group_config_remove(NULL) != 0)
		return 15;
	if (crt_context_destroy(ctx[0], 1) != 0 || crt_context_destroy(ctx[1], 1) != 0)
		return 16;
	return crt_finalize() == 0 ? 0 : 17;
}

static crt_context_t cctx;
static crt_group_t  *grp;

struct result {
	int  done;
	int  rc;
	char out[512]; /* a copy of the reply body */
	char str[256]; /* a copy of its first string/iov, when asked */
};

static void
done_cb(const struct crt_cb_info *info)
{
	struct result *r = info->cci_arg;

	r->rc = info->cci_rc;
	if (info->cci_rc == 0 && info->cci_rpc->cr_output_size > 0)
		memcpy(r->out, crt_reply_get(info->cci_rpc),
		       info->cci_rpc->cr_output_size < sizeof(r->out) ? info->cci_rpc->cr_output_size
								      : sizeof(r->out));
	if (info->cci_rc == 0) {
		switch (info->cci_rpc->cr_opc) {
		case CRT_OPC_CTL_LS: {
			struct crt_ctl_ep_ls_out *o = crt_reply_get(info->cci_rpc);

			if (o->cel_addr_str.iov_buf != NULL && o->cel_addr_str.iov_len < sizeof(r->str))
				memcpy(r->str, o->cel_addr_str.iov_buf, o->cel_addr_str.iov_len);
			break;
		}
		case CRT_OPC_CTL_GET_HOSTNAME: {
			struct crt_ctl_get_host_out *o = crt_reply_get(info->cci_rpc);

			if (o->cgh_hostname.iov_buf != NULL && o->cgh_hostname.iov_len < sizeof(r->str))
				memcpy(r->str, o->cgh_hostname.iov_buf, o->cgh_hostname.iov_len);
			break;
		}
		case CRT_OPC_CTL_GET_URI_CACHE: {
			struct crt_ctl_get_uri_cache_out *o = crt_reply_get(info->cci_rpc);
			size_t                            k, n = 0;

			for (k = 0; k < o->cguc_grp_cache.ca_count; k++)
				n += snprintf(r->str + n, sizeof(r->str) - n, "%u:%u:%s;",
					      o->cguc_grp_cache.ca_arrays[k].gc_rank,
					      o->cguc_grp_cache.ca_arrays[k].gc_tag,
					      o->cguc_grp_cache.ca_arrays[k].gc_uri);
			break;
		}
		case OPC(OPC_STATE): {
			struct state_out *o = crt_reply_get(info->cci_rpc);

			snprintf(r->str, sizeof(r->str), "%s", o->s_masks ? o->s_masks : "");
			break;
		}
		}
	}
	r->done = 1;
}

static int
is_done(void *arg)
{
	return ((struct result *)arg)->done;
}

/* Sends opc to rank:0 of the server's group after fill() set its input; waits for it. */
static void
call_at(crt_opcode_t opc, d_rank_t rank, void (*fill)(void *in, void *arg), void *arg,
	struct result *r, int line)
{
	crt_endpoint_t ep = {.ep_grp = grp, .ep_rank = rank, .ep_tag = 0};
	crt_rpc_t     *rpc;

	memset(r, 0, sizeof(*r));
	if (crt_req_create(cctx, &ep, opc, &rpc) != 0)
		fail_msg("crt_req_create(%#x) failed at line %d", opc, line);
	if (fill != NULL)
		fill(crt_req_get(rpc), arg);
	if (crt_req_send(rpc, done_cb, r) != 0)
		fail_msg("crt_req_send(%#x) failed at line %d", opc, line);
	if (crt_progress_cond(cctx, 20 * 1000 * 1000, is_done, r) != 0)
		fail_msg("no completion in 20 s for the RPC of line %d", line);
}
#define call(opc, rank, fill, arg, r) call_at(opc, rank, fill, arg, r, __LINE__)

struct ctl_target {
	const char *grp;
	d_rank_t    rank;
};

static void
fill_ctl(void *in, void *arg)
{
	struct crt_ctl_ep_ls_in *i = in;
	struct ctl_target       *t = arg;

	i->cel_grp_id = (crt_group_id_t)t->grp;
	i->cel_rank   = t->rank;
}

static void
fill_str(void *in, void *arg)
{
	*(char **)in = arg; /* log_mask / log_msg: the only field */
}

static void
fill_toggle(void *in, void *arg)
{
	((struct crt_ctl_fi_toggle_in *)in)->op = *(bool *)arg;
}

static void
fill_attr(void *in, void *arg)
{
	*(struct crt_ctl_fi_attr_set_in *)in = *(struct crt_ctl_fi_attr_set_in *)arg;
}

static void
fill_u32(void *in, void *arg)
{
	*(uint32_t *)in = *(uint32_t *)arg;
}

/* The server's log masks as d_log_getmasks writes them, and its fault state for id. */
static struct state_out
server_state(uint32_t id, char *masks_out, size_t len)
{
	struct result    r;
	struct state_out o;

	call(OPC(OPC_STATE), 0, fill_u32, &id, &r);
	assert_int_equal(r.rc, 0);
	memcpy(&o, r.out, sizeof(o));
	o.s_masks = NULL;
	snprintf(masks_out, len, "%s", r.str);
	return o;
}

static volatile int progressing;

static void *
progress_thread(void *arg)
{
	(void)arg;
	while (progressing)
		crt_progress(cctx, 1000);
	return NULL;
}

/* crt_register_proto_* wait for the query's answer: progress meanwhile, as cart_ctl does. */
static int
register_with_progress(int (*reg)(crt_endpoint_t *), crt_endpoint_t *ep)
{
	pthread_t t;
	int       rc;

	progressing = 1;
	assert_int_equal(pthread_create(&t, NULL, progress_thread, NULL), 0);
	rc          = reg(ep);
	progressing = 0;
	pthread_join(t, NULL);
	return rc;
}

static int
file_has(const char *path, const char *needle)
{
	static char buf[1 << 20];
	FILE       *f = fopen(path, "r");
	size_t      n;

	if (f == NULL)
		return 0;
	n      = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

static void
test_ctl(void **state)
{
	struct ctl_target  me = {"ctl_srv", 0};
	struct result      r;
	crt_endpoint_t     ep;
	crt_rpc_t         *rpc;
	char               want[256], srv_masks[1024], local[1024], host[256];
	pid_t              pid;
	int                status, i;
	bool               on;
	struct state_out   st;

	(void)state;
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	assert_non_null(mkdtemp(dir));
	setenv("CRT_ATTACH_INFO_PATH", dir, 1);
	snprintf(log_path, sizeof(log_path), "%s/server.log", dir);
	/* above Linux's ephemeral ports and the other tests' ranges */
	port_base = 61000 + (getpid() % 1000) * 4;
	assert_int_equal(pipe(to_parent), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(60);
		_exit(server());
	}
	alarm(90);
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
		if (crt_group_attach("ctl_srv", &grp) == 0)
			break;
		usleep(50 * 1000);
	}
	assert_non_null(grp);

	/* CTL_LS is in the internal protocol: no registration needed. Both contexts' URIs. */
	call(CRT_OPC_CTL_LS, 0, fill_ctl, &me, &r);
	assert_int_equal(r.rc, 0);
	{
		struct crt_ctl_ep_ls_out *o = (void *)r.out;
		size_t                    l0 = strlen(uri_of(port_base));

		assert_int_equal(o->cel_rc, 0);
		assert_int_equal(o->cel_ctx_num, 2);
		assert_int_equal(o->cel_addr_str.iov_len, l0 + 1 + strlen(uri_of(port_base + 1)) + 1);
		assert_string_equal(r.str, uri_of(port_base));
		assert_string_equal(r.str + l0 + 1, uri_of(port_base + 1));
	}
	/* the wrong rank, another group, no group: -DER_INVAL in the reply */
	{
		struct ctl_target bad[] = {{"ctl_srv", 1}, {"other_grp", 0}, {NULL, 0}, {"bad;name", 0}};

		for (i = 0; i < 4; i++) {
			call(CRT_OPC_CTL_LS, 0, fill_ctl, &bad[i], &r);
			assert_int_equal(r.rc, 0);
			assert_int_equal(((struct crt_ctl_ep_ls_out *)r.out)->cel_rc, -DER_INVAL);
			assert_int_equal(((struct crt_ctl_ep_ls_out *)r.out)->cel_ctx_num, 0);
		}
	}
	/* a rank the group does not have: the send fails with -DER_OOG */
	call(CRT_OPC_CTL_LS, 9, fill_ctl, &me, &r);
	assert_int_equal(r.rc, -DER_OOG);

	/* ctl and fi are not registered in a client until asked for */
	ep = (crt_endpoint_t){.ep_grp = grp, .ep_rank = 0, .ep_tag = 0};
	assert_int_equal(crt_req_create(cctx, &ep, CRT_OPC_CTL_GET_PID, &rpc), -DER_UNREG);
	assert_int_equal(crt_req_create(cctx, &ep, CRT_OPC_CTL_FI_TOGGLE, &rpc), -DER_UNREG);
	assert_int_equal(register_with_progress(crt_register_proto_ctl, &ep), 0);
	assert_int_equal(register_with_progress(crt_register_proto_fi, &ep), 0);
	/* once registered, a second registration is refused */
	assert_int_equal(register_with_progress(crt_register_proto_ctl, &ep), -DER_EXIST);

	/* GET_PID: the server's pid */
	call(CRT_OPC_CTL_GET_PID, 0, fill_ctl, &me, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(((struct crt_ctl_get_pid_out *)r.out)->cgp_rc, 0);
	assert_int_equal(((struct crt_ctl_get_pid_out *)r.out)->cgp_pid, pid);
	{
		struct ctl_target wrong = {"ctl_srv", 3};

		call(CRT_OPC_CTL_GET_PID, 0, fill_ctl, &wrong, &r);
		assert_int_equal(((struct crt_ctl_get_pid_out *)r.out)->cgp_rc, -DER_INVAL);
		assert_int_equal(((struct crt_ctl_get_pid_out *)r.out)->cgp_pid, 0);
	}

	/* GET_HOSTNAME: this host's name, without a NUL */
	call(CRT_OPC_CTL_GET_HOSTNAME, 0, fill_ctl, &me, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_int_equal(((struct crt_ctl_get_host_out *)r.out)->cgh_rc, 0);
	assert_int_equal(((struct crt_ctl_get_host_out *)r.out)->cgh_hostname.iov_len, strlen(host));
	assert_string_equal(r.str, host);

	/* GET_URI_CACHE: the server's two contexts and rank 5 */
	call(CRT_OPC_CTL_GET_URI_CACHE, 0, fill_ctl, &me, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(((struct crt_ctl_get_uri_cache_out *)r.out)->cguc_rc, 0);
	assert_int_equal(((struct crt_ctl_get_uri_cache_out *)r.out)->cguc_grp_cache.ca_count, 3);
	snprintf(want, sizeof(want), "0:0:%s;0:1:%s;5:0:%s;", uri_of(port_base),
		 uri_of(port_base + 1), uri_of(port_base + 50));
	assert_string_equal(r.str, want);
	{
		struct ctl_target wrong = {"ctl_srv", 5};

		call(CRT_OPC_CTL_GET_URI_CACHE, 0, fill_ctl, &wrong, &r);
		assert_int_equal(((struct crt_ctl_get_uri_cache_out *)r.out)->cguc_rc, -DER_INVAL);
		assert_int_equal(((struct crt_ctl_get_uri_cache_out *)r.out)->cguc_grp_cache.ca_count,
				 0);
	}

	/* LOG_SET: the server's masks become what the same string makes here */
	call(CRT_OPC_CTL_LOG_SET, 0, fill_str, "DEBUG", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(((struct crt_ctl_log_set_out *)r.out)->rc, 0);
	server_state(0, srv_masks, sizeof(srv_masks));
	d_log_setmasks("DEBUG", -1);
	d_log_getmasks(local, 0, sizeof(local), 0);
	assert_string_equal(srv_masks, local);
	assert_non_null(strstr(srv_masks, "=DBUG"));
	call(CRT_OPC_CTL_LOG_SET, 0, fill_str, "ERR", &r);
	assert_int_equal(((struct crt_ctl_log_set_out *)r.out)->rc, 0);
	server_state(0, srv_masks, sizeof(srv_masks));
	assert_null(strstr(srv_masks, "DBUG"));
	assert_non_null(strstr(srv_masks, "=ERR"));
	d_log_setmasks("ERR", -1);
	d_log_getmasks(local, 0, sizeof(local), 0);
	assert_string_equal(srv_masks, local);
	/* a malformed mask: upstream's reply is still 0, and the masks do what gurt does with
	 * that string (the same as here) */
	call(CRT_OPC_CTL_LOG_SET, 0, fill_str, "NOT_A_LEVEL,%%=#", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(((struct crt_ctl_log_set_out *)r.out)->rc, 0);
	server_state(0, srv_masks, sizeof(srv_masks));
	d_log_setmasks("NOT_A_LEVEL,%%=#", -1);
	d_log_getmasks(local, 0, sizeof(local), 0);
	assert_string_equal(srv_masks, local);
	/* no mask at all: nothing changes, reply 0 */
	call(CRT_OPC_CTL_LOG_SET, 0, fill_str, NULL, &r);
	assert_int_equal(((struct crt_ctl_log_set_out *)r.out)->rc, 0);
	server_state(0, local, sizeof(local));
	assert_string_equal(srv_masks, local);

	/* LOG_ADD_MSG: into the server's log; none: -DER_INVAL */
	call(CRT_OPC_CTL_LOG_ADD_MSG, 0, fill_str, "test_ctl was here", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(((struct crt_ctl_log_add_msg_out *)r.out)->rc, 0);
	call(CRT_OPC_CTL_LOG_ADD_MSG, 0, fill_str, NULL, &r);
	assert_int_equal(((struct crt_ctl_log_add_msg_out *)r.out)->rc, -DER_INVAL);

	/* DUMP_COUNTERS: rc 0, the counters in the server's log */
	call(CRT_OPC_CTL_DUMP_COUNTERS, 0, fill_ctl, &me, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(((struct crt_ctl_dump_counters_out *)r.out)->rc, 0);

	/* FI_TOGGLE and FI_SET_ATTR: libgurt's fault injection in the server */
	on = true;
	call(CRT_OPC_CTL_FI_TOGGLE, 0, fill_toggle, &on, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(((struct crt_ctl_fi_toggle_out *)r.out)->rc, 0);
	st = server_state(100, srv_masks, sizeof(srv_masks));
	assert_int_equal(st.s_fi_enabled, 1);
	assert_int_equal(st.s_found, 0);
	st = server_state(200, srv_masks, sizeof(srv_masks)); /* from the server's D_FI_CONFIG */
	assert_int_equal(st.s_found, 1);
	assert_int_equal(st.s_max_faults, 4);
	assert_int_equal(st.s_prob_y, 1000);
	{
		struct crt_ctl_fi_attr_set_in a = {.fa_fault_id      = 100,
						   .fa_interval      = 3,
						   .fa_max_faults    = 7,
						   .fa_err_code      = 1234,
						   .fa_probability_x = 250,
						   .fa_probability_y = 1000,
						   .fa_argument      = "ignored"};

		call(CRT_OPC_CTL_FI_SET_ATTR, 0, fill_attr, &a, &r);
		assert_int_equal(r.rc, 0);
		assert_int_equal(((struct crt_ctl_fi_attr_set_out *)r.out)->fa_ret, 0);
		st = server_state(100, srv_masks, sizeof(srv_masks));
		assert_int_equal(st.s_found, 1);
		assert_int_equal(st.s_interval, 3);
		assert_int_equal(st.s_max_faults, 7);
		assert_int_equal(st.s_err_code, 1234);
		assert_int_equal(st.s_prob_x, 250);
		assert_int_equal(st.s_prob_y, 1000);
		/* setting it again replaces the attributes; other ids stay unset */
		a.fa_max_faults    = 9;
		a.fa_probability_x = 0;
		a.fa_probability_y = 0;
		call(CRT_OPC_CTL_FI_SET_ATTR, 0, fill_attr, &a, &r);
		assert_int_equal(((struct crt_ctl_fi_attr_set_out *)r.out)->fa_ret, 0);
		st = server_state(100, srv_masks, sizeof(srv_masks));
		assert_int_equal(st.s_max_faults, 9);
		assert_int_equal(st.s_prob_x, 0);
		assert_int_equal(st.s_err_code, 1234);
		st = server_state(101, srv_masks, sizeof(srv_masks));
		assert_int_equal(st.s_found, 0);
	}
	on = false;
	call(CRT_OPC_CTL_FI_TOGGLE, 0, fill_toggle, &on, &r);
	assert_int_equal(((struct crt_ctl_fi_toggle_out *)r.out)->rc, 0);
	st = server_state(100, srv_masks, sizeof(srv_masks));
	assert_int_equal(st.s_fi_enabled, 0);

	/* stop the server; its log has the message and the counters */
	call(OPC(OPC_STOP), 0, NULL, NULL, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(file_has(log_path, "test_ctl was here"));
	assert_true(file_has(log_path, "cart counters: 2 context(s)"));
	assert_true(file_has(log_path, uri_of(port_base + 1)));

	assert_int_equal(crt_group_detach(grp), 0);
	assert_int_equal(crt_context_destroy(cctx, 0), 0);
	assert_int_equal(crt_finalize(), 0);
	unlink(log_path);
	snprintf(want, sizeof(want), "%s/fi.yaml", dir);
	unlink(want);
	rmdir(dir);
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ctl),
	};

	return cmocka_run_group_tests_name("cart_ctl", tests, NULL, NULL);
}
