/*
 * crt_proc_* through libcart's exports: RPC bodies declared with CRT_RPC_DECLARE/DEFINE (every
 * field kind) round-trip through encode, decode and the FREE pass; the exact byte format of
 * each type (docs/cart-proc.md); sizes; NULL and bad-operation errors; every truncation of a
 * message fails to decode without leaking; a failed encode leaves the caller's data alone.
 * Runs under valgrind too (no leaks, no invalid accesses).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <cart/api.h>

#include "all_fields.h"

#define CRT_ISEQ_TP_ALL CRT_SEQ_ALL_FIELDS
#define CRT_OSEQ_TP_ALL ((int32_t)(o_rc) CRT_VAR)((uint32_t)(o_n) CRT_VAR)

CRT_RPC_DECLARE(tp_all, CRT_ISEQ_TP_ALL, CRT_OSEQ_TP_ALL)
CRT_RPC_DEFINE(tp_all, CRT_ISEQ_TP_ALL, CRT_OSEQ_TP_ALL)

static char     str_text[] = "hello, cart";
static char     iov_data[] = "0123456789";
static char     sg0[]      = "abc";
static char     sg1[]      = "defgh";
static d_rank_t ranks[]    = {3, 1, 0xfffffffe};
static uint32_t arr[]      = {10, 20, 30, 40};

static void
fill(struct tp_all_in *in, d_iov_t *sgiov, struct ox_point *pts, d_rank_list_t *rl)
{
	memset(in, 0, sizeof(*in));
	in->a_u64 = 0x0102030405060708ULL;
	in->a_i64 = -5;
	in->a_i32 = -70000;
	in->a_u32 = 0xdeadbeef;
	in->a_i16 = -300;
	in->a_u16 = 65000;
	in->a_i8  = -7;
	in->a_u8  = 250;
	in->a_b   = true;
	in->a_b2  = false;
	for (int i = 0; i < 16; i++)
		in->a_uuid[i] = (unsigned char)(i * 17);
	in->a_str  = str_text;
	in->a_cstr = "const";
	d_iov_set(&in->a_iov, iov_data, 4);
	in->a_iov.iov_buf_len = 10; /* more room than data: both lengths travel */
	d_iov_set(&sgiov[0], sg0, 3);
	d_iov_set(&sgiov[1], sg1, 5);
	in->a_sgl.sg_nr     = 2;
	in->a_sgl.sg_nr_out = 1;
	in->a_sgl.sg_iovs   = sgiov;
	rl->rl_ranks        = ranks;
	rl->rl_nr           = 3;
	in->a_ranks         = rl;
	in->a_bulk          = CRT_BULK_NULL;
	in->a_arr.ca_count  = 4;
	in->a_arr.ca_arrays = arr;
	pts[0]              = (struct ox_point){1, 2, 3};
	pts[1]              = (struct ox_point){4, 5, 6};
	in->a_pts.ca_count  = 2;
	in->a_pts.ca_arrays = pts;
	in->a_pt            = (struct ox_point){7, 8, 9};
	in->a_raw           = 0x1122334455667788ULL;
	in->a_grp           = "grp";
	in->a_rank          = 42;
	in->a_st            = -1003;
	in->a_int           = 123456;
}

/* The encoded size of fill()'s body, field by field (docs/cart-proc.md). */
static size_t
expected_size(void)
{
	return 8 + 8 + 4 + 4 + 2 + 2 + 1 + 1 + 1 + 1 + 16 /* scalars, uuid */
	       + 8 + 12 + 2                               /* "hello, cart" */
	       + 8 + 6 + 2                                /* "const" */
	       + 16 + 4                                   /* iov: lengths, 4 bytes */
	       + 8 + (16 + 3) + (16 + 5)                  /* sgl */
	       + 4 + 12                                   /* ranks */
	       + 8                                        /* NULL bulk */
	       + 8 + 16                                   /* uint32 array */
	       + 8 + 2 * 16                               /* point array */
	       + 16 + 8                                   /* point, raw */
	       + 8 + 4 + 2                                /* "grp" */
	       + 4 + 4 + 4;                               /* rank, status, int */
}

