/* Linked with no oxidaos library: finds gurt only if oxidaos-run preloaded it. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int
main(void)
{
	const char *(*errstr)(int) = (const char *(*)(int))dlsym(RTLD_DEFAULT, "d_errstr");

	if (errstr == NULL) {
		fprintf(stderr, "d_errstr not interposed\n");
		return 1;
	}
	if (strcmp(errstr(-1003), "DER_INVAL") != 0)
		return 1;
	printf("d_errstr interposed by LD_PRELOAD: %s\n", errstr(-1003));
	return 0;
}
