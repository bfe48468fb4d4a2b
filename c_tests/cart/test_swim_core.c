/*
 * SWIM's core through libcart's C API (cart/swim.h): callbacks NULL or missing, the update
 * rules (ALIVE/SUSPECT/DEAD with incarnations), refutation with and without a new_incarnation
 * callback (NULL must not crash), updates_prepare/short arrays on the libc heap, indirect-ping
 * requests and their replies (at fini too), the tunables with their defaults and environment
 * overrides, and a live 5-member group in this process on real time: a member that stops
 * answering is DEAD everywhere, one that stalls and comes back refutes and is ALIVE again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <daos_errno.h>
#include <cart/swim.h>

/* upstream declares these in its internal swim_internal.h */
void     swim_period_set(uint64_t val);
uint64_t swim_period_get(void);
void     swim_suspect_timeout_set(uint64_t val);
uint64_t swim_suspect_timeout_get(void);
void     swim_ping_timeout_set(uint64_t val);
uint64_t swim_ping_timeout_get(void);

#define N 5

struct sent {
	swim_id_t id, to;
	size_t    n;
	struct swim_member_update upds[16];
};

struct world {
	struct swim_context     *ctx[N];
	struct swim_member_state st[N][N];
	int                      down[N];  /* 1: answers nothing */
	int                      live;     /* deliver requests at once */
	int                      nsent;
	struct sent              sent[64];
	int                      nreplies;
	swim_id_t                reply_from[16], reply_to[16];
	int                      reply_rc[16];
	void                    *reply_args[16];
	swim_id_t                rr[N];
	uint64_t                 inc_value; /* what new_incarnation gives */
	int                      inc_calls;
};

static struct world w;

static swim_id_t
me(struct swim_context *ctx)
{
	struct world *d = swim_data(ctx);

	assert_ptr_equal(d, &w);
	return swim_self_get(ctx);
}

static int
t_send_request(struct swim_context *ctx, swim_id_t id, swim_id_t to,
	       struct swim_member_update *upds, size_t nupds)
{
	swim_id_t from = me(ctx);

	if (w.nsent < 64) {
		struct sent *s = &w.sent[w.nsent++];

		s->id = id;
		s->to = to;
		s->n  = nupds < 16 ? nupds : 16;
		memcpy(s->upds, upds, s->n * sizeof(*upds));
	}
	if (w.live && !w.down[to] && !w.down[from]) {
		struct swim_member_update *rep = NULL;
		size_t                     nrep = 0;

		/* as crt_swim: the receiver applies, answers a ping with its view */
		swim_updates_parse(w.ctx[to], from, from, upds, nupds);
		if (id == to && swim_updates_prepare(w.ctx[to], from, from, &rep, &nrep) == 0) {
			swim_updates_parse(ctx, to, to, rep, nrep);
			free(rep);
		}
		/* indirect requests: the helper pings the target on its own, synchronously */
		if (id != to && !w.down[id]) {
			if (swim_updates_prepare(w.ctx[id], id, id, &rep, &nrep) == 0) {
				swim_updates_parse(ctx, to, id, rep, nrep);
				free(rep);
			}
		}
	}
	free(upds); /* taken on success, as upstream's callers do */
	return 0;
}

static int
t_send_reply(struct swim_context *ctx, swim_id_t from, swim_id_t to, int rc, void *args)
{
	(void)ctx;
	if (w.nreplies < 16) {
		w.reply_from[w.nreplies] = from;
		w.reply_to[w.nreplies]   = to;
		w.reply_rc[w.nreplies]   = rc;
		w.reply_args[w.nreplies] = args;
		w.nreplies++;
	}
	return 0;
}

static swim_id_t
next(struct swim_context *ctx, int alive_only)
{
	swim_id_t self = me(ctx);
	int       i;

	for (i = 0; i <= N; i++) {
		swim_id_t id = (w.rr[self] = (w.rr[self] + 1) % N);

		if (id == self)
			continue;
		if (alive_only ? w.st[self][id].sms_status == SWIM_MEMBER_ALIVE
			       : w.st[self][id].sms_status != SWIM_MEMBER_DEAD)
			return id;
	}
	return SWIM_ID_INVALID;
}

static swim_id_t
t_dping(struct swim_context *ctx)
{
	return next(ctx, 0);
}

static swim_id_t
t_iping(struct swim_context *ctx)
{
	return next(ctx, 1);
}

static int
t_get(struct swim_context *ctx, swim_id_t id, struct swim_member_state *state)
{
	if (id >= N)
		return -DER_NONEXIST;
	*state = w.st[me(ctx)][id];
	return 0;
}

static int
t_set(struct swim_context *ctx, swim_id_t id, struct swim_member_state *state)
{
	if (id >= N)
		return -DER_NONEXIST;
	w.st[me(ctx)][id] = *state;
	return 0;
}

