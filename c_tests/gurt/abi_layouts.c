/* The assertions are in the generated gurt_layout_check.c: if this links, every layout in
 * compat/gurt/layouts.txt matched include/. */
#include <stdio.h>

extern int oxidaos_layout_types_checked;

int
main(void)
{
	printf("gurt layouts: %d types match upstream's\n", oxidaos_layout_types_checked);
	return oxidaos_layout_types_checked > 0 ? 0 : 1;
}
