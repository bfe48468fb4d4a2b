/* Every public cart header, for bindgen (they bring in the gurt headers they use): the Rust
 * types and declarations that cross libcart's ABI are generated from these. */
#include <cart/types.h>
#include <cart/swim.h>
#include <cart/iv.h>
#include <cart/api.h>
#include <cart/crt_tree.h>
#include <cart/crt_swim_internal.h>
#include <cart/crt_debug.h>
#include <cart/crt_provider.h>
#include <cart/crt_misc.h>
#include <cart/crt_req_format.h>
#include <cart/crt_tools_internal.h>
#include <cart/crt_internal_types.h>
#include <cart/crt_iv_internal.h>
#include <cart/crt_rpc_internal.h>
