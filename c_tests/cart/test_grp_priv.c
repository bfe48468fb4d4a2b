/*
 * The C objects upstream's own tests reach into (cart/crt_internal_types.h): the crt_grp_priv
 * behind every group handle, with its membership fields after crt_rank_self_set, primary
 * modifications, rank removal, version set, auto-remove, secondary groups and views; and the
 * primary group's gp_membs_swim with SWIM's context, whose sc_suspects / sc_updates lists show
 * what the SWIM core holds after a suspicion, its clearing, a death and a removal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gurt/common.h>
#include <cart/api.h>
#include <cart/crt_internal_types.h>
#include <cart/crt_swim_internal.h>

static void
env(void)
{
	char port[16];

	setenv("D_PROVIDER", "ofi+tcp", 1);
	setenv("D_INTERFACE", "lo", 1);
	/* away from the ranges the other cart tests take (24000-49999) */
	snprintf(port, sizeof(port), "%d", 52000 + getpid() % 8000);
	setenv("D_PORT", port, 1);
}

/* The group's fields, read as upstream's code reads them: under gp_rwlock. */
static void
check_membs(struct crt_grp_priv *p, const d_rank_t *want, uint32_t n)
{
	uint32_t i;

	assert_int_equal(pthread_rwlock_rdlock(&p->gp_rwlock), 0);
	assert_int_equal(p->gp_size, n);
	assert_non_null(p->gp_membs.cgm_linear_list);
	assert_non_null(p->gp_membs.cgm_list);
	assert_int_equal(p->gp_membs.cgm_linear_list->rl_nr, n);
	for (i = 0; i < n; i++)
		assert_int_equal(p->gp_membs.cgm_linear_list->rl_ranks[i], want[i]);
	if (p->gp_primary) {
		assert_int_equal(p->gp_membs.cgm_list->rl_nr, n);
		for (i = 0; i < n; i++)
			assert_int_equal(p->gp_membs.cgm_list->rl_ranks[i], want[i]);
	} else {
		/* a secondary group's cgm_list: slots grown 32 at a time, CRT_NO_RANK where
		 * free; its members are the linear list's, in the same order */
		uint32_t k = 0;

		assert_int_equal(p->gp_membs.cgm_list->rl_nr % 32, 0);
		for (i = 0; i < p->gp_membs.cgm_list->rl_nr; i++) {
			if (p->gp_membs.cgm_list->rl_ranks[i] == CRT_NO_RANK)
				continue;
			assert_true(k < n);
			assert_int_equal(p->gp_membs.cgm_list->rl_ranks[i], want[k]);
			k++;
		}
		assert_int_equal(k, n);
	}
	assert_int_equal(pthread_rwlock_unlock(&p->gp_rwlock), 0);
}

/* crt_group_ranks_get's answer for a group, compared in order. */
static void
check_ranks_get(crt_group_t *g, const d_rank_t *want, uint32_t n)
{
	d_rank_list_t *got = NULL;
	uint32_t       i;

	assert_int_equal(crt_group_ranks_get(g, &got), 0);
	assert_non_null(got);
	assert_int_equal(got->rl_nr, n);
	for (i = 0; i < n; i++)
		assert_int_equal(got->rl_ranks[i], want[i]);
	d_rank_list_free(got);
}

static int
sec_list_len(struct crt_grp_priv *p, struct crt_grp_priv *only)
{
	d_list_t *l;
	int       n = 0;

	for (l = p->gp_sec_list.next; l != &p->gp_sec_list; l = l->next) {
		struct crt_grp_priv_sec *e =
		    (struct crt_grp_priv_sec *)((char *)l - offsetof(struct crt_grp_priv_sec, gps_link));

		assert_ptr_equal(e->gps_priv, only);
		n++;
	}
	return n;
}