static size_t
encode(struct tp_all_in *in, void *buf, size_t size)
{
	crt_proc_t proc;
	size_t     used;

	assert_int_equal(crt_proc_create(NULL, buf, size, CRT_PROC_ENCODE, &proc), 0);
	assert_int_equal(CQF_tp_all.crf_proc_in(proc, in), 0);
	used = crp_proc_get_size_used(proc);
	assert_int_equal(crt_proc_destroy(proc), 0);
	return used;
}

static void
free_pass(struct tp_all_in *out)
{
	crt_proc_t proc;

	assert_int_equal(crt_proc_create(NULL, NULL, 0, CRT_PROC_FREE, &proc), 0);
	assert_int_equal(CQF_tp_all.crf_proc_in(proc, out), 0);
	assert_int_equal(crt_proc_destroy(proc), 0);
}

static void
rpc_body_round_trip(void **state)
{
	struct tp_all_in in, out;
	d_iov_t          sgiov[2];
	struct ox_point  pts[2];
	d_rank_list_t    rl;
	char             buf[1024];
	crt_proc_t       proc;
	crt_proc_op_t    op;
	size_t           n;

	(void)state;
	fill(&in, sgiov, pts, &rl);
	n = encode(&in, buf, sizeof(buf));
	assert_int_equal(n, expected_size());

	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(crt_proc_create(NULL, buf, n, CRT_PROC_DECODE, &proc), 0);
	assert_int_equal(crt_proc_get_op(proc, &op), 0);
	assert_int_equal(op, CRT_PROC_DECODE);
	assert_int_equal(CQF_tp_all.crf_proc_in(proc, &out), 0);
	assert_int_equal(crp_proc_get_size_used(proc), n);
	assert_int_equal(crt_proc_destroy(proc), 0);

	assert_true(out.a_u64 == in.a_u64 && out.a_i64 == -5 && out.a_i32 == -70000);
	assert_true(out.a_u32 == 0xdeadbeef && out.a_i16 == -300 && out.a_u16 == 65000);
	assert_true(out.a_i8 == -7 && out.a_u8 == 250 && out.a_b && !out.a_b2);
	assert_memory_equal(out.a_uuid, in.a_uuid, 16);
	assert_string_equal(out.a_str, str_text);
	assert_ptr_not_equal(out.a_str, str_text);
	assert_string_equal(out.a_cstr, "const");
	/* an iov points into the message, with both lengths */
	assert_int_equal(out.a_iov.iov_buf_len, 10);
	assert_int_equal(out.a_iov.iov_len, 4);
	assert_true((char *)out.a_iov.iov_buf > buf && (char *)out.a_iov.iov_buf < buf + n);
	assert_memory_equal(out.a_iov.iov_buf, "0123", 4);
	assert_int_equal(out.a_sgl.sg_nr, 2);
	assert_int_equal(out.a_sgl.sg_nr_out, 1);
	assert_memory_equal(out.a_sgl.sg_iovs[0].iov_buf, "abc", 3);
	assert_int_equal(out.a_sgl.sg_iovs[1].iov_len, 5);
	assert_memory_equal(out.a_sgl.sg_iovs[1].iov_buf, "defgh", 5);
	assert_non_null(out.a_ranks);
	assert_int_equal(out.a_ranks->rl_nr, 3);
	assert_memory_equal(out.a_ranks->rl_ranks, ranks, sizeof(ranks));
	assert_null(out.a_bulk);
	assert_int_equal(out.a_arr.ca_count, 4);
	assert_memory_equal(out.a_arr.ca_arrays, arr, sizeof(arr));
	assert_int_equal(out.a_pts.ca_count, 2);
	assert_true(out.a_pts.ca_arrays[1].pt_x == 4 && out.a_pts.ca_arrays[1].pt_z == 6);
	assert_true(out.a_pt.pt_x == 7 && out.a_pt.pt_y == 8 && out.a_pt.pt_z == 9);
	assert_true(out.a_raw == in.a_raw);
	assert_string_equal(out.a_grp, "grp");
	assert_int_equal(out.a_rank, 42);
	assert_int_equal(out.a_st, -1003);
	assert_int_equal(out.a_int, 123456);

	/* the FREE pass releases what decoding allocated (valgrind checks nothing leaks) */
	free_pass(&out);
	assert_null(out.a_str);
	assert_null(out.a_ranks);
	assert_null(out.a_sgl.sg_iovs);
	assert_null(out.a_arr.ca_arrays);
	assert_null(out.a_pts.ca_arrays);

	/* the output struct too */
	{
		struct tp_all_out o = {.o_rc = -1, .o_n = 7}, o2 = {0};
		char              ob[8];

		assert_int_equal(crt_proc_create(NULL, ob, sizeof(ob), CRT_PROC_ENCODE, &proc), 0);
		assert_int_equal(CQF_tp_all.crf_proc_out(proc, &o), 0);
		assert_int_equal(crp_proc_get_size_used(proc), 8);
		assert_int_equal(crt_proc_reset(proc, ob, sizeof(ob), CRT_PROC_DECODE), 0);
		assert_int_equal(crp_proc_get_size_used(proc), 0);
		assert_int_equal(CQF_tp_all.crf_proc_out(proc, &o2), 0);
		assert_int_equal(crt_proc_destroy(proc), 0);
		assert_int_equal(o2.o_rc, -1);
		assert_int_equal(o2.o_n, 7);
	}
}

