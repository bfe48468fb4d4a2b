/*
 * SWIM over CaRT between NRANKS processes on loopback (ofi+tcp on lo), through libcart's
 * exports only. Each process is a server: two contexts (SWIM runs on context 1, upstream's
 * default), crt_rank_self_set, then crt_group_primary_modify(ADD) of every rank as
 * daos_server's group update does. Events reach the parent through a pipe.
 *
 *  1. Everyone settles: no DEAD event anywhere; crt_rank_state_get sees every rank ALIVE.
 *  2. One process is stopped (SIGSTOP) for longer than the ping timeout but well within the
 *     suspicion timeout (half of it), then continued: nobody declares it DEAD, it declares nobody DEAD, and
 *     it comes back ALIVE with a new incarnation (it refutes the suspicion).
 *  3. One process is killed (SIGKILL): every survivor gets CRT_EVS_SWIM/CRT_EVT_DEAD for it
 *     within the bound computed from the protocol period, ping and suspicion timeouts.
 * The timeouts are shortened through SWIM_PROTOCOL_PERIOD_LEN, SWIM_PING_TIMEOUT and
 * SWIM_SUSPECT_TIMEOUT. Bounded by alarm(); every child is reaped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <cart/api.h>
#include <cart/swim.h>
#include <valgrind/valgrind.h>

#define NRANKS     5
/* under valgrind everything runs several times slower: so do SWIM's clocks */
#define SLOW       (RUNNING_ON_VALGRIND ? 8 : 1)
#define PERIOD_MS  (200 * SLOW)
#define PING_MS    (150 * SLOW)
#define SUSPECT_MS (3000 * SLOW)
#define STOPPED    3 /* the rank suspended */
#define VICTIM     4 /* the rank killed */

enum { M_READY = 1, M_EVENT, M_STATE };

struct msg {
	uint32_t kind;
	uint32_t from;    /* reporting rank */
	uint32_t rank;    /* subject */
	uint32_t src;     /* crt_event_source */
	uint32_t type;    /* crt_event_type, or swim status for M_STATE */
	uint32_t pad;
	uint64_t inc;
	uint64_t t_ms;    /* CLOCK_MONOTONIC */
};

static int                   port_base;
static int                   wfd;
static d_rank_t              me;
static volatile sig_atomic_t stop;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
send_msg(uint32_t kind, uint32_t rank, uint32_t src, uint32_t type, uint64_t inc)
{
	struct msg m = {kind, me, rank, src, type, 0, inc, now_ms()};

	if (write(wfd, &m, sizeof(m)) != sizeof(m))
		_exit(40);
}

