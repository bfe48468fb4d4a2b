/* oxidaos: struct crt_req_format and the request formats libcart exports for its own protocols.
 *
 * struct crt_req_format (upstream's layout: crf_proc_in, crf_proc_out, then the const input and
 * output sizes; 32 bytes) is declared in <cart/types.h>, which this header includes, so a header
 * that only needs the struct or a CQF_<name> object can include this one alone: it pulls in no
 * RPC macros and no body structs. Upstream defines these objects with CRT_RPC_DEFINE in
 * crt_rpc.c and declares them in its private crt_rpc.h; the bodies they describe are declared
 * in <cart/crt_tools_internal.h> (control and self-test protocols) and the other internal
 * headers. Other internal formats (SWIM's, IV's) are declared beside their protocols.
 */
#ifndef OXIDAOS_CART_CRT_REQ_FORMAT_H
#define OXIDAOS_CART_CRT_REQ_FORMAT_H

#include <cart/types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* The control protocol (CTL_LS in the internal protocol; fault injection; ctl). */
extern struct crt_req_format CQF_crt_ctl_ep_ls;
extern struct crt_req_format CQF_crt_ctl_get_uri_cache;
extern struct crt_req_format CQF_crt_ctl_get_host;
extern struct crt_req_format CQF_crt_ctl_get_pid;
extern struct crt_req_format CQF_crt_ctl_dump_counters;
extern struct crt_req_format CQF_crt_ctl_fi_attr_set;
extern struct crt_req_format CQF_crt_ctl_fi_toggle;
extern struct crt_req_format CQF_crt_ctl_log_set;
extern struct crt_req_format CQF_crt_ctl_log_add_msg;

/* The self-test protocol (BOTH_EMPTY has no format: no body either way). */
extern struct crt_req_format CQF_crt_st_send_id_reply_iov;
extern struct crt_req_format CQF_crt_st_send_iov_reply_empty;
extern struct crt_req_format CQF_crt_st_both_iov;
extern struct crt_req_format CQF_crt_st_send_iov_reply_bulk;
extern struct crt_req_format CQF_crt_st_send_bulk_reply_iov;
extern struct crt_req_format CQF_crt_st_both_bulk;
extern struct crt_req_format CQF_crt_st_open_session;
extern struct crt_req_format CQF_crt_st_close_session;
extern struct crt_req_format CQF_crt_st_start;
extern struct crt_req_format CQF_crt_st_status_req;

#if defined(__cplusplus)
}
#endif

#endif /* OXIDAOS_CART_CRT_REQ_FORMAT_H */