/* What decoding allocates is on the libc heap: gurt's D_FREE / d_rank_list_free work too. */
static void
decoded_memory_is_libc_heap(void **state)
{
	struct tp_all_in in, out;
	d_iov_t          sgiov[2];
	struct ox_point  pts[2];
	d_rank_list_t    rl;
	char             buf[1024];
	crt_proc_t       proc;
	size_t           n;

	(void)state;
	fill(&in, sgiov, pts, &rl);
	n = encode(&in, buf, sizeof(buf));
	memset(&out, 0, sizeof(out));
	assert_int_equal(crt_proc_create(NULL, buf, n, CRT_PROC_DECODE, &proc), 0);
	assert_int_equal(CQF_tp_all.crf_proc_in(proc, &out), 0);
	assert_int_equal(crt_proc_destroy(proc), 0);
	free(out.a_str);
	free((char *)out.a_cstr);
	free(out.a_grp);
	free(out.a_ranks->rl_ranks);
	free(out.a_ranks);
	D_FREE(out.a_sgl.sg_iovs);
	D_FREE(out.a_arr.ca_arrays);
	D_FREE(out.a_pts.ca_arrays);
}

static void
byte_format(void **state)
{
	uint8_t        buf[64];
	crt_proc_t     proc;
	uint16_t       u16 = 0x1234;
	int32_t        i32 = -2;
	uint64_t       u64 = 0x0102030405060708ULL;
	bool           b   = true;
	d_string_t     s   = "ab";
	d_string_t     sn  = NULL;
	d_rank_list_t *rl  = NULL;
	static const uint8_t want[] = {0x34, 0x12, 0xfe, 0xff, 0xff, 0xff, 8, 7, 6, 5, 4, 3, 2, 1, 1,
				       3, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 0, 0, 0,
				       0, 0, 0, 0, 0, 0, 0, 0,
				       0, 0, 0, 0};

	(void)state;
	assert_int_equal(crt_proc_create(NULL, buf, sizeof(buf), CRT_PROC_ENCODE, &proc), 0);
	assert_int_equal(crt_proc_uint16_t(proc, CRT_PROC_ENCODE, &u16), 0);
	assert_int_equal(crt_proc_int32_t(proc, CRT_PROC_ENCODE, &i32), 0);
	assert_int_equal(crt_proc_uint64_t(proc, CRT_PROC_ENCODE, &u64), 0);
	assert_int_equal(crt_proc_bool(proc, CRT_PROC_ENCODE, &b), 0);
	assert_int_equal(crt_proc_d_string_t(proc, CRT_PROC_ENCODE, &s), 0);
	assert_int_equal(crt_proc_d_string_t(proc, CRT_PROC_ENCODE, &sn), 0);
	assert_int_equal(crt_proc_d_rank_list_t(proc, CRT_PROC_ENCODE, &rl), 0);
	assert_int_equal(crp_proc_get_size_used(proc), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(crt_proc_destroy(proc), 0);

	/* each scalar type decodes back */
	{
		int8_t   i8  = -1, i8b;
		uint8_t  u8  = 0x80, u8b;
		int16_t  i16 = -129, i16b;
		uint32_t u32 = 7, u32b;
		int64_t  i64 = INT64_MIN, i64b;
		uuid_t   u, ub;

		memset(u, 0x5c, sizeof(u));
		assert_int_equal(crt_proc_create(NULL, buf, sizeof(buf), CRT_PROC_ENCODE, &proc), 0);
		assert_int_equal(crt_proc_int8_t(proc, CRT_PROC_ENCODE, &i8), 0);
		assert_int_equal(crt_proc_uint8_t(proc, CRT_PROC_ENCODE, &u8), 0);
		assert_int_equal(crt_proc_int16_t(proc, CRT_PROC_ENCODE, &i16), 0);
		assert_int_equal(crt_proc_uint32_t(proc, CRT_PROC_ENCODE, &u32), 0);
		assert_int_equal(crt_proc_int64_t(proc, CRT_PROC_ENCODE, &i64), 0);
		assert_int_equal(crt_proc_uuid_t(proc, CRT_PROC_ENCODE, &u), 0);
		assert_int_equal(crp_proc_get_size_used(proc), 1 + 1 + 2 + 4 + 8 + 16);
		assert_int_equal(crt_proc_reset(proc, buf, 32, CRT_PROC_DECODE), 0);
		assert_int_equal(crt_proc_int8_t(proc, CRT_PROC_DECODE, &i8b), 0);
		assert_int_equal(crt_proc_uint8_t(proc, CRT_PROC_DECODE, &u8b), 0);
		assert_int_equal(crt_proc_int16_t(proc, CRT_PROC_DECODE, &i16b), 0);
		assert_int_equal(crt_proc_uint32_t(proc, CRT_PROC_DECODE, &u32b), 0);
		assert_int_equal(crt_proc_int64_t(proc, CRT_PROC_DECODE, &i64b), 0);
		assert_int_equal(crt_proc_uuid_t(proc, CRT_PROC_DECODE, &ub), 0);
		assert_true(i8b == -1 && u8b == 0x80 && i16b == -129 && u32b == 7 && i64b == INT64_MIN);
		assert_memory_equal(u, ub, sizeof(u));
		assert_int_equal(crp_proc_get_size_used(proc), 32);
		/* the buffer is used up: one more byte is an error, not a read past it */
		assert_int_equal(crt_proc_uint8_t(proc, CRT_PROC_DECODE, &u8b), -DER_HG);
		assert_int_equal(crt_proc_destroy(proc), 0);
	}
}

static void
encoding_outgrows_the_buffer(void **state)
{
	uint8_t    buf[4];
	crt_proc_t proc;
	uint64_t   v = 1;

	(void)state;
	/* as Mercury's proc: the encoding continues past the caller's buffer, the size tells */
	assert_int_equal(crt_proc_create(NULL, buf, sizeof(buf), CRT_PROC_ENCODE, &proc), 0);
	assert_int_equal(crt_proc_uint64_t(proc, CRT_PROC_ENCODE, &v), 0);
	assert_int_equal(crt_proc_uint64_t(proc, CRT_PROC_ENCODE, &v), 0);
	assert_int_equal(crp_proc_get_size_used(proc), 16);
	assert_int_equal(crt_proc_destroy(proc), 0);
}

static void
null_and_bad_arguments(void **state)
{
	crt_proc_t       proc;
	crt_proc_op_t    op;
	uint64_t         v = 0;
	d_string_t       s = NULL;
	d_rank_list_t   *rl = NULL;
	d_iov_t          iov = {0};
	d_sg_list_t      sgl = {0};
	crt_bulk_t       bulk = NULL;
	uuid_t           u;
	char             buf[16];

	(void)state;
	assert_int_equal(crt_proc_get_op(NULL, &op), -DER_INVAL);
	assert_int_equal(crt_proc_uint64_t(NULL, CRT_PROC_ENCODE, &v), -DER_INVAL);
	assert_int_equal(crt_proc_memcpy(NULL, CRT_PROC_ENCODE, &v, 8), -DER_INVAL);
	assert_int_equal(crt_proc_d_string_t(NULL, CRT_PROC_ENCODE, &s), -DER_INVAL);
	assert_int_equal(crt_proc_d_rank_list_t(NULL, CRT_PROC_ENCODE, &rl), -DER_INVAL);
	assert_int_equal(crt_proc_d_iov_t(NULL, CRT_PROC_ENCODE, &iov), -DER_INVAL);
	assert_int_equal(crt_proc_d_sg_list_t(NULL, CRT_PROC_ENCODE, &sgl), -DER_INVAL);
	assert_int_equal(crt_proc_crt_bulk_t(NULL, CRT_PROC_ENCODE, &bulk), -DER_INVAL);
	assert_int_equal(crt_proc_uuid_t(NULL, CRT_PROC_ENCODE, &u), -DER_INVAL);
	assert_int_equal(crt_proc_destroy(NULL), -DER_INVAL);
	assert_int_equal(crt_proc_reset(NULL, buf, 1, CRT_PROC_ENCODE), -DER_INVAL);
	assert_int_equal(crp_proc_get_size_used(NULL), 0);
	assert_int_equal(crt_proc_create(NULL, buf, sizeof(buf), CRT_PROC_ENCODE, NULL), -DER_INVAL);
	assert_int_equal(crt_proc_create(NULL, NULL, 8, CRT_PROC_ENCODE, &proc), -DER_INVAL);
	assert_int_equal(crt_proc_create(NULL, buf, sizeof(buf), (crt_proc_op_t)3, &proc), -DER_INVAL);
	/* a generated function refuses NULL */
	assert_int_equal(CQF_tp_all.crf_proc_in(NULL, &v), -DER_INVAL);

	assert_int_equal(crt_proc_create(NULL, buf, sizeof(buf), CRT_PROC_ENCODE, &proc), 0);
	assert_int_equal(crt_proc_get_op(proc, NULL), -DER_INVAL);
	assert_int_equal(crt_proc_uint64_t(proc, (crt_proc_op_t)7, &v), -DER_INVAL);
	assert_int_equal(crt_proc_uint64_t(proc, CRT_PROC_ENCODE, NULL), -DER_INVAL);
	assert_int_equal(crt_proc_d_string_t(proc, CRT_PROC_ENCODE, NULL), -DER_INVAL);
	assert_int_equal(crt_proc_d_rank_list_t(proc, CRT_PROC_ENCODE, NULL), -DER_INVAL);
	assert_int_equal(crt_proc_d_iov_t(proc, CRT_PROC_ENCODE, NULL), -DER_INVAL);
	assert_int_equal(CQF_tp_all.crf_proc_in(proc, NULL), -DER_INVAL);
	/* iov_len above iov_buf_len is refused, as upstream does */
	iov.iov_buf     = buf;
	iov.iov_buf_len = 1;
	iov.iov_len     = 2;
	assert_int_equal(crt_proc_d_iov_t(proc, CRT_PROC_ENCODE, &iov), -DER_HG);
	/* no bulk transport in this library yet: only NULL handles encode */
	bulk = (crt_bulk_t)buf;
	assert_int_equal(crt_proc_crt_bulk_t(proc, CRT_PROC_ENCODE, &bulk), -DER_HG);
	assert_int_equal(crt_proc_destroy(proc), 0);
}

static void
every_truncation_fails_cleanly(void **state)
{
	struct tp_all_in in, out;
	d_iov_t          sgiov[2];
	struct ox_point  pts[2];
	d_rank_list_t    rl;
	char             buf[1024];
	crt_proc_t       proc;
	size_t           n, cut;
	int              rc;

	(void)state;
	fill(&in, sgiov, pts, &rl);
	n = encode(&in, buf, sizeof(buf));
	for (cut = 0; cut < n; cut++) {
		/* a copy of exactly cut bytes, so valgrind sees any read past it */
		char *part = malloc(cut ? cut : 1);

		memcpy(part, buf, cut);
		memset(&out, 0, sizeof(out));
		assert_int_equal(crt_proc_create(NULL, part, cut, CRT_PROC_DECODE, &proc), 0);
		rc = CQF_tp_all.crf_proc_in(proc, &out);
		assert_int_equal(crt_proc_destroy(proc), 0);
		if (rc != -DER_HG)
			fail_msg("cut at %zu of %zu: rc %d", cut, n, rc);
		/* the generated unwind freed what had been decoded */
		assert_null(out.a_str);
		assert_null(out.a_ranks);
		assert_null(out.a_arr.ca_arrays);
		free(part);
	}
}

static void
failed_encode_leaves_caller_data(void **state)
{
	struct tp_all_in in;
	d_iov_t          sgiov[2];
	struct ox_point  pts[2];
	d_rank_list_t    rl;
	char             buf[1024];
	crt_proc_t       proc;

	(void)state;
	fill(&in, sgiov, pts, &rl);
	in.a_bulk = (crt_bulk_t)buf; /* fails to encode: the fields before it are unwound */
	assert_int_equal(crt_proc_create(NULL, buf, sizeof(buf), CRT_PROC_ENCODE, &proc), 0);
	assert_int_equal(CQF_tp_all.crf_proc_in(proc, &in), -DER_HG);
	assert_int_equal(crt_proc_destroy(proc), 0);
	assert_ptr_equal(in.a_str, str_text);
	assert_ptr_equal(in.a_ranks, &rl);
	assert_ptr_equal(rl.rl_ranks, ranks);
	assert_ptr_equal(in.a_sgl.sg_iovs, sgiov);
	assert_ptr_equal(in.a_iov.iov_buf, iov_data);
}

static void
malformed_messages(void **state)
{
	crt_proc_t     proc;
	d_string_t     s = NULL;
	d_rank_list_t *rl = (d_rank_list_t *)1;
	d_sg_list_t    sgl;
	/* a string whose length has no NUL at its end */
	uint8_t        bad_str[] = {2, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 0, 0};
	/* an sgl claiming 1<<31 iovs in a few bytes */
	uint8_t        bad_sgl[] = {0, 0, 0, 0x80, 0, 0, 0, 0, 1, 2, 3};
	/* an empty rank list decodes as NULL, as upstream */
	uint8_t        empty_rl[] = {0, 0, 0, 0};

	(void)state;
	assert_int_equal(crt_proc_create(NULL, bad_str, sizeof(bad_str), CRT_PROC_DECODE, &proc), 0);
	assert_int_equal(crt_proc_d_string_t(proc, CRT_PROC_DECODE, &s), -DER_HG);
	assert_null(s);
	assert_int_equal(crt_proc_reset(proc, bad_sgl, sizeof(bad_sgl), CRT_PROC_DECODE), 0);
	assert_int_equal(crt_proc_d_sg_list_t(proc, CRT_PROC_DECODE, &sgl), -DER_HG);
	assert_null(sgl.sg_iovs);
	assert_int_equal(crt_proc_reset(proc, empty_rl, sizeof(empty_rl), CRT_PROC_DECODE), 0);
	assert_int_equal(crt_proc_d_rank_list_t(proc, CRT_PROC_DECODE, &rl), 0);
	assert_null(rl);
	/* a decoded sgl never keeps a pointer the struct held before */
	{
		uint8_t empty_sgl[] = {0, 0, 0, 0, 3, 0, 0, 0};

		sgl.sg_iovs = (d_iov_t *)&sgl;
		assert_int_equal(crt_proc_reset(proc, empty_sgl, sizeof(empty_sgl), CRT_PROC_DECODE), 0);
		assert_int_equal(crt_proc_d_sg_list_t(proc, CRT_PROC_DECODE, &sgl), 0);
		assert_int_equal(sgl.sg_nr, 0);
		assert_int_equal(sgl.sg_nr_out, 3);
		assert_null(sgl.sg_iovs);
	}
	assert_int_equal(crt_proc_destroy(proc), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rpc_body_round_trip),
	    cmocka_unit_test(decoded_memory_is_libc_heap),
	    cmocka_unit_test(byte_format),
	    cmocka_unit_test(encoding_outgrows_the_buffer),
	    cmocka_unit_test(null_and_bad_arguments),
	    cmocka_unit_test(every_truncation_fails_cleanly),
	    cmocka_unit_test(failed_encode_leaves_caller_data),
	    cmocka_unit_test(malformed_messages),
	};

	return cmocka_run_group_tests_name("cart_proc", tests, NULL, NULL);
}
