/* The first slice of oxidaos's libgurt seen from C, as DAOS code uses it: DER_* codes printed
 * with DF_RC/DP_RC, and system errors mapped with d_errno2der. Built against the installed
 * headers and library through pkg-config (see ./dev.sh demo). */
#include <errno.h>
#include <stdio.h>
#include <daos_errno.h>
#include <gurt/common.h>

int
main(void)
{
	int codes[] = {0, -DER_INVAL, -DER_TIMEDOUT, -DER_GRPVER, -DER_NOTLEADER, -DER_IO,
		       -DER_UNKNOWN, -4242};
	int errnos[] = {ENOMEM, ENOENT, EACCES, EIO};
	int i;

	printf("DER_* codes through libgurt's d_errstr/d_errdesc:\n");
	for (i = 0; i < (int)(sizeof(codes) / sizeof(codes[0])); i++)
		printf("  " DF_RC "\n", DP_RC(codes[i]));
	printf("system errors through d_errno2der:\n");
	for (i = 0; i < (int)(sizeof(errnos) / sizeof(errnos[0])); i++)
		printf("  errno %d -> " DF_RC "\n", errnos[i], DP_RC(d_errno2der(errnos[i])));
	return 0;
}
