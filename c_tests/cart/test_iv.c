/*
 * Incast variables across 8 processes on loopback (ofi+tcp on lo), through libcart's exports:
 * this process is rank 0 and drives the test; ranks 1..7 are forked servers. Every rank attaches
 * the same namespace (a k-nomial tree of ratio 2) with one class whose callbacks keep a small
 * store: key k (a uint32) has root rank k % 8, where its value lives; other ranks cache it.
 * Rank 0 asks the others to fetch, update or invalidate through a test RPC and reads their
 * stores back, so every check is on the values each rank actually holds:
 * - a fetch from a leaf climbs the tree to the root and every rank on the way caches the value;
 *   with CRT_IV_SHORTCUT_TO_ROOT only the leaf and the root do;
 * - updates from a non-root rank reach the root, then sync every rank (EAGER: before the
 *   completion; LAZY: after it; NONE: only the root has it; NOTIFY: every rank is told, none
 *   stores); the root's on_update gets CRT_IV_FLAG_ROOT;
 * - invalidate clears every rank, after which a fetch fails with the root's -DER_NONEXIST;
 * - a 40000-byte value goes by bulk both ways;
 * - two fetches of one key at once: the second waits (CRT_IV_FLAG_PENDING_FETCH);
 * - a stale group version is -DER_GRPVER; a namespace unknown remotely is -DER_NONEXIST;
 * - a fetch whose root was killed fails within the context timeout (no hang);
 * - crt_iv_get_nchildren over the flat, k-ary and k-nomial trees;
 * - a bulk update runs ivo_pre_update (deferred, as an engine would) on the way and at the root;
 * - every on_get is matched by one on_put on every rank.
 * Bounded by alarm(); every child is killed and reaped at the end.
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
#include <cart/iv.h>
#include <cart/crt_tree.h>

#define NRANKS 8
#define NKEYS  8
#define BIG    40000
#define NSID   5
#define BIG_KEY 7
#define BASE   0x23000000U
#define OPC_CMD CRT_PROTO_OPC(BASE, 1, 0)

enum { OP_FETCH, OP_UPDATE, OP_INVALIDATE, OP_QUERY, OP_NCHILDREN };

#define CRT_ISEQ_CMD                                                                              \
	((uint32_t)(c_op) CRT_VAR)((uint32_t)(c_key) CRT_VAR)((uint64_t)(c_val) CRT_VAR)(         \
	    (uint32_t)(c_len) CRT_VAR)((uint32_t)(c_mode) CRT_VAR)((uint32_t)(c_event) CRT_VAR)(  \
	    (uint32_t)(c_flags) CRT_VAR)((uint32_t)(c_shortcut) CRT_VAR)((uint32_t)(c_pad) CRT_VAR)
#define CRT_OSEQ_CMD                                                                              \
	((int32_t)(o_rc) CRT_VAR)((uint32_t)(o_valid) CRT_VAR)((uint64_t)(o_val) CRT_VAR)(        \
	    (uint32_t)(o_len) CRT_VAR)((uint32_t)(o_big_ok) CRT_VAR)((uint32_t)(o_notify) CRT_VAR)( \
	    (uint32_t)(o_refresh_err) CRT_VAR)((uint32_t)(o_gets) CRT_VAR)(                       \
	    (uint32_t)(o_puts) CRT_VAR)((uint32_t)(o_upd_flags) CRT_VAR)(                         \
	    (uint32_t)(o_nchildren) CRT_VAR)((uint32_t)(o_pre_fetch) CRT_VAR)(                    \
	    (uint32_t)(o_pre_refresh) CRT_VAR)((uint32_t)(o_resp_task) CRT_VAR)(                 \
	    (uint32_t)(o_pre_update) CRT_VAR)
CRT_RPC_DECLARE(cmd, CRT_ISEQ_CMD, CRT_OSEQ_CMD)
CRT_RPC_DEFINE(cmd, CRT_ISEQ_CMD, CRT_OSEQ_CMD)

static crt_context_t      ctx;
static crt_iv_namespace_t ns;
static pid_t              kids[NRANKS];
static int                port_base;
static d_rank_t           me;

/* ---- this rank's store and the class callbacks ---- */

struct entry {
	unsigned char buf[BIG];
	size_t        len;
	int           valid;
};
static struct entry store[NKEYS];

/* what an on_get hands out: the entry (READ) or a scratch buffer (WRITE) */
struct handle {
	struct entry  *e;
	d_iov_t        iov;
	unsigned char *scratch;
};

static unsigned n_gets, n_puts, n_notify, n_refresh_err, n_pre_fetch, n_pre_refresh,
    n_pending_flag, n_resp_task, n_pre_update, last_upd_flags = 0xff;

static uint32_t
key_of(crt_iv_key_t *key)
{
	uint32_t k = 0;

	if (key != NULL && key->iov_buf != NULL && key->iov_len >= sizeof(k))
		memcpy(&k, key->iov_buf, sizeof(k));
	return k % NKEYS;
}

static void
fill(unsigned char *buf, uint64_t val, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(val + i * 7);
	if (len >= sizeof(val))
		memcpy(buf, &val, sizeof(val));
}