static void
t_new_inc(struct swim_context *ctx, swim_id_t id, struct swim_member_state *state)
{
	assert_int_equal(id, me(ctx));
	w.inc_calls++;
	/* like crt_swim's HLC: always above the last one */
	state->sms_incarnation = w.inc_value++;
}

/* as upstream's test_swim: no new_incarnation */
static struct swim_ops ops_null_inc = {
	.send_request     = t_send_request,
	.send_reply       = t_send_reply,
	.get_dping_target = t_dping,
	.get_iping_target = t_iping,
	.get_member_state = t_get,
	.set_member_state = t_set,
};

static struct swim_ops ops_inc = {
	.send_request     = t_send_request,
	.send_reply       = t_send_reply,
	.get_dping_target = t_dping,
	.get_iping_target = t_iping,
	.get_member_state = t_get,
	.set_member_state = t_set,
	.new_incarnation  = t_new_inc,
};

static void
reset_world(void)
{
	memset(&w, 0, sizeof(w));
}

static struct swim_member_update
upd(swim_id_t id, uint64_t inc, enum swim_member_status s)
{
	struct swim_member_update u = {.smu_id = id};

	u.smu_state.sms_incarnation = inc;
	u.smu_state.sms_status      = s;
	return u;
}

static void
test_init_args(void **state)
{
	struct swim_ops      o = ops_null_inc;
	struct swim_context *ctx;

	(void)state;
	reset_world();
	assert_null(swim_init(0, NULL, &w));
	o.get_member_state = NULL;
	assert_null(swim_init(0, &o, &w));
	o = ops_null_inc;
	o.send_request = NULL;
	assert_null(swim_init(0, &o, &w));

	ctx = swim_init(2, &ops_null_inc, &w);
	assert_non_null(ctx);
	assert_ptr_equal(swim_data(ctx), &w);
	assert_int_equal(swim_self_get(ctx), 2);
	swim_self_set(ctx, 3);
	assert_int_equal(swim_self_get(ctx), 3);
	swim_self_set(ctx, SWIM_ID_INVALID);
	/* not started: progress and parse do nothing */
	assert_int_equal(swim_progress(ctx, 0), 0);
	assert_int_equal(w.nsent, 0);
	swim_fini(ctx);

	/* NULL contexts */
	assert_null(swim_data(NULL));
	assert_int_equal(swim_self_get(NULL), SWIM_ID_INVALID);
	swim_self_set(NULL, 1);
	assert_int_equal(swim_progress(NULL, 0), -DER_INVAL);
	assert_int_equal(swim_updates_send(NULL, 1, 1), -DER_INVAL);
	assert_int_equal(swim_net_glitch_update(NULL, 1, 5), -DER_INVAL);
	swim_member_del(NULL, 1);
	swim_fini(NULL);
}

static void
test_tunables(void **state)
{
	struct swim_context *ctx;

	(void)state;
	reset_world();
	unsetenv("SWIM_PROTOCOL_PERIOD_LEN");
	unsetenv("SWIM_SUSPECT_TIMEOUT");
	unsetenv("SWIM_PING_TIMEOUT");
	ctx = swim_init(0, &ops_null_inc, &w);
	assert_int_equal(swim_period_get(), 1000);
	assert_int_equal(swim_suspect_timeout_get(), 20000);
	assert_int_equal(swim_ping_timeout_get(), 900);
	swim_period_set(3000);
	swim_suspect_timeout_set(7);
	swim_ping_timeout_set(8);
	assert_int_equal(swim_period_get(), 3000);
	assert_int_equal(swim_suspect_timeout_get(), 7);
	assert_int_equal(swim_ping_timeout_get(), 8);
	swim_fini(ctx);

	/* each swim_init resets them from the environment; bad values keep the default */
	setenv("SWIM_PROTOCOL_PERIOD_LEN", "250", 1);
	setenv("SWIM_SUSPECT_TIMEOUT", "5000", 1);
	setenv("SWIM_PING_TIMEOUT", "12ms", 1);
	ctx = swim_init(0, &ops_null_inc, &w);
	assert_int_equal(swim_period_get(), 250);
	assert_int_equal(swim_suspect_timeout_get(), 5000);
	assert_int_equal(swim_ping_timeout_get(), 900);
	swim_fini(ctx);
	unsetenv("SWIM_PROTOCOL_PERIOD_LEN");
	unsetenv("SWIM_SUSPECT_TIMEOUT");
	unsetenv("SWIM_PING_TIMEOUT");
}

static void
init_table(enum swim_member_status s)
{
	int i, j;

	for (i = 0; i < N; i++)
		for (j = 0; j < N; j++)
			w.st[i][j].sms_status = s;
}