static void
test_groups(void **state)
{
	crt_context_t        ctx;
	crt_group_t         *pg, *sg = NULL, *vg = NULL;
	struct crt_grp_priv *p, *sp, *vp;
	d_rank_t             add[]  = {3, 1};
	uint64_t             inc[]  = {5, 6};
	char                *uris[] = {"ofi+tcp://127.0.0.1:7300", "ofi+tcp://127.0.0.1:7100"};
	d_rank_t             sec_init[] = {3, 0};
	d_rank_t             sec5[] = {5}, prim9[] = {9};
	d_rank_list_t        l;
	d_rank_list_t        sl, pl;
	d_rank_t             r;
	uint32_t             v;

	(void)state;
	env();
	assert_null(crt_grp_pub2priv(NULL)); /* before crt_init */
	assert_int_equal(crt_init("grp_priv_srv", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE), 0);
	assert_int_equal(crt_context_create(&ctx), 0);

	/* the primary group: the handle is gp_pub of the private object */
	p = crt_grp_pub2priv(NULL);
	assert_non_null(p);
	pg = crt_group_lookup(NULL);
	assert_ptr_equal(pg, &p->gp_pub);
	assert_ptr_equal(crt_grp_pub2priv(pg), p);
	assert_string_equal(p->gp_pub.cg_grpid, "grp_priv_srv");
	assert_int_equal(p->gp_primary, 1);
	assert_int_equal(p->gp_view, 0);
	assert_int_equal(p->gp_auto_remove, 0);
	assert_int_equal(p->gp_refcount, 1);
	assert_int_equal(p->gp_self, CRT_NO_RANK);
	assert_int_equal(p->gp_membs_ver_min, 0);
	assert_null(p->gp_priv_prim);
	check_membs(p, NULL, 0);
	assert_ptr_equal(p->gp_sec_list.next, &p->gp_sec_list); /* no secondary group */
	assert_ptr_equal(p->gp_membs.cgm_free_indices.next, &p->gp_membs.cgm_free_indices);

	/* self rank and minimum version */
	assert_int_equal(crt_rank_self_set(0, 2), 0);
	assert_int_equal(p->gp_self, 0);
	assert_int_equal(p->gp_membs_ver_min, 2);
	check_membs(p, (d_rank_t[]){0}, 1);

	/* ADD {3, 1} at version 3: sorted membership */
	l.rl_ranks = add;
	l.rl_nr    = 2;
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris, CRT_GROUP_MOD_OP_ADD, 3), 0);
	assert_int_equal(p->gp_membs_ver, 3);
	check_membs(p, (d_rank_t[]){0, 1, 3}, 3);
	/* a refused modification changes nothing */
	assert_int_equal(crt_group_primary_modify(NULL, &ctx, 1, &l, inc, uris, CRT_GROUP_MOD_OP_ADD, 3),
			 -DER_GRPVER);
	assert_int_equal(p->gp_membs_ver, 3);
	check_membs(p, (d_rank_t[]){0, 1, 3}, 3);

	/* remove, version set, auto-remove */
	assert_int_equal(crt_group_rank_remove(pg, 1), 0);
	check_membs(p, (d_rank_t[]){0, 3}, 2);
	assert_int_equal(crt_group_version_set(pg, 7), 0);
	assert_int_equal(p->gp_membs_ver, 7);
	assert_int_equal(crt_group_auto_rank_remove(pg, true), 0);
	assert_int_equal(p->gp_auto_remove, 1);

	/* a secondary group: primary ranks 3 and 0 are its ranks 0 and 1 */
	sl.rl_ranks = sec_init;
	sl.rl_nr    = 2;
	assert_int_equal(crt_group_secondary_create("sec1", pg, &sl, &sg), 0);
	sp = crt_grp_pub2priv(sg);
	assert_ptr_equal(&sp->gp_pub, sg);
	assert_string_equal(sp->gp_pub.cg_grpid, "sec1");
	assert_int_equal(sp->gp_primary, 0);
	assert_int_equal(sp->gp_view, 0);
	assert_ptr_equal(sp->gp_priv_prim, p);
	assert_int_equal(sp->gp_self, 1);
	check_membs(sp, (d_rank_t[]){0, 1}, 2);
	assert_int_equal(sec_list_len(p, sp), 1);
	/* modify: secondary 5 is primary 9, version 4 */
	sl.rl_ranks = sec5;
	sl.rl_nr    = 1;
	pl.rl_ranks = prim9;
	pl.rl_nr    = 1;
	assert_int_equal(crt_group_secondary_modify(sg, &sl, &pl, CRT_GROUP_MOD_OP_ADD, 4), 0);
	assert_int_equal(sp->gp_membs_ver, 4);
	check_membs(sp, (d_rank_t[]){0, 1, 5}, 3);
	/* rank translation through the objects */
	assert_int_equal(crt_grp_priv_get_primary_rank(sp, 0), 3);
	assert_int_equal(crt_grp_priv_get_primary_rank(sp, 1), 0);
	assert_int_equal(crt_grp_priv_get_primary_rank(sp, 5), 9);
	assert_int_equal(crt_grp_priv_get_primary_rank(sp, 7), CRT_NO_RANK);
	assert_int_equal(crt_grp_priv_get_primary_rank(p, 42), 42);
	assert_int_equal(crt_grp_priv_get_primary_rank(NULL, 1), CRT_NO_RANK);
	assert_true(crt_grp_id_identical(sp->gp_pub.cg_grpid, "sec1"));
	assert_false(crt_grp_id_identical(sp->gp_pub.cg_grpid, p->gp_pub.cg_grpid));
	assert_false(crt_grp_id_identical(NULL, "sec1"));
	/* auto-remove: primary 3 leaving takes its secondary rank 0 along */
	assert_int_equal(crt_group_rank_remove(pg, 3), 0);
	check_membs(p, (d_rank_t[]){0}, 1);
	check_membs(sp, (d_rank_t[]){1, 5}, 2);
	/* ranks come back in membership-list order: secondary 2 takes the slot rank 0 left */
	assert_int_equal(crt_group_secondary_rank_add(sg, 2, 7), 0);
	check_membs(sp, (d_rank_t[]){2, 1, 5}, 3);
	check_ranks_get(sg, (d_rank_t[]){2, 1, 5}, 3);
	assert_int_equal(pthread_rwlock_rdlock(&sp->gp_rwlock), 0);
	assert_int_equal(sp->gp_membs.cgm_list->rl_nr, 32);
	assert_int_equal(sp->gp_membs.cgm_list->rl_ranks[0], 2);
	assert_int_equal(sp->gp_membs.cgm_list->rl_ranks[1], 1);
	assert_int_equal(sp->gp_membs.cgm_list->rl_ranks[2], 5);
	assert_int_equal(sp->gp_membs.cgm_list->rl_ranks[3], CRT_NO_RANK);
	assert_int_equal(pthread_rwlock_unlock(&sp->gp_rwlock), 0);
	/* removing through the secondary handle: its secondary rank 1 (primary 0) leaves the
	 * secondary group only, its slot freed */
	assert_int_equal(crt_group_rank_remove(sg, 1), 0);
	check_membs(sp, (d_rank_t[]){2, 5}, 2);
	check_ranks_get(sg, (d_rank_t[]){2, 5}, 2);
	check_membs(p, (d_rank_t[]){0}, 1);
	assert_int_equal(sp->gp_membs.cgm_list->rl_ranks[1], CRT_NO_RANK);
	assert_int_equal(crt_group_rank_remove(sg, 1), -DER_OOG);
	assert_int_equal(crt_group_rank_p2s(sg, 0, &r), -DER_OOG);
	assert_int_equal(crt_group_rank_s2p(sg, 5, &r), 0);
	assert_int_equal(r, 9);
	/* the version of a secondary group is its own */
	assert_int_equal(crt_group_version_set(sg, 11), 0);
	assert_int_equal(sp->gp_membs_ver, 11);
	assert_int_equal(p->gp_membs_ver, 7);
	assert_int_equal(crt_group_version(sg, &v), 0);
	assert_int_equal(v, 11);
	assert_int_equal(crt_group_version(pg, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(crt_group_version(NULL, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(crt_group_secondary_destroy(sg), 0);
	check_membs(sp, NULL, 0);
	assert_int_equal(sec_list_len(p, NULL), 0);
	assert_int_equal(crt_grp_priv_get_primary_rank(sp, 1), CRT_NO_RANK);

	/* a view: primary-kind, flagged as a view, no self */
	assert_int_equal(crt_group_view_create("view1", &vg), 0);
	vp = crt_grp_pub2priv(vg);
	assert_string_equal(vp->gp_pub.cg_grpid, "view1");
	assert_int_equal(vp->gp_primary, 1);
	assert_int_equal(vp->gp_view, 1);
	assert_int_equal(vp->gp_self, CRT_NO_RANK);
	check_membs(vp, NULL, 0);
	assert_int_equal(crt_group_primary_rank_add(ctx, vg, 4, "ofi+tcp://127.0.0.1:7400"), 0);
	check_membs(vp, (d_rank_t[]){4}, 1);
	check_membs(p, (d_rank_t[]){0}, 1); /* not the primary's */
	assert_int_equal(crt_group_view_destroy(vg), 0);
	check_membs(vp, NULL, 0);

	assert_int_equal(crt_context_destroy(ctx, 0), 0);
	assert_int_equal(crt_finalize(), 0);
	/* the object stays (handles stay valid), emptied */
	check_membs(p, NULL, 0);
	assert_int_equal(p->gp_self, CRT_NO_RANK);
	assert_null(crt_grp_pub2priv(NULL));
}

static bool
listed(struct swim_context *sc, struct swim_item_list *head, swim_id_t id, struct swim_item *out)
{
	struct swim_item *it;
	bool              found = false;

	assert_int_equal(pthread_mutex_lock(&sc->sc_mutex), 0);
	TAILQ_FOREACH(it, head, si_link)
	{
		if (it->si_id == id) {
			if (out != NULL)
				*out = *it;
			found = true;
			break;
		}
	}
	assert_int_equal(pthread_mutex_unlock(&sc->sc_mutex), 0);
	return found;
}

static void
check_csm_list(struct crt_grp_priv *p, const d_rank_t *want, uint32_t n)
{
	struct crt_swim_membs *csm = &p->gp_membs_swim;
	uint32_t               i, j, seen = 0;

	assert_int_equal(pthread_rwlock_rdlock(&p->gp_rwlock), 0);
	assert_int_equal(csm->csm_list_len, n);
	assert_true(csm->csm_list_cap >= n);
	/* in ping order: each wanted rank once */
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (csm->csm_list[j] == want[i])
				seen++;
	assert_int_equal(seen, n);
	assert_true(n == 0 ? csm->csm_target == CRT_SWIM_TARGET_INVALID : csm->csm_target < n);
	assert_int_equal(pthread_rwlock_unlock(&p->gp_rwlock), 0);
}

static void
test_swim(void **state)
{
	crt_context_t             ctx;
	struct crt_grp_priv      *p;
	struct crt_swim_membs    *csm;
	struct swim_context      *sc;
	struct swim_member_update upd;
	struct swim_member_state  st;
	struct swim_item          item;
	uint64_t                  inc1, self_inc, now;

	(void)state;
	env();
	assert_int_equal(crt_init("grp_swim_srv", CRT_FLAG_BIT_SERVER | CRT_FLAG_BIT_AUTO_SWIM_DISABLE), 0);
	assert_int_equal(crt_context_create(&ctx), 0);
	p   = crt_grp_pub2priv(NULL);
	csm = &p->gp_membs_swim;
	assert_null(csm->csm_ctx);
	assert_int_equal(csm->csm_target, CRT_SWIM_TARGET_INVALID);

	assert_int_equal(crt_swim_init(0), 0);
	sc = csm->csm_ctx;
	assert_non_null(sc);
	assert_null(swim_data(sc)); /* upstream's crt_swim_init gives swim_init no data */
	assert_null(sc->sc_data);
	assert_int_equal(csm->csm_crt_ctx_idx, 0);
	assert_int_equal(crt_rank_self_set(0, 1), 0);

	/* incarnations are gurt HLC timestamps */
	assert_int_equal(crt_self_incarnation_get(&self_inc), 0);
	now = d_hlc_get();
	assert_int_equal(self_inc, csm->csm_incarnation);
	assert_true(self_inc <= now);
	assert_true(d_hlc2sec(now - self_inc) < 60);

	/* members: self joins with the first one */
	inc1 = d_hlc_get();
	assert_int_equal(crt_swim_rank_add(p, 1, inc1), 0);
	check_csm_list(p, (d_rank_t[]){0, 1}, 2);
	assert_int_equal(csm->csm_alive_or_suspect_count, 2);
	assert_int_equal(sc->sc_self, 0);
	assert_int_equal(swim_self_get(sc), 0);
	assert_int_equal(crt_swim_rank_add(p, 2, d_hlc_get()), 0);
	assert_int_equal(crt_swim_rank_add(p, 2, d_hlc_get()), -DER_ALREADY);
	check_csm_list(p, (d_rank_t[]){0, 1, 2}, 3);
	assert_int_equal(csm->csm_alive_or_suspect_count, 3);
	assert_false(listed(sc, &sc->sc_suspects, 1, NULL));

	/* rank 2 says 1 is SUSPECT: in sc_suspects (from 2, with a deadline) and in sc_updates */
	upd.smu_id                    = 1;
	upd.smu_state.sms_incarnation = inc1;
	upd.smu_state.sms_status      = SWIM_MEMBER_SUSPECT;
	upd.smu_state.sms_delay       = 0;
	assert_int_equal(swim_updates_parse(sc, 2, 1, &upd, 1), 0);
	assert_true(listed(sc, &sc->sc_suspects, 1, &item));
	assert_int_equal(item.si_from, 2);
	assert_true(item.u.si_deadline > 0);
	assert_true(listed(sc, &sc->sc_updates, 1, NULL));
	assert_false(listed(sc, &sc->sc_suspects, 2, NULL));
	assert_int_equal(crt_rank_state_get(&p->gp_pub, 1, &st), 0);
	assert_int_equal(st.sms_status, SWIM_MEMBER_SUSPECT);
	assert_int_equal(csm->csm_alive_or_suspect_count, 3);

	/* an older incarnation does not clear it; a newer one does */
	assert_int_equal(crt_swim_rank_check(p, 1, inc1), 0);
	assert_true(listed(sc, &sc->sc_suspects, 1, NULL));
	assert_int_equal(crt_swim_rank_check(p, 1, inc1 + 1), 0);
	assert_false(listed(sc, &sc->sc_suspects, 1, NULL));
	assert_int_equal(crt_rank_state_get(&p->gp_pub, 1, &st), 0);
	assert_int_equal(st.sms_status, SWIM_MEMBER_ALIVE);
	assert_int_equal(st.sms_incarnation, inc1 + 1);

	/* 1 reports 2 DEAD: no longer counted alive */
	upd.smu_id                    = 2;
	assert_int_equal(crt_rank_state_get(&p->gp_pub, 2, &st), 0);
	upd.smu_state.sms_incarnation = st.sms_incarnation;
	upd.smu_state.sms_status      = SWIM_MEMBER_DEAD;
	assert_int_equal(swim_updates_parse(sc, 1, 2, &upd, 1), 0);
	assert_int_equal(crt_rank_state_get(&p->gp_pub, 2, &st), 0);
	assert_int_equal(st.sms_status, SWIM_MEMBER_DEAD);
	assert_int_equal(csm->csm_alive_or_suspect_count, 2);

	/* removal */
	assert_int_equal(crt_swim_rank_del(p, 2), 0);
	assert_int_equal(crt_swim_rank_del(p, 2), -DER_NONEXIST);
	check_csm_list(p, (d_rank_t[]){0, 1}, 2);

	crt_swim_fini();
	assert_null(csm->csm_ctx);
	check_csm_list(p, NULL, 0);
	assert_int_equal(crt_context_destroy(ctx, 0), 0);
	assert_int_equal(crt_finalize(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test(test_swim),
	};

	return cmocka_run_group_tests_name("cart_grp_priv", tests, NULL, NULL);
}