static int
on_hash(crt_iv_namespace_t ivns, crt_iv_key_t *key, d_rank_t *root)
{
	(void)ivns;
	if (key == NULL || key->iov_len != sizeof(uint32_t))
		return -DER_INVAL;
	*root = key_of(key) % NRANKS;
	return 0;
}

static int
on_get(crt_iv_namespace_t ivns, crt_iv_key_t *key, crt_iv_ver_t ver, crt_iv_perm_t perm,
       d_sg_list_t *value, void **priv)
{
	struct handle *h = calloc(1, sizeof(*h));

	(void)ivns;
	(void)ver;
	if (h == NULL)
		return -DER_NOMEM;
	h->e = &store[key_of(key)];
	if (perm & CRT_IV_PERM_WRITE) {
		/* key 7 holds big values (bulk transfers); the others fit inline */
		size_t n = key_of(key) == BIG_KEY ? BIG : 64;

		h->scratch = calloc(1, n);
		if (h->scratch == NULL) {
			free(h);
			return -DER_NOMEM;
		}
		d_iov_set(&h->iov, h->scratch, n);
	} else {
		h->iov.iov_buf     = h->e->buf;
		h->iov.iov_buf_len = BIG;
		h->iov.iov_len     = h->e->len;
	}
	if (value != NULL) {
		value->sg_nr     = 1;
		value->sg_nr_out = 0;
		value->sg_iovs   = &h->iov;
	}
	*priv = h;
	n_gets++;
	return 0;
}

static void
on_put(crt_iv_namespace_t ivns, d_sg_list_t *value, void *priv)
{
	struct handle *h = priv;

	(void)ivns;
	(void)value;
	n_puts++;
	if (h != NULL) {
		free(h->scratch);
		free(h);
	}
}

static void
store_value(struct entry *e, d_sg_list_t *value)
{
	d_iov_t *iov = &value->sg_iovs[0];

	if (iov->iov_buf != e->buf)
		memcpy(e->buf, iov->iov_buf, iov->iov_len < BIG ? iov->iov_len : BIG);
	e->len   = iov->iov_len;
	e->valid = 1;
}

static int
on_fetch(crt_iv_namespace_t ivns, crt_iv_key_t *key, crt_iv_ver_t *ver, uint32_t flags,
	 d_sg_list_t *value, void *priv)
{
	struct entry *e = &store[key_of(key)];

	(void)ivns;
	(void)ver;
	(void)priv;
	if (flags & CRT_IV_FLAG_PENDING_FETCH)
		n_pending_flag++;
	if (e->valid) {
		value->sg_iovs[0].iov_len = e->len;
		if (value->sg_iovs[0].iov_buf != e->buf)
			memcpy(value->sg_iovs[0].iov_buf, e->buf, e->len);
		return 0;
	}
	if (key_of(key) % NRANKS == me)
		return -DER_NONEXIST;
	return -DER_IVCB_FORWARD;
}

static int
on_update(crt_iv_namespace_t ivns, crt_iv_key_t *key, crt_iv_ver_t ver, uint32_t flags,
	  d_sg_list_t *value, void *priv)
{
	(void)ivns;
	(void)ver;
	(void)priv;
	last_upd_flags = flags;
	if (key_of(key) % NRANKS != me)
		return -DER_IVCB_FORWARD;
	store_value(&store[key_of(key)], value);
	return 0;
}

static int
on_refresh(crt_iv_namespace_t ivns, crt_iv_key_t *key, crt_iv_ver_t ver, d_sg_list_t *value,
	   bool invalidate, int rc, void *priv)
{
	struct entry *e = &store[key_of(key)];

	(void)ivns;
	(void)ver;
	(void)priv;
	if (invalidate) {
		e->valid = 0;
		return 0;
	}
	if (rc != 0) {
		n_refresh_err++;
		return 0;
	}
	if (value == NULL) {
		n_notify++;
		return 0;
	}
	store_value(e, value);
	return 0;
}

static void
pre_fetch(crt_iv_namespace_t ivns, crt_iv_key_t *key, crt_generic_cb_t cb, void *arg)
{
	(void)ivns;
	(void)key;
	n_pre_fetch++;
	cb(arg);
}

static void
pre_refresh(crt_iv_namespace_t ivns, crt_iv_key_t *key, crt_generic_cb_t cb, void *arg)
{
	(void)ivns;
	(void)key;
	n_pre_refresh++;
	cb(arg);
}

/* runs the update later, from progress, as an engine would from another ULT */
static crt_generic_cb_t deferred_cb;
static void            *deferred_arg;

static void
pre_update(crt_iv_namespace_t ivns, crt_iv_key_t *key, crt_generic_cb_t cb, void *arg)
{
	(void)ivns;
	(void)key;
	n_pre_update++;
	if (me == 0) { /* rank 0 drives the test and only progresses */
		cb(arg);
		return;
	}
	deferred_cb  = cb;
	deferred_arg = arg;
}

static void
run_deferred(void)
{
	crt_generic_cb_t cb = deferred_cb;

	if (cb != NULL) {
		deferred_cb = NULL;
		cb(deferred_arg);
	}
}