static void
test_rules_and_refute(void **state)
{
	struct swim_context       *ctx;
	struct swim_member_update  u[2];
	struct swim_member_update *out = NULL;
	size_t                     n   = 0;

	(void)state;
	reset_world();
	init_table(SWIM_MEMBER_ALIVE);
	ctx = swim_init(0, &ops_null_inc, &w);

	u[0] = upd(2, 0, SWIM_MEMBER_SUSPECT);
	assert_int_equal(swim_updates_parse(ctx, 1, 1, u, 1), 0);
	assert_int_equal(w.st[0][2].sms_status, SWIM_MEMBER_SUSPECT);
	u[0] = upd(2, 0, SWIM_MEMBER_ALIVE); /* same incarnation: no */
	swim_updates_parse(ctx, 1, 1, u, 1);
	assert_int_equal(w.st[0][2].sms_status, SWIM_MEMBER_SUSPECT);
	u[0] = upd(2, 3, SWIM_MEMBER_ALIVE); /* refuted */
	swim_updates_parse(ctx, 1, 1, u, 1);
	assert_int_equal(w.st[0][2].sms_status, SWIM_MEMBER_ALIVE);
	assert_int_equal(w.st[0][2].sms_incarnation, 3);
	u[0] = upd(2, 3, SWIM_MEMBER_DEAD);
	swim_updates_parse(ctx, 1, 1, u, 1);
	assert_int_equal(w.st[0][2].sms_status, SWIM_MEMBER_DEAD);

	/* a suspicion of self without new_incarnation: next incarnation, no crash */
	u[0] = upd(0, 4, SWIM_MEMBER_SUSPECT);
	assert_int_equal(swim_updates_parse(ctx, 1, 1, u, 1), 0);
	assert_int_equal(w.st[0][0].sms_status, SWIM_MEMBER_ALIVE);
	assert_int_equal(w.st[0][0].sms_incarnation, 5);

	/* the news rides on the next message: target, self, then the changes */
	assert_int_equal(swim_updates_prepare(ctx, 1, 1, &out, &n), 0);
	assert_true(n >= 3);
	assert_int_equal(out[0].smu_id, 1);
	assert_int_equal(out[1].smu_id, 0);
	assert_int_equal(out[1].smu_state.sms_incarnation, 5);
	free(out);
	assert_int_equal(swim_updates_prepare(ctx, SWIM_ID_INVALID, 1, &out, &n), -DER_INVAL);
	assert_int_equal(swim_updates_prepare(ctx, 1, 1, NULL, &n), -DER_INVAL);
	assert_int_equal(swim_updates_prepare(ctx, 9, 9, &out, &n), -DER_NONEXIST);
	assert_int_equal(swim_updates_parse(ctx, 1, 1, NULL, 3), -DER_INVAL);

	/* updates from an unknown member: only about self; upstream reports -DER_NONEXIST */
	u[0] = upd(3, 0, SWIM_MEMBER_DEAD);
	assert_int_equal(swim_updates_parse(ctx, 42, 42, u, 1), -DER_NONEXIST);
	assert_int_equal(w.st[0][3].sms_status, SWIM_MEMBER_ALIVE);

	/* updates_short: the answer of a member not started yet */
	u[0] = upd(4, 10, SWIM_MEMBER_SUSPECT);
	u[1] = upd(1, 2, SWIM_MEMBER_SUSPECT);
	assert_int_equal(swim_updates_short(ctx, 4, 10, 1, 1, u, 2, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].smu_id, 4);
	assert_int_equal(out[0].smu_state.sms_status, SWIM_MEMBER_ALIVE);
	assert_int_equal(out[0].smu_state.sms_incarnation, 11);
	assert_int_equal(out[1].smu_id, 1);
	assert_int_equal(out[1].smu_state.sms_status, SWIM_MEMBER_ALIVE);
	assert_int_equal(out[1].smu_state.sms_incarnation, 2);
	free(out);

	/* member_del / member_reset forget a suspicion */
	u[0] = upd(1, 0, SWIM_MEMBER_SUSPECT);
	swim_updates_parse(ctx, 3, 3, u, 1);
	swim_member_reset(ctx, 1);
	swim_fini(ctx);

	/* with the callback: its incarnation */
	reset_world();
	init_table(SWIM_MEMBER_ALIVE);
	w.inc_value = 1000;
	ctx = swim_init(0, &ops_inc, &w);
	u[0] = upd(0, 0, SWIM_MEMBER_DEAD);
	swim_updates_parse(ctx, 1, 1, u, 1);
	assert_int_equal(w.inc_calls, 1);
	assert_int_equal(w.st[0][0].sms_incarnation, 1000);
	assert_int_equal(w.st[0][0].sms_status, SWIM_MEMBER_ALIVE);
	swim_fini(ctx);
}