static void
on_event(d_rank_t rank, uint64_t inc, enum crt_event_source src, enum crt_event_type type,
	 void *arg)
{
	(void)arg;
	send_msg(M_EVENT, rank, src, type, inc);
}

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
child(d_rank_t rank)
{
	crt_context_t  ctx[2];
	d_rank_t       ranks[NRANKS];
	uint64_t       incs[NRANKS];
	char           urib[NRANKS][64];
	char          *uris[NRANKS];
	d_rank_list_t  rl = {ranks, NRANKS};
	char           port[16];
	uint64_t       inc, last_state = 0;
	crt_group_t   *primary;
	struct swim_member_state st;
	int            i, rc;

	me = rank;
	signal(SIGTERM, on_term);
	snprintf(port, sizeof(port), "%d", port_base + 10 * (int)rank);
	setenv("D_PORT", port, 1);
	if (crt_init("swim_srv", CRT_FLAG_BIT_SERVER) != 0)
		return 10;
	if (crt_context_create(&ctx[0]) != 0 || crt_context_create(&ctx[1]) != 0)
		return 11;
	if (crt_self_incarnation_get(&inc) != 0 || inc == 0)
		return 12;
	if (crt_register_event_cb(on_event, NULL) != 0)
		return 13;
	if (crt_rank_self_set(rank, 1) != 0)
		return 14;
	primary = crt_group_lookup(NULL);
	if (primary == NULL)
		return 18;
	/* bad arguments, and a rank SWIM does not know yet */
	if (crt_rank_state_get(NULL, 0, &st) != -DER_INVAL ||
	    crt_rank_state_get(primary, 0, NULL) != -DER_INVAL ||
	    crt_rank_state_get(primary, CRT_NO_RANK, &st) != -DER_INVAL ||
	    crt_rank_state_get(primary, 77, &st) != -DER_NONEXIST ||
	    crt_self_incarnation_get(NULL) != -DER_INVAL)
		return 19;
	for (i = 0; i < NRANKS; i++) {
		ranks[i] = i;
		incs[i]  = 0;
		snprintf(urib[i], sizeof(urib[i]), "ofi+tcp://127.0.0.1:%d", port_base + 10 * i);
		uris[i] = urib[i];
	}
	rc = crt_group_primary_modify(NULL, ctx, 2, &rl, incs, uris, CRT_GROUP_MOD_OP_ADD, 2);
	if (rc != 0)
		return 15;
	/* SWIM's table follows the group: every rank ALIVE, this one with its own incarnation */
	for (i = 0; i < NRANKS; i++)
		if (crt_rank_state_get(primary, i, &st) != 0 || st.sms_status != SWIM_MEMBER_ALIVE)
			return 20;
	if (crt_rank_state_get(primary, rank, &st) != 0 || st.sms_incarnation != inc)
		return 21;
	send_msg(M_READY, rank, 0, 0, inc);
	while (!stop) {
		crt_progress(ctx[0], 1000);
		crt_progress(ctx[1], 10 * 1000);
		if (now_ms() - last_state > 500) { /* the states as crt_rank_state_get sees them */
			last_state = now_ms();
			for (i = 0; i < NRANKS; i++)
				if (crt_rank_state_get(primary, i, &st) == 0)
					send_msg(M_STATE, i, 0, st.sms_status, st.sms_incarnation);
		}
	}
	if (crt_context_destroy(ctx[0], 1) != 0 || crt_context_destroy(ctx[1], 1) != 0)
		return 16;
	return crt_finalize() == 0 ? 0 : 17;
}

/* What the parent has heard. */
static uint64_t ready_inc[NRANKS];
static int      nready;
static uint64_t dead_at[NRANKS][NRANKS];   /* [reporter][subject]: first DEAD, ms */
static uint64_t alive_inc[NRANKS][NRANKS]; /* latest ALIVE incarnation */
static uint32_t state_of[NRANKS][NRANKS];  /* latest crt_rank_state_get status */
static int      nstate[NRANKS];
static int      suspected[NRANKS]; /* seen SUSPECT by someone */

