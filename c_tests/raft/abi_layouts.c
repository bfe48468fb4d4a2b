/* The assertions are in the generated raft_layout_check.c: if this links, every layout in
 * compat/raft/layouts/ matched include/. */
#include <stdio.h>

extern int oxidaos_layout_types_checked;

int
main(void)
{
	printf("raft layouts: %d types match upstream's\n", oxidaos_layout_types_checked);
	return oxidaos_layout_types_checked > 0 ? 0 : 1;
}
