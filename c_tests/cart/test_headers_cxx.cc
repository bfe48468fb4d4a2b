/*
 * The cart headers from C++ (upstream's test_linkage.cpp is C++): the field-list macros expand
 * and the generated proc functions work through libcart, with -Wall -Wextra -Werror.
 */
#include <cstdio>
#include <string_view>
#include <cart/api.h>
#include <cart/crt_debug.h>
#include <cart/crt_provider.h>
#include <cart/crt_misc.h>

#define CRT_ISEQ_CXX ((uint64_t)(cx_a) CRT_VAR)((d_string_t)(cx_s) CRT_VAR)((uint32_t)(cx_arr) CRT_ARRAY)
#define CRT_OSEQ_CXX ((int32_t)(cx_rc) CRT_VAR)

CRT_RPC_DECLARE(cxx, CRT_ISEQ_CXX, CRT_OSEQ_CXX)
CRT_RPC_DEFINE(cxx, CRT_ISEQ_CXX, CRT_OSEQ_CXX)

int
main()
{
	char            buf[64];
	char            text[] = "c++";
	uint32_t        arr[2] = {5, 6};
	struct cxx_in   in     = {7, text, {2, arr}};
	struct cxx_in   out    = {0, nullptr, {0, nullptr}};
	crt_proc_t      proc;
	int             bad    = 0;

	if (crt_proc_create(nullptr, buf, sizeof(buf), CRT_PROC_ENCODE, &proc) != 0 ||
	    CQF_cxx.crf_proc_in(proc, &in) != 0 || crp_proc_get_size_used(proc) != 8 + 14 + 16)
		bad |= 1;
	crt_proc_reset(proc, buf, 8 + 14 + 16, CRT_PROC_DECODE);
	if (CQF_cxx.crf_proc_in(proc, &out) != 0 || out.cx_a != 7 || out.cx_arr.ca_count != 2 ||
	    out.cx_arr.ca_arrays[1] != 6 || out.cx_s == nullptr || std::string_view(out.cx_s) != "c++")
		bad |= 2;
	crt_proc_reset(proc, nullptr, 0, CRT_PROC_FREE);
	if (CQF_cxx.crf_proc_in(proc, &out) != 0 || out.cx_s != nullptr || out.cx_arr.ca_arrays != nullptr)
		bad |= 4;
	crt_proc_destroy(proc);
	if (CQF_cxx.crf_size_in != sizeof(struct cxx_in) || CQF_cxx.crf_size_out != 4)
		bad |= 8;
	{
		char *mod = nullptr, *opc = nullptr;

		crt_opc_decode(0xFF040000, &mod, &opc);
		if (std::string_view(opc) != "CRT_OPC_URI_LOOKUP" || !crt_provider_is_ofi(CRT_PROV_OFI_TCP) ||
		    crt_str_to_provider("ofi+tcp") != CRT_PROV_OFI_TCP || crt_genvs.inited ||
		    sizeof(crt_rpc_logfac_cache) != 64)
			bad |= 16;
	}
	std::printf("cart headers from C++: %s (%d)\n", bad ? "FAILED" : "ok", bad);
	return bad;
}