static void
pump(int fd, int ms)
{
	uint64_t end = now_ms() + ms;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		uint64_t      t = now_ms();
		struct msg    m;
		ssize_t       n;

		if (t >= end)
			return;
		if (poll(&p, 1, (int)(end - t)) <= 0)
			continue;
		n = read(fd, &m, sizeof(m));
		if (n != sizeof(m))
			continue;
		assert_true(m.from < NRANKS && m.rank < NRANKS);
		switch (m.kind) {
		case M_READY:
			ready_inc[m.from] = m.inc;
			nready++;
			break;
		case M_EVENT:
			if (m.src != CRT_EVS_SWIM)
				break;
			if (m.type == CRT_EVT_DEAD && dead_at[m.from][m.rank] == 0)
				dead_at[m.from][m.rank] = m.t_ms;
			if (m.type == CRT_EVT_ALIVE && m.inc > alive_inc[m.from][m.rank])
				alive_inc[m.from][m.rank] = m.inc;
			break;
		case M_STATE:
			state_of[m.from][m.rank] = m.type;
			if (m.type == SWIM_MEMBER_SUSPECT)
				suspected[m.rank] = 1;
			nstate[m.from]++;
			break;
		}
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_swim_kill_and_stop(void **state)
{
	pid_t    pid[NRANKS];
	int      fds[2];
	int      i, j, status;
	uint64_t t_kill, bound, lat[NRANKS], worst = 0;
	int      nlat = 0;
	char     v[16];

	(void)state;
	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	snprintf(v, sizeof(v), "%d", PERIOD_MS);
	setenv("SWIM_PROTOCOL_PERIOD_LEN", v, 1);
	snprintf(v, sizeof(v), "%d", PING_MS);
	setenv("SWIM_PING_TIMEOUT", v, 1);
	snprintf(v, sizeof(v), "%d", SUSPECT_MS);
	setenv("SWIM_SUSPECT_TIMEOUT", v, 1);
	port_base = 24000 + (getpid() % 15000);
	assert_int_equal(pipe(fds), 0);
	for (i = 0; i < NRANKS; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			close(fds[0]);
			wfd = fds[1];
			alarm(60 * SLOW);
			_exit(child(i));
		}
	}
	close(fds[1]);
	alarm(90 * SLOW);

	/* 1. everyone up and settled */
	for (i = 0; i < 100 * SLOW && nready < NRANKS; i++)
		pump(fds[0], 100);
	assert_int_equal(nready, NRANKS);
	pump(fds[0], 10 * PERIOD_MS + 1000);
	for (i = 0; i < NRANKS; i++) {
		assert_true(nstate[i] > 0);
		for (j = 0; j < NRANKS; j++) {
			assert_int_equal(dead_at[i][j], 0);
			assert_int_equal(state_of[i][j], SWIM_MEMBER_ALIVE);
		}
	}

	/* 2. a stall longer than the ping timeout, shorter than the suspicion timeout */
	assert_int_equal(kill(pid[STOPPED], SIGSTOP), 0);
	pump(fds[0], SUSPECT_MS / 2);
	assert_int_equal(kill(pid[STOPPED], SIGCONT), 0);
	pump(fds[0], SUSPECT_MS + 10 * PERIOD_MS);
	for (i = 0; i < NRANKS; i++)
		for (j = 0; j < NRANKS; j++)
			assert_int_equal(dead_at[i][j], 0); /* no false DEAD, either side */
	for (i = 0, j = 0; i < NRANKS; i++)
		if (i != STOPPED && alive_inc[i][STOPPED] > ready_inc[STOPPED])
			j++;
	print_message("stopped rank %d (%s): %d/%d survivors saw it ALIVE again with a new "
		      "incarnation\n", STOPPED, suspected[STOPPED] ? "suspected" : "not seen suspected",
		      j, NRANKS - 1);
	/* a member suspected refutes with a new incarnation, which reaches everyone */
	if (suspected[STOPPED])
		assert_int_equal(j, NRANKS - 1);
	for (i = 0; i < NRANKS; i++)
		assert_int_equal(state_of[i][STOPPED], SWIM_MEMBER_ALIVE);

	/* 3. a death: DEAD on every survivor within the bound */
	bound = SUSPECT_MS + 3 * PING_MS + (2 * NRANKS + 4) * PERIOD_MS + 1000;
	assert_int_equal(kill(pid[VICTIM], SIGKILL), 0);
	t_kill = now_ms();
	assert_int_equal(waitpid(pid[VICTIM], &status, 0), pid[VICTIM]);
	while (now_ms() - t_kill < bound) {
		int all = 1;

		pump(fds[0], 100);
		for (i = 0; i < NRANKS; i++)
			if (i != VICTIM && dead_at[i][VICTIM] == 0)
				all = 0;
		if (all)
			break;
	}
	for (i = 0; i < NRANKS; i++) {
		if (i == VICTIM)
			continue;
		assert_true(dead_at[i][VICTIM] != 0);
		lat[nlat] = dead_at[i][VICTIM] - t_kill;
		if (lat[nlat] > worst)
			worst = lat[nlat];
		nlat++;
		for (j = 0; j < NRANKS; j++)
			if (j != VICTIM)
				assert_int_equal(dead_at[i][j], 0);
	}
	qsort(lat, nlat, sizeof(lat[0]), cmp_u64);
	print_message("death -> DEAD: median %lu ms, all survivors %lu ms (bound %lu ms)\n",
		      (unsigned long)lat[nlat / 2], (unsigned long)worst, (unsigned long)bound);
	assert_true(worst <= bound);
	pump(fds[0], 600 * SLOW);
	for (i = 0; i < NRANKS; i++)
		if (i != VICTIM)
			assert_int_equal(state_of[i][VICTIM], SWIM_MEMBER_DEAD);

	/* no process left behind */
	for (i = 0; i < NRANKS; i++)
		if (i != VICTIM)
			kill(pid[i], SIGTERM);
	for (i = 0; i < NRANKS; i++) {
		if (i == VICTIM)
			continue;
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	close(fds[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_swim_kill_and_stop),
	};

	return cmocka_run_group_tests_name("cart_crt_swim", tests, NULL, NULL);
}