static struct crt_iv_ops ops = {
    .ivo_pre_fetch   = pre_fetch,
    .ivo_on_fetch    = on_fetch,
    .ivo_pre_update  = pre_update,
    .ivo_on_update   = on_update,
    .ivo_pre_refresh = pre_refresh,
    .ivo_on_refresh  = on_refresh,
    .ivo_on_hash     = on_hash,
    .ivo_on_get      = on_get,
    .ivo_on_put      = on_put,
};
static struct crt_iv_class iv_class = {.ivc_id = 0, .ivc_feats = 0, .ivc_ops = &ops};

/* ---- the test RPC: rank 0 makes another rank run an IV call ---- */

struct pending {
	crt_rpc_t *rpc;
	int        in_call, replied;
	uint32_t   key;
	d_iov_t    key_iov;
	d_sg_list_t sgl;
	d_iov_t    iov;
	unsigned char *buf;
};

static void
query_into(struct cmd_out *out, uint32_t k)
{
	struct entry *e = &store[k % NKEYS];
	unsigned char want[BIG];
	uint64_t      v = 0;

	out->o_valid = (uint32_t)e->valid;
	out->o_len   = (uint32_t)e->len;
	if (e->len >= sizeof(v))
		memcpy(&v, e->buf, sizeof(v));
	out->o_val = v;
	fill(want, v, e->len);
	out->o_big_ok      = e->len > 0 && memcmp(want, e->buf, e->len) == 0;
	out->o_notify      = n_notify;
	out->o_refresh_err = n_refresh_err;
	out->o_gets        = n_gets;
	out->o_puts        = n_puts;
	out->o_upd_flags   = last_upd_flags;
	out->o_pre_fetch   = n_pre_fetch;
	out->o_pre_refresh = n_pre_refresh;
	out->o_resp_task   = n_resp_task;
	out->o_pre_update  = n_pre_update;
}

static void
finish(struct pending *p, int rc)
{
	struct cmd_out *out = crt_reply_get(p->rpc);

	out->o_rc = rc;
	crt_reply_send(p->rpc);
	crt_req_decref(p->rpc);
	p->replied = 1;
	if (!p->in_call) {
		free(p->buf);
		free(p);
	}
}

static int
cmd_comp(crt_iv_namespace_t ivns, uint32_t class_id, crt_iv_key_t *key, crt_iv_ver_t *ver,
	 d_sg_list_t *value, int rc, void *arg)
{
	struct pending *p   = arg;
	struct cmd_out *out = crt_reply_get(p->rpc);

	(void)ivns;
	(void)class_id;
	(void)key;
	(void)ver;
	(void)value;
	query_into(out, p->key);
	finish(p, rc);
	return 0;
}

static void
cmd_hdlr(crt_rpc_t *rpc)
{
	struct cmd_in  *in  = crt_req_get(rpc);
	struct cmd_out *out = crt_reply_get(rpc);
	struct pending *p;
	crt_iv_sync_t   sync = {(crt_iv_sync_mode_t)in->c_mode, (crt_iv_sync_event_t)in->c_event,
				in->c_flags};
	int             rc;

	if (in->c_op == OP_QUERY || in->c_op == OP_NCHILDREN) {
		query_into(out, in->c_key);
		out->o_rc = 0;
		if (in->c_op == OP_NCHILDREN) {
			crt_iv_key_t k;

			d_iov_set(&k, &in->c_key, sizeof(in->c_key));
			out->o_rc = crt_iv_get_nchildren(ns, 0, &k, &out->o_nchildren);
		}
		crt_reply_send(rpc);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		out->o_rc = -DER_NOMEM;
		crt_reply_send(rpc);
		return;
	}
	crt_req_addref(rpc);
	p->rpc = rpc;
	p->key = in->c_key;
	d_iov_set(&p->key_iov, &p->key, sizeof(p->key));
	p->in_call = 1;
	switch (in->c_op) {
	case OP_FETCH:
		rc = crt_iv_fetch(ns, 0, &p->key_iov, NULL, (crt_iv_shortcut_t)in->c_shortcut, cmd_comp,
				  p);
		break;
	case OP_UPDATE:
		p->buf = malloc(in->c_len);
		fill(p->buf, in->c_val, in->c_len);
		d_iov_set(&p->iov, p->buf, in->c_len);
		p->sgl.sg_nr   = 1;
		p->sgl.sg_iovs = &p->iov;
		rc = crt_iv_update(ns, 0, &p->key_iov, NULL, &p->sgl, (crt_iv_shortcut_t)in->c_shortcut,
				   sync, cmd_comp, p);
		break;
	default:
		rc = crt_iv_invalidate(ns, 0, &p->key_iov, NULL, (crt_iv_shortcut_t)in->c_shortcut,
				       sync, cmd_comp, p);
		break;
	}
	p->in_call = 0;
	if (p->replied) {
		free(p->buf);
		free(p);
	} else if (rc != 0) {
		finish(p, rc);
	}
}

