/* The headers whose layouts are asserted: the same list bindgen reads for the Rust side. */
#include "../../src/gurt/sys.h"
