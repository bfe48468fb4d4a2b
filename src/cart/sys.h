/* Every public cart header, for bindgen (they bring in the gurt headers they use): the Rust
 * types and declarations that cross libcart's ABI are generated from these. */
#include <cart/types.h>
#include <cart/swim.h>
#include <cart/iv.h>
#include <cart/api.h>
#include <cart/crt_tree.h>
#include <cart/crt_swim_internal.h>
#include <cart/crt_rpc_internal.h>
