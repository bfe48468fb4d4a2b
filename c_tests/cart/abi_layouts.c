/* The assertions are in the generated cart_layout_check.c: if this links, every layout in
 * compat/cart/layouts/ matched include/cart. */
#include <stdio.h>

extern int oxidaos_layout_types_checked;

int
main(void)
{
	printf("cart layouts: %d types match upstream's\n", oxidaos_layout_types_checked);
	return oxidaos_layout_types_checked > 0 ? 0 : 1;
}