static struct crt_proto_rpc_format prf[] = {{.prf_req_fmt = &CQF_cmd, .prf_hdlr = cmd_hdlr}};
static struct crt_proto_format     cpf   = {
	.cpf_name = "iv_test", .cpf_ver = 1, .cpf_count = 1, .cpf_prf = prf, .cpf_base = BASE};

/* the engine's way: handlers and IV replies go through the context's tasks (run at once) */
static int
rpc_task(crt_context_t *c, void *hdlr_arg, void (*hdlr)(void *), void *arg)
{
	(void)c;
	(void)arg;
	hdlr(hdlr_arg);
	return 0;
}

static int
resp_task(crt_context_t *c, void *hdlr_arg, void (*hdlr)(void *), void *arg)
{
	(void)c;
	(void)arg;
	n_resp_task++;
	hdlr(hdlr_arg);
	return 0;
}

static void
uri_of(d_rank_t r, char *buf, size_t len)
{
	snprintf(buf, len, "ofi+tcp://127.0.0.1:%d", port_base + 2 * (int)r);
}

static int
join(d_rank_t rank)
{
	char          port[16], uris_s[NRANKS][64], *uris[NRANKS];
	d_rank_t      ranks[NRANKS];
	uint64_t      inc[NRANKS];
	d_rank_list_t l = {.rl_ranks = ranks, .rl_nr = 0};
	d_rank_t      r;
	uint32_t      k;

	me = rank;
	snprintf(port, sizeof(port), "%d", port_base + 2 * (int)rank);
	setenv("D_PORT", port, 1);
	if (crt_init("iv_grp", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE) != 0)
		return 10;
	if (crt_context_create(&ctx) != 0)
		return 11;
	if (crt_rank_self_set(rank, 1) != 0 || crt_proto_register(&cpf) != 0)
		return 12;
	if (crt_context_register_rpc_task(ctx, rpc_task, resp_task, NULL) != 0)
		return 13;
	if (crt_context_set_timeout(ctx, 3) != 0)
		return 14;
	for (r = 0; r < NRANKS; r++) {
		if (r == rank)
			continue;
		uri_of(r, uris_s[l.rl_nr], sizeof(uris_s[0]));
		uris[l.rl_nr]    = uris_s[l.rl_nr];
		inc[l.rl_nr]     = 1;
		ranks[l.rl_nr++] = r;
	}
	if (crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris, CRT_GROUP_MOD_OP_ADD, 2) != 0)
		return 15;
	/* each root starts with its keys' values: 1000 + key */
	for (k = 0; k < NKEYS; k++) {
		if (k % NRANKS == rank) {
			store[k].len = sizeof(uint64_t);
			fill(store[k].buf, 1000 + k, store[k].len);
			store[k].valid = 1;
		}
	}
	if (crt_iv_namespace_create(ctx, NULL, crt_tree_topo(CRT_TREE_KNOMIAL, 2), &iv_class, 1,
				    NSID, &ns) != 0)
		return 16;
	return 0;
}

