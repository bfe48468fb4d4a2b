/* One field list with every field kind and every crt_proc type (ordered so the generated struct
 * has no hole), shared by the cart C tests: test_headers expands it, test_proc encodes and
 * decodes it, test_rpc sends it over the wire and back. */
#ifndef OXIDAOS_TEST_ALL_FIELDS_H
#define OXIDAOS_TEST_ALL_FIELDS_H

#include <cart/api.h>

/* A struct type with its own proc function, used as a field type (`struct ox_point`). */
#define CRT_SEQ_OX_POINT ((uint64_t)(pt_x) CRT_VAR)((uint32_t)(pt_y) CRT_VAR)((uint32_t)(pt_z) CRT_VAR)
CRT_GEN_STRUCT(ox_point, CRT_SEQ_OX_POINT)
CRT_GEN_PROC_FUNC(ox_point, CRT_SEQ_OX_POINT)

static inline int
crt_proc_struct_ox_point(crt_proc_t proc, crt_proc_op_t proc_op, struct ox_point *p)
{
	(void)proc_op;
	return crt_proc_ox_point(proc, p);
}

#define CRT_SEQ_ALL_FIELDS                                                                         \
	((uint64_t)(a_u64) CRT_VAR)((int64_t)(a_i64) CRT_VAR)((int32_t)(a_i32) CRT_VAR)           \
	((uint32_t)(a_u32) CRT_VAR)((int16_t)(a_i16) CRT_VAR)((uint16_t)(a_u16) CRT_VAR)          \
	((int8_t)(a_i8) CRT_VAR)((uint8_t)(a_u8) CRT_VAR)((bool)(a_b) CRT_VAR)                    \
	((_Bool)(a_b2) CRT_VAR)((uuid_t)(a_uuid) CRT_VAR)((d_string_t)(a_str) CRT_VAR)            \
	((d_const_string_t)(a_cstr) CRT_VAR)((d_iov_t)(a_iov) CRT_VAR)                            \
	((d_sg_list_t)(a_sgl) CRT_VAR)((d_rank_list_t)(a_ranks) CRT_PTR)                          \
	((crt_bulk_t)(a_bulk) CRT_VAR)((uint32_t)(a_arr) CRT_ARRAY)                               \
	((struct ox_point)(a_pts) CRT_ARRAY)((struct ox_point)(a_pt) CRT_VAR)                     \
	((uint64_t)(a_raw) CRT_RAW)((crt_group_id_t)(a_grp) CRT_VAR)((d_rank_t)(a_rank) CRT_VAR)  \
	((crt_status_t)(a_st) CRT_VAR)((int)(a_int) CRT_VAR)

#endif
