/*
 * oxidaos libgurt: the variadic functions of gurt's misc area, which stable Rust cannot define.
 * They format with the C library and leave allocation and tracking to the Rust side.
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <gurt/common.h>

/* From capi/misc.rs: D_ALLOC/D_REALLOC as the library does them, and allocation tracking. */
void *__oxidaos_gurt_alloc(size_t size);
void *__oxidaos_gurt_realloc(void *old, size_t old_size, size_t size);
void  __oxidaos_gurt_track_alloc(void *ptr, size_t size);

/* First size of a string buffer's text. */
#define STRING_BUFFER_FIRST 64

int
d_asprintf(char **strp, const char *fmt, ...)
{
	va_list ap;
	int     rc;

	if (strp == NULL || fmt == NULL)
		return -1;

	va_start(ap, fmt);
	rc = vasprintf(strp, fmt, ap);
	va_end(ap);

	if (rc > 0 && *strp != NULL)
		__oxidaos_gurt_track_alloc(*strp, (size_t)rc);
	return rc;
}

char *
d_asprintf2(int *rc, const char *fmt, ...)
{
	char   *out = NULL;
	va_list ap;
	int     n;

	if (fmt == NULL) {
		if (rc != NULL)
			*rc = -1;
		return NULL;
	}

	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);

	if (rc != NULL)
		*rc = n;
	return n == -1 ? NULL : out;
}

int
d_write_string_buffer(struct d_string_buffer_t *buf, const char *fmt, ...)
{
	va_list ap;
	size_t  room;
	size_t  grown;
	char   *text;
	int     n;

	if (buf == NULL || buf->status != 0)
		return -DER_NO_PERM;
	if (fmt == NULL)
		return -DER_INVAL;

	if (buf->str == NULL) {
		buf->str = __oxidaos_gurt_alloc(STRING_BUFFER_FIRST);
		if (buf->str == NULL) {
			buf->status = -DER_NOMEM;
			return -DER_NOMEM;
		}
		buf->str_size = 0;
		buf->buf_size = STRING_BUFFER_FIRST;
	}

	for (;;) {
		room = buf->buf_size - buf->str_size;
		va_start(ap, fmt);
		n = vsnprintf(buf->str + buf->str_size, room, fmt, ap);
		va_end(ap);

		if (n < 0) {
			buf->status = -DER_TRUNC;
			return -DER_TRUNC;
		}
		if (buf->str_size + (size_t)n < buf->buf_size) {
			buf->str_size += (size_t)n;
			buf->status = DER_SUCCESS;
			return DER_SUCCESS;
		}

		/* Did not fit: double the buffer and format again. */
		grown = buf->buf_size * 2;
		text  = __oxidaos_gurt_realloc(buf->str, buf->buf_size, grown);
		if (text == NULL) {
			buf->status = -DER_NOMEM;
			return -DER_NOMEM;
		}
		buf->str      = text;
		buf->buf_size = grown;
	}
}