static void
kill_all(void)
{
	int i;

	for (i = 1; i < NRANKS; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
}

/* ---- rank 0's side ---- */

struct result {
	int            done, rc;
	struct cmd_out out;
};

static void
cmd_cb(const struct crt_cb_info *info)
{
	struct result *res = info->cci_arg;

	res->rc = info->cci_rc;
	if (info->cci_rc == 0)
		res->out = *(struct cmd_out *)crt_reply_get(info->cci_rpc);
	res->done = 1;
}

static int
is_done(void *arg)
{
	return ((struct result *)arg)->done;
}

/* Runs op at rank r; returns the IV call's rc (or the RPC's error), fills *out. */
static int
run(d_rank_t r, uint32_t op, uint32_t key, uint64_t val, uint32_t len, crt_iv_sync_t sync,
    uint32_t shortcut, struct cmd_out *out)
{
	crt_endpoint_t ep  = {.ep_grp = NULL, .ep_rank = r, .ep_tag = 0};
	crt_rpc_t     *rpc = NULL;
	struct cmd_in *in;
	struct result  res = {0};

	assert_int_equal(crt_req_create(ctx, &ep, OPC_CMD, &rpc), 0);
	in             = crt_req_get(rpc);
	in->c_op       = op;
	in->c_key      = key;
	in->c_val      = val;
	in->c_len      = len;
	in->c_mode     = sync.ivs_mode;
	in->c_event    = sync.ivs_event;
	in->c_flags    = sync.ivs_flags;
	in->c_shortcut = shortcut;
	assert_int_equal(crt_req_set_timeout(rpc, 20), 0);
	assert_int_equal(crt_req_send(rpc, cmd_cb, &res), 0);
	assert_int_equal(crt_progress_cond(ctx, 30 * 1000 * 1000, is_done, &res), 0);
	if (out != NULL)
		*out = res.out;
	return res.rc != 0 ? res.rc : res.out.o_rc;
}

static struct cmd_out
query(d_rank_t r, uint32_t key)
{
	struct cmd_out out;
	crt_iv_sync_t  none = CRT_IV_SYNC_MODE_NONE;

	assert_int_equal(run(r, OP_QUERY, key, 0, 0, none, 0, &out), 0);
	return out;
}

/* rank 0's own store, read as a remote one is */
static struct cmd_out
query_self(uint32_t key)
{
	struct cmd_out out;

	memset(&out, 0, sizeof(out));
	query_into(&out, key);
	return out;
}

static struct cmd_out
query_any(d_rank_t r, uint32_t key)
{
	return r == 0 ? query_self(key) : query(r, key);
}

/* local completions on rank 0 */
struct lres {
	int      done, rc, calls;
	uint64_t val;
};

static int
local_comp(crt_iv_namespace_t ivns, uint32_t class_id, crt_iv_key_t *key, crt_iv_ver_t *ver,
	   d_sg_list_t *value, int rc, void *arg)
{
	struct lres *l = arg;

	(void)ivns;
	(void)class_id;
	(void)key;
	(void)ver;
	l->calls++;
	l->rc = rc;
	if (rc == 0 && value != NULL && value->sg_nr > 0 && value->sg_iovs[0].iov_len >= 8)
		memcpy(&l->val, value->sg_iovs[0].iov_buf, sizeof(l->val));
	l->done = 1;
	return 0;
}

static int
ldone(void *arg)
{
	return ((struct lres *)arg)->done;
}

static void
wait_local(struct lres *l)
{
	assert_int_equal(crt_progress_cond(ctx, 30 * 1000 * 1000, ldone, l), 0);
}

static uint32_t
parent_of(d_rank_t r, d_rank_t root)
{
	uint32_t p = 0;

	assert_int_equal(crt_knomial_get_parent(NRANKS, 2, root, r, &p), 0);
	return p;
}

static int destroyed;

static void
destroy_cb(crt_iv_namespace_t ivns, void *arg)
{
	(void)ivns;
	if (arg == &destroyed)
		destroyed++;
}

static void
test_iv(void **state)
{
	crt_iv_sync_t      none       = CRT_IV_SYNC_MODE_NONE;
	crt_iv_sync_t      eager      = {CRT_IV_SYNC_EAGER, CRT_IV_SYNC_EVENT_UPDATE, 0};
	crt_iv_sync_t      lazy       = {CRT_IV_SYNC_LAZY, CRT_IV_SYNC_EVENT_UPDATE, 0};
	crt_iv_sync_t      notify     = {CRT_IV_SYNC_EAGER, CRT_IV_SYNC_EVENT_NOTIFY, 0};
	crt_iv_sync_t      bad_bidir  = {CRT_IV_SYNC_EAGER, CRT_IV_SYNC_EVENT_UPDATE,
					 CRT_IV_SYNC_BIDIRECTIONAL};
	crt_iv_sync_t      macro      = CRT_IV_SYNC_UPDATE_EAGER(0);
	int                pipefd[2], i, rc;
	char               c;
	struct cmd_out     out, o2;
	d_rank_t           r, path[NRANKS];
	unsigned           npath, before[NRANKS];
	uint32_t           id, key, n;
	void              *priv;
	crt_iv_namespace_t ns2;
	crt_iv_key_t       kiov;
	struct lres        l1, l2;
	struct timespec    a, b;

	(void)state;
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	port_base = 31000 + (getpid() % 1000) * 20;
	assert_int_equal(pipe(pipefd), 0);
	for (i = 1; i < NRANKS; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			close(pipefd[0]);
			alarm(150);
			rc = join(i);
			if (rc != 0)
				_exit(rc);
			c = 'r';
			if (write(pipefd[1], &c, 1) != 1)
				_exit(20);
			for (;;) {
				crt_progress(ctx, 100 * 1000);
				run_deferred();
			}
		}
	}
	atexit(kill_all);
	alarm(200);
	close(pipefd[1]);
	assert_int_equal(join(0), 0);
	for (i = 1; i < NRANKS; i++)
		assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);

	/* the header's helper lists the event first: its values are mode 1, event 1 */
	assert_int_equal(macro.ivs_mode, CRT_IV_SYNC_EAGER);
	assert_int_equal(macro.ivs_event, CRT_IV_SYNC_EVENT_UPDATE);

	/* namespace bookkeeping */
	assert_int_equal(crt_iv_namespace_id_get(ns, &id), 0);
	assert_int_equal(id, NSID);
	assert_int_equal(crt_iv_namespace_priv_get(ns, &priv), 0);
	assert_null(priv);
	assert_int_equal(crt_iv_namespace_priv_set(ns, &destroyed), 0);
	assert_int_equal(crt_iv_namespace_priv_get(ns, &priv), 0);
	assert_ptr_equal(priv, &destroyed);
	assert_int_equal(crt_iv_namespace_priv_get(ns, NULL), -DER_INVAL);
	assert_int_equal(crt_iv_namespace_id_get(NULL, &id), -DER_INVAL);
	assert_int_equal(crt_iv_namespace_create(ctx, NULL, 0, &iv_class, 1, 9, NULL), -DER_INVAL);
	assert_int_equal(crt_iv_fetch(ns, 0, NULL, NULL, 0, local_comp, &l1), -DER_INVAL);
	key = 3;
	d_iov_set(&kiov, &key, sizeof(key));
	assert_int_equal(crt_iv_fetch(ns, 7, &kiov, NULL, 0, local_comp, &l1), -DER_INVAL);
	memset(&l1, 0, sizeof(l1));
	assert_int_equal(crt_iv_update(ns, 0, &kiov, NULL, NULL, 0, eager, local_comp, &l1),
			 -DER_INVAL);
	assert_int_equal(l1.calls, 1);
	assert_int_equal(l1.rc, -DER_INVAL);
	/* bidirectional sync needs mode NONE: refused before anything runs */
	memset(&l1, 0, sizeof(l1));
	assert_int_equal(crt_iv_invalidate(ns, 0, &kiov, NULL, 0, bad_bidir, local_comp, &l1),
			 -DER_INVAL);
	assert_int_equal(l1.calls, 0);

	/* a fetch at the root is local: the completion runs inside the call */
	memset(&l1, 0, sizeof(l1));
	key = 0;
	assert_int_equal(crt_iv_fetch(ns, 0, &kiov, NULL, 0, local_comp, &l1), 0);
	assert_int_equal(l1.calls, 1);
	assert_int_equal(l1.rc, 0);
	assert_int_equal(l1.val, 1000);

	/* fetch from a leaf: up the k-nomial tree to root 2, every rank on the way caches it */
	npath = 0;
	for (r = 5; r != 2; r = parent_of(r, 2))
		path[npath++] = r;
	assert_true(npath >= 2); /* 5 -> 4 -> 2 */
	for (r = 0; r < NRANKS; r++)
		before[r] = query_any(r, 2).o_pre_fetch;
	assert_int_equal(run(5, OP_FETCH, 2, 0, 0, none, CRT_IV_SHORTCUT_NONE, &out), 0);
	assert_int_equal(out.o_val, 1002);
	for (r = 0; r < NRANKS; r++) {
		int on_path = r == 2;

		for (i = 0; i < (int)npath; i++)
			on_path |= path[i] == r;
		o2 = query_any(r, 2);
		assert_int_equal(o2.o_valid, on_path);
		if (on_path)
			assert_int_equal(o2.o_val, 1002);
		/* the handler went through ivo_pre_fetch on every rank the RPC reached */
		assert_int_equal(o2.o_pre_fetch - before[r], on_path && r != 5 ? 1 : 0);
	}
	/* the replies went through the engine's iv_resp_cb */
	assert_true(query(5, 2).o_resp_task >= 1);

	/* shortcut to the root: only the leaf and the root */
	assert_int_equal(run(6, OP_FETCH, 3, 0, 0, none, CRT_IV_SHORTCUT_TO_ROOT, &out), 0);
	assert_int_equal(out.o_val, 1003);
	assert_int_equal(query(6, 3).o_valid, 1);
	r = parent_of(6, 3);
	assert_true(r != 3);
	assert_int_equal(query_any(r, 3).o_valid, 0);

	/* update from a non-root rank, EAGER: every rank holds it when the update completes */
	assert_int_equal(run(4, OP_UPDATE, 1, 7001, 8, eager, CRT_IV_SHORTCUT_NONE, &out), 0);
	for (r = 0; r < NRANKS; r++) {
		o2 = query_any(r, 1);
		assert_int_equal(o2.o_valid, 1);
		assert_int_equal(o2.o_val, 7001);
	}
	/* as upstream, a forwarded update reaches the root's on_update without CRT_IV_FLAG_ROOT
	 * (only crt_iv_update called at the root sets it, checked below); the sync went
	 * through ivo_pre_refresh */
	assert_int_equal(query(1, 1).o_upd_flags, 0);
	assert_int_equal(query(4, 1).o_upd_flags, 0);
	assert_true(query(7, 1).o_pre_refresh >= 1);

	/* LAZY: completes first, every rank has it shortly after */
	assert_int_equal(run(7, OP_UPDATE, 1, 7002, 8, lazy, CRT_IV_SHORTCUT_NONE, &out), 0);
	for (r = 0; r < NRANKS; r++) {
		for (i = 0; i < 100; i++) {
			o2 = query_any(r, 1);
			if (o2.o_val == 7002)
				break;
			crt_progress(ctx, 20 * 1000);
		}
		assert_int_equal(o2.o_val, 7002);
	}

	/* NONE: only the root stores it */
	assert_int_equal(run(6, OP_UPDATE, 1, 7003, 8, none, CRT_IV_SHORTCUT_TO_ROOT, &out), 0);
	for (r = 0; r < NRANKS; r++)
		assert_int_equal(query_any(r, 1).o_val, r == 1 ? 7003 : 7002);

	/* NOTIFY: every rank is told (on_refresh without a value), none stores */
	for (r = 0; r < NRANKS; r++)
		before[r] = query_any(r, 1).o_notify;
	assert_int_equal(run(3, OP_UPDATE, 1, 7004, 8, notify, CRT_IV_SHORTCUT_NONE, &out), 0);
	for (r = 0; r < NRANKS; r++) {
		o2 = query_any(r, 1);
		assert_int_equal(o2.o_notify - before[r], 1);
		assert_int_equal(o2.o_val, r == 1 ? 7004 : 7002);
	}

	/* an update at the root from rank 0 itself */
	memset(&l1, 0, sizeof(l1));
	key = 0;
	{
		uint64_t    v = 7100;
		d_iov_t     iov;
		d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};

		d_iov_set(&iov, &v, sizeof(v));
		assert_int_equal(crt_iv_update(ns, 0, &kiov, NULL, &sgl, 0, eager, local_comp, &l1), 0);
		wait_local(&l1);
	}
	assert_int_equal(l1.rc, 0);
	assert_int_equal(last_upd_flags, CRT_IV_FLAG_ROOT);
	for (r = 0; r < NRANKS; r++)
		assert_int_equal(query_any(r, 0).o_val, 7100);

	/* invalidate everywhere; then the root has nothing to give */
	assert_int_equal(run(3, OP_INVALIDATE, 1, 0, 0, eager, CRT_IV_SHORTCUT_NONE, &out), 0);
	for (r = 0; r < NRANKS; r++)
		assert_int_equal(query_any(r, 1).o_valid, 0);
	assert_int_equal(run(6, OP_FETCH, 1, 0, 0, none, CRT_IV_SHORTCUT_NONE, &out), -DER_NONEXIST);
	assert_true(out.o_refresh_err >= 1); /* the leaf's on_refresh saw the error */

	/* a value beyond the inline limit: bulk up to the root (NONE), then a bulk fetch back */
	assert_int_equal(run(2, OP_UPDATE, 7, 0xB16B00B5ULL, BIG, none, CRT_IV_SHORTCUT_NONE, &out),
			 0);
	o2 = query(7, 7);
	/* the value came by bulk: ivo_pre_update ran (and deferred) on the way and at the root */
	assert_int_equal(o2.o_pre_update, 1);
	assert_int_equal(query(parent_of(2, 7), 7).o_pre_update, 1);
	assert_int_equal(o2.o_len, BIG);
	assert_int_equal(o2.o_big_ok, 1);
	assert_int_equal(o2.o_val, 0xB16B00B5ULL);
	assert_int_equal(run(4, OP_FETCH, 7, 0, 0, none, CRT_IV_SHORTCUT_NONE, &out), 0);
	assert_int_equal(out.o_len, BIG);
	assert_int_equal(out.o_big_ok, 1);
	/* and synced everywhere (the sync carries it inline) */
	assert_int_equal(run(5, OP_UPDATE, 7, 0xFEEDULL, BIG, eager, CRT_IV_SHORTCUT_NONE, &out), 0);
	for (r = 0; r < NRANKS; r++) {
		o2 = query_any(r, 7);
		assert_int_equal(o2.o_len, BIG);
		assert_int_equal(o2.o_big_ok, 1);
		assert_int_equal(o2.o_val, 0xFEEDULL);
	}

	/* two fetches of one key at once: the second waits for the first's reply */
	memset(&l1, 0, sizeof(l1));
	memset(&l2, 0, sizeof(l2));
	key = 5;
	n   = n_pending_flag;
	assert_int_equal(crt_iv_fetch(ns, 0, &kiov, NULL, 0, local_comp, &l1), 0);
	assert_int_equal(crt_iv_fetch(ns, 0, &kiov, NULL, 0, local_comp, &l2), 0);
	wait_local(&l1);
	wait_local(&l2);
	assert_int_equal(l1.rc, 0);
	assert_int_equal(l2.rc, 0);
	assert_int_equal(l1.val, 1005);
	assert_int_equal(l2.val, 1005);
	assert_int_equal(n_pending_flag - n, 1);

	/* crt_iv_get_nchildren over each tree shape (rank 0's view, root = key % 8) */
	{
		int      topos[] = {crt_tree_topo(CRT_TREE_FLAT, 0), crt_tree_topo(CRT_TREE_KARY, 2),
				    crt_tree_topo(CRT_TREE_KNOMIAL, 2), crt_tree_topo(CRT_TREE_KNOMIAL, 4)};
		int      t;
		uint32_t want, got;

		for (t = 0; t < 4; t++) {
			assert_int_equal(crt_iv_namespace_create(ctx, NULL, topos[t], &iv_class, 1,
								 100 + t, &ns2),
					 0);
			for (key = 0; key < NKEYS; key++) {
				uint32_t ratio = (uint32_t)topos[t] & 0xffff;

				if (t == 0)
					assert_int_equal(crt_flat_get_children_cnt(NRANKS, 0, key, 0, &want), 0);
				else if (t == 1)
					assert_int_equal(crt_kary_get_children_cnt(NRANKS, ratio, key, 0, &want), 0);
				else
					assert_int_equal(crt_knomial_get_children_cnt(NRANKS, ratio, key, 0, &want),
							 0);
				assert_int_equal(crt_iv_get_nchildren(ns2, 0, &kiov, &got), 0);
				assert_int_equal(got, want);
			}
			assert_int_equal(crt_iv_get_nchildren(ns2, 0, NULL, &got), -DER_INVAL);
			assert_int_equal(crt_iv_get_nchildren(ns2, 3, &kiov, &got), -DER_INVAL);
			destroyed = 0;
			assert_int_equal(crt_iv_namespace_destroy(ns2, destroy_cb, &destroyed), 0);
			assert_int_equal(destroyed, 1);
			/* gone: unknown to every call, destroying again is a no-op */
			assert_int_equal(crt_iv_get_nchildren(ns2, 0, &kiov, &got), -DER_NONEXIST);
			assert_int_equal(crt_iv_fetch(ns2, 0, &kiov, NULL, 0, local_comp, &l1),
					 -DER_NONEXIST);
			assert_int_equal(crt_iv_namespace_destroy(ns2, destroy_cb, &destroyed), 0);
			assert_int_equal(destroyed, 1);
		}
		/* the flat tree: the root has everyone else */
		key = 0;
		assert_int_equal(crt_iv_get_nchildren(ns, 0, &kiov, &got), 0);
		assert_int_equal(got, 3); /* k-nomial 2 over 8: 1, 2, 4 */
		assert_int_equal(run(2, OP_NCHILDREN, 2, 0, 0, none, 0, &out), 0);
		assert_int_equal(out.o_nchildren, 3);
		assert_int_equal(run(2, OP_NCHILDREN, 3, 0, 0, none, 0, &out), 0);
		assert_int_equal(out.o_nchildren, 0); /* tree rank 7 under root 3: a leaf */
	}

	/* a namespace only rank 0 has: the remote end answers -DER_NONEXIST */
	assert_int_equal(crt_iv_namespace_create(ctx, NULL, crt_tree_topo(CRT_TREE_FLAT, 0),
						 &iv_class, 1, 99, &ns2),
			 0);
	memset(&l1, 0, sizeof(l1));
	key = 6;
	assert_int_equal(crt_iv_fetch(ns2, 0, &kiov, NULL, 0, local_comp, &l1), 0);
	wait_local(&l1);
	assert_int_equal(l1.rc, -DER_NONEXIST);
	assert_int_equal(crt_iv_namespace_destroy(ns2, NULL, NULL), 0);

	/* a stale group version here: the others refuse (-DER_GRPVER) */
	assert_int_equal(crt_group_version_set(NULL, 3), 0);
	memset(&l1, 0, sizeof(l1));
	key = 6;
	assert_int_equal(crt_iv_fetch(ns, 0, &kiov, NULL, CRT_IV_SHORTCUT_TO_ROOT, local_comp, &l1),
			 0);
	wait_local(&l1);
	assert_int_equal(l1.rc, -DER_GRPVER);
	memset(&l1, 0, sizeof(l1));
	{
		uint64_t    v = 1;
		d_iov_t     iov;
		d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};

		d_iov_set(&iov, &v, sizeof(v));
		assert_int_equal(crt_iv_update(ns, 0, &kiov, NULL, &sgl, 0, none, local_comp, &l1), 0);
		wait_local(&l1);
		assert_int_equal(l1.rc, -DER_GRPVER);
	}
	assert_int_equal(crt_group_version_set(NULL, 2), 0);
	assert_int_equal(query(6, 6).o_val, 1006); /* untouched */

	/* rank 6 dies: fetching its key fails within the timeout instead of hanging */
	kill(kids[6], SIGKILL);
	waitpid(kids[6], NULL, 0);
	kids[6] = 0;
	memset(&l1, 0, sizeof(l1));
	key = 6;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(crt_iv_fetch(ns, 0, &kiov, NULL, CRT_IV_SHORTCUT_TO_ROOT, local_comp, &l1),
			 0);
	wait_local(&l1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(l1.rc == -DER_TIMEDOUT || l1.rc == -DER_HG || l1.rc == -DER_UNREACH);
	assert_true(b.tv_sec - a.tv_sec < 10);
	/* through the tree from a leaf: the error comes back down to it */
	rc = run(3, OP_FETCH, 6, 0, 0, none, CRT_IV_SHORTCUT_NONE, &out);
	assert_true(rc == -DER_TIMEDOUT || rc == -DER_HG || rc == -DER_UNREACH);

	/* every on_get was matched by an on_put, on every rank still alive (once the forwarded
	 * fetches towards the dead rank have failed there too: a slow leaf may give up first) */
	for (r = 0; r < NRANKS; r++) {
		if (r == 6)
			continue;
		for (i = 0; i < 100; i++) {
			o2 = query_any(r, 0);
			if (o2.o_gets == o2.o_puts)
				break;
			crt_progress(ctx, 100 * 1000);
		}
		if (o2.o_gets != o2.o_puts)
			fprintf(stderr, "rank %u: %u gets, %u puts\n", r, o2.o_gets, o2.o_puts);
		assert_int_equal(o2.o_gets, o2.o_puts);
		assert_true(o2.o_gets > 0);
	}

	kill_all();
	destroyed = 0;
	assert_int_equal(crt_iv_namespace_destroy(ns, destroy_cb, &destroyed), 0);
	assert_int_equal(destroyed, 1);
	assert_int_equal(crt_context_destroy(ctx, 1), 0);
	assert_int_equal(crt_finalize(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iv),
	};

	return cmocka_run_group_tests_name("cart iv", tests, NULL, NULL);
}