static void
test_ipings(void **state)
{
	struct swim_context *ctx;
	int                  a1, a2, a3;

	(void)state;
	reset_world();
	init_table(SWIM_MEMBER_ALIVE);
	ctx = swim_init(0, &ops_null_inc, &w);
	assert_int_equal(swim_ipings_suspend(ctx, 1, 3, &a1), 0);
	assert_int_equal(swim_ipings_suspend(ctx, 2, 3, &a2), -DER_ALREADY);
	assert_int_equal(swim_ipings_suspend(ctx, 1, 4, &a3), 0);
	assert_int_equal(swim_ipings_reply(ctx, 3, 0), 0);
	assert_int_equal(w.nreplies, 2);
	assert_int_equal(w.reply_from[0], 3);
	assert_int_equal(w.reply_to[0], 1);
	assert_ptr_equal(w.reply_args[0], &a1);
	assert_int_equal(w.reply_to[1], 2);
	assert_ptr_equal(w.reply_args[1], &a2);
	assert_int_equal(w.reply_rc[1], 0);
	/* the one left is answered -DER_TIMEDOUT at fini */
	swim_fini(ctx);
	assert_int_equal(w.nreplies, 3);
	assert_int_equal(w.reply_from[2], 4);
	assert_int_equal(w.reply_rc[2], -DER_TIMEDOUT);
	assert_ptr_equal(w.reply_args[2], &a3);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs every member that is up for ms milliseconds of real time. */
static void
run(uint64_t ms)
{
	uint64_t end = now_ms() + ms;
	int      i;

	while (now_ms() < end) {
		for (i = 0; i < N; i++)
			if (!w.down[i])
				swim_progress(w.ctx[i], 0);
		usleep(2000);
	}
}

static void
live_group(struct swim_ops *ops)
{
	uint64_t t0;
	int      i, all;

	reset_world();
	init_table(SWIM_MEMBER_ALIVE);
	w.live      = 1;
	w.inc_value = 77;
	setenv("SWIM_PROTOCOL_PERIOD_LEN", "100", 1);
	setenv("SWIM_PING_TIMEOUT", "30", 1);
	setenv("SWIM_SUSPECT_TIMEOUT", "1000", 1);
	for (i = 0; i < N; i++) {
		w.ctx[i] = swim_init(i, ops, &w);
		assert_non_null(w.ctx[i]);
	}
	unsetenv("SWIM_PROTOCOL_PERIOD_LEN");
	unsetenv("SWIM_PING_TIMEOUT");
	unsetenv("SWIM_SUSPECT_TIMEOUT");
	run(800);
	for (i = 0; i < N; i++)
		assert_int_equal(w.st[i][(i + 1) % N].sms_status, SWIM_MEMBER_ALIVE);

	/* member 2 stalls (no progress, no answers) for less than the suspicion timeout */
	w.down[2] = 1;
	run(400);
	all = 0;
	for (i = 0; i < N; i++)
		all += w.st[i][2].sms_status == SWIM_MEMBER_SUSPECT;
	assert_true(all > 0);
	w.down[2] = 0;
	run(1500);
	for (i = 0; i < N; i++) {
		assert_int_equal(w.st[i][2].sms_status, SWIM_MEMBER_ALIVE);
		assert_true(w.st[i][2].sms_incarnation > 0);
	}

	/* member 4 dies: DEAD on every other member within suspicion + a few rounds */
	w.down[4] = 1;
	t0 = now_ms();
	do {
		run(20);
		all = 1;
		for (i = 0; i < 4; i++)
			all &= w.st[i][4].sms_status == SWIM_MEMBER_DEAD;
	} while (!all && now_ms() - t0 < 15000);
	assert_true(all);
	assert_true(now_ms() - t0 >= 1000);
	for (i = 0; i < 4; i++)
		assert_int_equal(w.st[i][(i + 1) % 4].sms_status, SWIM_MEMBER_ALIVE);
	for (i = 0; i < N; i++)
		swim_fini(w.ctx[i]);
}

static void
test_live_null_new_incarnation(void **state)
{
	(void)state;
	live_group(&ops_null_inc);
	assert_int_equal(w.inc_calls, 0);
}

static void
test_live_new_incarnation(void **state)
{
	(void)state;
	live_group(&ops_inc);
	assert_true(w.inc_calls > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_args),
	    cmocka_unit_test(test_tunables),
	    cmocka_unit_test(test_rules_and_refute),
	    cmocka_unit_test(test_ipings),
	    cmocka_unit_test(test_live_null_new_incarnation),
	    cmocka_unit_test(test_live_new_incarnation),
	};

	return cmocka_run_group_tests_name("cart_swim_core", tests, NULL, NULL);
}
