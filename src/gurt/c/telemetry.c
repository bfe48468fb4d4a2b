/*
 * oxidaos: the variadic telemetry entry points. Each formats its path printf-style into a
 * D_TM_MAX_NAME_LEN buffer, notes whether that worked (-DER_INVAL when vsnprintf fails,
 * -DER_EXCEEDS_PATH_LEN when the path does not fit) and hands everything to the Rust
 * implementation, which checks its arguments in upstream's order.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#include <stdarg.h>
#include <stdio.h>
#include <gurt/telemetry_producer.h>

int __oxidaos_tm_add_metric(struct d_tm_node_t **node, int metric_type, const char *desc,
			    const char *units, const char *fmt, const char *path, int path_rc);
int __oxidaos_tm_add_ephemeral_dir(struct d_tm_node_t **node, size_t size_bytes, const char *fmt,
				   const char *path, int path_rc);
int __oxidaos_tm_attach_path_segment(key_t key, const char *fmt, const char *path, int path_rc);
int __oxidaos_tm_del_ephemeral_dir(const char *fmt, const char *path, int path_rc, int force);

static int tm_format_path(char *path, const char *fmt, va_list ap)
{
	int n;

	if (fmt == NULL)
		return 0;
	n = vsnprintf(path, D_TM_MAX_NAME_LEN, fmt, ap);
	if (n < 0)
		return -DER_INVAL;
	if (n >= D_TM_MAX_NAME_LEN)
		return -DER_EXCEEDS_PATH_LEN;
	return 0;
}

int
d_tm_add_metric(struct d_tm_node_t **node, int metric_type, char *desc, char *units,
		const char *fmt, ...)
{
	char	path[D_TM_MAX_NAME_LEN] = {0};
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = tm_format_path(path, fmt, ap);
	va_end(ap);
	return __oxidaos_tm_add_metric(node, metric_type, desc, units, fmt, path, rc);
}

int
d_tm_add_ephemeral_dir(struct d_tm_node_t **node, size_t size_bytes, const char *fmt, ...)
{
	char	path[D_TM_MAX_NAME_LEN] = {0};
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = tm_format_path(path, fmt, ap);
	va_end(ap);
	return __oxidaos_tm_add_ephemeral_dir(node, size_bytes, fmt, path, rc);
}

int
d_tm_attach_path_segment(key_t key, const char *fmt, ...)
{
	char	path[D_TM_MAX_NAME_LEN] = {0};
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = tm_format_path(path, fmt, ap);
	va_end(ap);
	return __oxidaos_tm_attach_path_segment(key, fmt, path, rc);
}

int
d_tm_del_ephemeral_dir(const char *fmt, ...)
{
	char	path[D_TM_MAX_NAME_LEN] = {0};
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = tm_format_path(path, fmt, ap);
	va_end(ap);
	return __oxidaos_tm_del_ephemeral_dir(fmt, path, rc, 1);
}

int
d_tm_try_del_ephemeral_dir(const char *fmt, ...)
{
	char	path[D_TM_MAX_NAME_LEN] = {0};
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = tm_format_path(path, fmt, ap);
	va_end(ap);
	return __oxidaos_tm_del_ephemeral_dir(fmt, path, rc, 0);
}
