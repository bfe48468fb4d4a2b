/* Every public cart header, for the layout assertions (gen_layout_check.py). */
#include <cart/types.h>
#include <cart/swim.h>
#include <cart/iv.h>
#include <cart/api.h>
#include <cart/crt_swim_internal.h>
