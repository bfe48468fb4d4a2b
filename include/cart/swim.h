/*
 * oxidaos: the SWIM membership protocol's public interface, as in DAOS's cart/swim.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * SWIM (Scalable Weakly-consistent Infection-style process group Membership) detects failed
 * members by direct and indirect pings and spreads membership changes piggy-backed on them.
 * The network is the caller's: it supplies swim_ops and feeds replies back in.
 */
#ifndef __SWIM_H__
#define __SWIM_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A member id no member has. */
#define SWIM_ID_INVALID ((uint64_t)-1)

typedef uint64_t swim_id_t;

enum swim_member_status {
	SWIM_MEMBER_ALIVE = 0,
	SWIM_MEMBER_SUSPECT,
	SWIM_MEMBER_DEAD,
	SWIM_MEMBER_INACTIVE
};

/* One letter per status, indexed by enum swim_member_status (for logs). */
#define SWIM_STATUS_CHARS "ASDI"

/* What one member knows about another. */
struct swim_member_state {
	uint64_t                sms_incarnation;
	enum swim_member_status sms_status;
	uint32_t                sms_delay; /* network delay seen to it, in ms */
};

/* A piggy-backed update: member id and its state. */
struct swim_member_update {
	uint64_t                 smu_id;
	struct swim_member_state smu_state;
};

struct swim_context;

/* The caller's half of SWIM. */
struct swim_ops {
	/* send a ping (or indirect-ping request when id != self) carrying updates */
	int (*send_request)(struct swim_context *ctx, swim_id_t id, swim_id_t to,
			    struct swim_member_update *upds, size_t nupds);
	/* answer a request received earlier (args identifies it) */
	int (*send_reply)(struct swim_context *ctx, swim_id_t from, swim_id_t to, int rc,
			  void *args);
	/* next member to ping directly, or SWIM_ID_INVALID */
	swim_id_t (*get_dping_target)(struct swim_context *ctx);
	/* next helper for an indirect ping, or SWIM_ID_INVALID */
	swim_id_t (*get_iping_target)(struct swim_context *ctx);
	int (*get_member_state)(struct swim_context *ctx, swim_id_t id,
				struct swim_member_state *state);
	int (*set_member_state)(struct swim_context *ctx, swim_id_t id,
				struct swim_member_state *state);
	/* called when this member must refute a suspicion with a higher incarnation */
	void (*new_incarnation)(struct swim_context *ctx, swim_id_t id,
				struct swim_member_state *state);
};

struct swim_context *
swim_init(swim_id_t self_id, struct swim_ops *swim_ops, void *data);
void
swim_fini(struct swim_context *ctx);
void *
swim_data(struct swim_context *ctx);
swim_id_t
swim_self_get(struct swim_context *ctx);
void
swim_self_set(struct swim_context *ctx, swim_id_t self_id);
int
swim_updates_parse(struct swim_context *ctx, swim_id_t from, swim_id_t id,
		   struct swim_member_update *upds, size_t nupds);
int
swim_updates_prepare(struct swim_context *ctx, swim_id_t id, swim_id_t to,
		     struct swim_member_update **pupds, size_t *pnupds);
int
swim_updates_short(struct swim_context *ctx, swim_id_t self_id, uint64_t self_incarnation,
		   swim_id_t from_id, swim_id_t id, struct swim_member_update *upds_in,
		   size_t nupds_in, struct swim_member_update **upds_out, size_t *nupds_out);
int
swim_updates_send(struct swim_context *ctx, swim_id_t id, swim_id_t to);
int
swim_ipings_suspend(struct swim_context *ctx, swim_id_t from_id, swim_id_t to_id, void *args);
int
swim_ipings_reply(struct swim_context *ctx, swim_id_t from_id, int ret_rc);
/* Runs the protocol for up to timeout us (0: one step); -DER_TIMEDOUT when the time is up. */
int
swim_progress(struct swim_context *ctx, int64_t timeout);
int
swim_net_glitch_update(struct swim_context *ctx, swim_id_t id, uint64_t delay);
void
swim_member_del(struct swim_context *ctx, swim_id_t id);

/* Forgets a member's state (same as deleting it). */
static inline void
swim_member_reset(struct swim_context *ctx, swim_id_t id)
{
	swim_member_del(ctx, id);
}

#ifdef __cplusplus
}
#endif

#endif /* __SWIM_H__ */
