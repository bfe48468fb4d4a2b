/*
 * gurt's log seen from C: d_log_init/fini reference counting, the environment (D_LOG_FILE,
 * D_LOG_MASK, DD_MASK, DD_SUBSYS, DD_STDERR, D_LOG_SIZE, D_LOG_FILE_APPEND_PID/RANK,
 * D_LOG_TRUNCATE, D_LOG_FLUSH, D_LOG_STDERR_IN_LOG), the line format, rotation, the facility
 * caches the D_* macros compile into callers, debug bits and groups, d_log_memory, and the
 * error returns for bad input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <signal.h>
#include <sys/wait.h>

#include <gurt/common.h>

static char tmpdir[] = "/tmp/test_dlog.XXXXXX";
static char path[512];

/* The whole file (NUL-terminated, caller frees), or NULL. */
static char *
slurp(const char *p, size_t *len)
{
	FILE  *f = fopen(p, "r");
	char  *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += (*s == '\n');
	return n;
}

/* The line of `text` containing `needle` (copied into out), or 0. */
static int
find_line(const char *text, const char *needle, char *out, size_t outsz)
{
	const char *hit = strstr(text, needle);
	const char *b, *e;

	if (hit == NULL)
		return 0;
	for (b = hit; b > text && b[-1] != '\n'; b--)
		;
	e = strchr(hit, '\n');
	assert_non_null(e);
	assert_true((size_t)(e - b + 2) <= outsz);
	memcpy(out, b, e - b + 1);
	out[e - b + 1] = '\0';
	return 1;
}

static void
clear_env(void)
{
	static const char *vars[] = {"D_LOG_FILE", "D_LOG_MASK", "DD_MASK", "DD_SUBSYS",
				     "DD_STDERR", "D_LOG_SIZE", "D_LOG_FILE_APPEND_PID",
				     "D_LOG_FILE_APPEND_RANK", "D_LOG_TRUNCATE", "D_LOG_FLUSH",
				     "D_LOG_STDERR_IN_LOG"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
}

static int
setup(void **state)
{
	(void)state;
	clear_env();
	snprintf(path, sizeof(path), "%s/log", tmpdir);
	unlink(path);
	setenv("D_LOG_FILE", path, 1);
	/* write every line at once so the tests can read the file */
	setenv("D_LOG_FLUSH", "DEBUG", 1);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -f %s/*", tmpdir);
	assert_int_equal(system(cmd), 0);
	clear_env();
	return 0;
}

/* Reference counting, gurt's facilities and debug bits. */
static void
test_init_fini(void **state)
{
	(void)state;
	assert_null(d_log_xst.tag);
	assert_int_equal(d_log_init(), 0);
	assert_non_null(d_log_xst.tag);
	assert_string_equal(d_log_xst.tag, "CaRT[");
	assert_int_equal(d_log_xst.fac_cnt, 6);
	assert_string_equal(d_log_xst.dlog_facs[0].fac_aname, "CLOG");
	assert_int_equal(d_misc_logfac, 1);
	assert_int_equal(d_mem_logfac, 2);
	assert_int_equal(d_swim_logfac, 3);
	assert_int_equal(d_fi_logfac, 4);
	assert_int_equal(d_telem_logfac, 5);
	assert_string_equal(d_log_xst.dlog_facs[d_telem_logfac].fac_aname, "telem");
	assert_true(DB_ALL == DLOG_DBG);
	assert_true(DB_ANY == 1 << 8);
	assert_true(DB_TRACE == 1 << 9);
	assert_true(DB_MEM == 1 << 10);
	assert_true(DB_NET == 1 << 11);
	assert_true(DB_IO == 1 << 12);
	assert_true(DB_TEST == 1 << 13);
	assert_int_equal(d_dbglog_data.dbg_bit_cnt, 6);
	assert_string_equal(d_dbg_bit_dict[5].db_name, "io");
	assert_int_equal(d_dbg_bit_dict[5].db_name_size, 3);
	assert_null(d_dbg_bit_dict[7].db_name);

	/* a second reference keeps it open */
	assert_int_equal(d_log_init(), 0);
	d_log_fini();
	assert_non_null(d_log_xst.tag);
	d_log_fini();
	assert_null(d_log_xst.tag);
	assert_int_equal(d_log_xst.fac_cnt, 0);
	assert_true(DB_IO == 0);
	assert_int_equal(d_dbglog_data.dbg_bit_cnt, 0);
	/* every cache is reset at close */
	assert_int_equal(d_misc_logfac_cache[DD_FLAG_DLOG_ERR_d_misc_logfac - 1], (int)DLOG_UNINIT);
}

/* "PRI  YYYY/MM/DD HH:MM:SS.uuuuuu host CaRT[pid/tid/0] fac file:line func() msg\n" */
static void
test_line_format(void **state)
{
	struct utsname u;
	char           host[65], *dot, *text, line[2048], want[256];
	int            y, mo, d, h, mi, s, us, pid, tid, n = 0;
	char           pri[8];
	unsigned long  uid;

	(void)state;
	assert_int_equal(d_log_init(), 0);
	D_ERROR("an error %d\n", 7);
	D_WARN("no newline");
	D_INFO("not logged at the default WARN\n");
	D_DEBUG(DB_IO, "not logged either\n");
	D_EMIT("emitted\n");
	D_TRACE_ERROR(&n, "traced\n");
	d_log_fini();

	text = slurp(path, NULL);
	assert_non_null(text);
	assert_int_equal(count_lines(text), 4);
	assert_null(strstr(text, "not logged"));

	uname(&u);
	strcpy(host, u.nodename);
	dot = strchr(host, '.');
	if (dot)
		*dot = '\0';

	assert_true(find_line(text, "an error 7", line, sizeof(line)));
	assert_int_equal(sscanf(line, "%4c %d/%d/%d %d:%d:%d.%d", pri, &y, &mo, &d, &h, &mi, &s, &us),
			 8);
	assert_memory_equal(line, "ERR  ", 5);
	assert_true(y >= 2024 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31);
	assert_int_equal(line[9], '/');
	assert_int_equal(line[15], ' ');
	assert_int_equal(line[24], '.');
	assert_int_equal(line[31], ' ');
	snprintf(want, sizeof(want), " %s CaRT[%d/", host, getpid());
	assert_non_null(strstr(line, want));
	assert_int_equal(sscanf(strstr(line, "CaRT[") + 5, "%d/%d/%lu] ", &pid, &tid, &uid), 3);
	assert_int_equal(pid, getpid());
	assert_true(tid > 0);
	assert_int_equal(uid, 0);
	snprintf(want, sizeof(want), "] misc %s:", __FILE__);
	assert_non_null(strstr(line, want));
	assert_non_null(strstr(line, " test_line_format() an error 7\n"));

	assert_true(find_line(text, "no newline", line, sizeof(line)));
	assert_memory_equal(line, "WARN ", 5);
	assert_non_null(strstr(line, "test_line_format() no newline\n"));
	assert_true(find_line(text, "emitted", line, sizeof(line)));
	assert_memory_equal(line, "EMIT ", 5);
	assert_true(find_line(text, "traced", line, sizeof(line)));
	snprintf(want, sizeof(want), " test_line_format(%p) traced\n", (void *)&n);
	assert_non_null(strstr(line, want));
	free(text);
}

/* Lines are cut to 1023 bytes and always end in a newline; an empty message is a header. */
static void
test_long_and_empty_lines(void **state)
{
	char  *big, *text, *l;
	size_t len;

	(void)state;
	big = malloc(3000);
	assert_non_null(big);
	memset(big, 'x', 2999);
	big[2999] = '\0';
	assert_int_equal(d_log_init(), 0);
	d_log(d_log_check(DLOG_ERR | d_misc_logfac), "%s", big);
	d_log(d_log_check(DLOG_ERR | d_misc_logfac), "%s", "");
	d_log_fini();
	free(big);

	text = slurp(path, &len);
	assert_non_null(text);
	assert_int_equal(count_lines(text), 2);
	l = strchr(text, '\n');
	assert_int_equal(l - text + 1, 1023);
	assert_int_equal(l[-1], 'x');
	/* the empty one: header only, "misc " then the newline */
	assert_int_equal(l[1 + strlen(l + 1) - 2], ' ');
	assert_memory_equal(l + 1 + strlen(l + 1) - 6, "misc \n", 6);
	free(text);
}

/* D_LOG_MASK, d_log_setmasks / getmasks / setlogmask, and the caches being reset. */
static void
test_masks_and_caches(void **state)
{
	char buf[256];
	int  slot = DD_FLAG_DLOG_INFO_d_misc_logfac - 1;
	int  n;

	(void)state;
	setenv("D_LOG_MASK", "ERR,mem=DEBUG", 1);
	assert_int_equal(d_log_init(), 0);
	n = d_log_getmasks(buf, 0, sizeof(buf), 0);
	assert_string_equal(buf, "CLOG=ERR,misc=ERR,mem=DBUG,swim=ERR,fi=ERR,telem=ERR\n");
	assert_int_equal(n, strlen(buf) + 1);
	assert_int_equal(d_log_getmasks(NULL, 0, 0, 0), n);
	assert_int_equal(d_log_getmasks(NULL, 0, 0, 1), n - 1);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(d_log_getmasks(buf, 5, 4, 1), 4);
	assert_string_equal(buf, "ERR,");

	/* the first D_INFO resolves the slot to "off" */
	assert_int_equal(d_misc_logfac_cache[slot], (int)DLOG_UNINIT);
	D_INFO("info while ERR\n");
	assert_int_equal(d_misc_logfac_cache[slot], 0);
	assert_int_equal(D_LOG_ENABLED(DLOG_INFO), 0);

	/* setmasks returns the old mask and resets every cache */
	assert_int_equal(d_log_setmasks("misc=INFO", -1), DLOG_ERR);
	assert_int_equal(d_misc_logfac_cache[slot], (int)DLOG_UNINIT);
	D_INFO("info now on\n");
	assert_int_equal(d_misc_logfac_cache[slot], DLOG_INFO | d_misc_logfac);
	assert_int_not_equal(D_LOG_ENABLED(DLOG_INFO), 0);

	/* so does setlogmask */
	assert_int_equal(d_log_setlogmask(d_misc_logfac, DLOG_CRIT), DLOG_INFO);
	assert_int_equal(d_misc_logfac_cache[slot], (int)DLOG_UNINIT);
	assert_int_equal(D_LOG_ENABLED(DLOG_ERR), 0);
	assert_int_not_equal(D_LOG_ENABLED(DLOG_CRIT), 0);

	/* long names, case, white space, lengths */
	/* only the last entry is trimmed: "warn " is not a priority, " " is empty */
	assert_int_equal(d_log_setmasks("MISC=warn , ", -1), 0);
	assert_int_equal(d_log_setmasks("MISC=warn", -1), DLOG_CRIT);
	assert_int_equal(d_log_setmasks("misc=infoXXX", 9), DLOG_WARN);
	d_log_getmasks(buf, 0, sizeof(buf), 0);
	assert_string_equal(buf, "CLOG=ERR,misc=INFO,mem=DBUG,swim=ERR,fi=ERR,telem=ERR\n");

	/* an unknown facility is -1; an unknown priority is skipped */
	assert_int_equal(d_log_setmasks("nosuch=DEBUG", -1), -1);
	assert_int_equal(d_log_setmasks("misc=BOGUS", -1), 0);
	assert_int_equal(d_log_setmasks("   ", -1), -1);
	assert_int_equal(d_log_setmasks(NULL, -1), -1);
	assert_int_equal(d_log_setlogmask(-1, DLOG_ERR), -1);

	/* setlogmask on a new facility number grows the table */
	assert_int_equal(d_log_setlogmask(9, DLOG_NOTE), DLOG_WARN);
	assert_int_equal(d_log_xst.fac_cnt, 10);
	d_log_getmasks(buf, 0, sizeof(buf), 0);
	assert_non_null(strstr(buf, ",6=WARN,7=WARN,8=WARN,9=NOTE\n"));

	/* D_LOG_MASK re-applied by d_log_sync_mask */
	setenv("D_LOG_MASK", "misc=EMIT", 1);
	d_log_sync_mask();
	assert_int_equal(d_log_xst.dlog_facs[d_misc_logfac].fac_mask, DLOG_EMIT);
	d_log_fini();
	assert_int_equal(d_log_getmasks(buf, 0, sizeof(buf), 0), 0);
	assert_int_equal(d_log_setmasks("ERR", -1), -1);
}

/* DD_MASK bits and groups select debug messages under D_LOG_MASK=DEBUG. */
static void
test_dd_mask(void **state)
{
	char    *text;
	d_dbug_t bit = 0;

	(void)state;
	setenv("D_LOG_MASK", "DEBUG", 1);
	setenv("DD_MASK", "io,MEM", 1);
	assert_int_equal(d_log_init(), 0);
	assert_true(d_dbglog_data.dd_mask == (DB_IO | DB_MEM));
	assert_int_equal(d_log_xst.dlog_facs[d_misc_logfac].fac_mask, (int)(DB_IO | DB_MEM));
	D_DEBUG(DB_IO, "io debug\n");
	D_DEBUG(DB_NET, "net debug\n");
	D_DEBUG(DB_ALL, "any bit\n");
	assert_int_equal(d_log_getdbgbit(&bit, "net"), 0);
	assert_true(bit == DB_NET);
	assert_int_equal(d_log_getdbgbit(&bit, "nosuch"), -1);
	assert_int_equal(d_log_getdbgbit(&bit, NULL), 0);

	/* a group made the default mask */
	assert_int_equal(d_log_dbg_grp_alloc(DB_NET | DB_TRACE, "netgrp", D_LOG_SET_AS_DEFAULT), 0);
	assert_true(d_dbglog_data.dd_mask == (DB_NET | DB_TRACE));
	assert_int_equal(d_dbglog_data.dbg_grp_cnt, 1);
	assert_int_equal(d_log_setmasks("DEBUG", -1), (int)(DB_IO | DB_MEM));
	D_DEBUG(DB_NET, "net now\n");
	D_DEBUG(DB_IO, "io now off\n");
	/* and named in DD_MASK */
	d_log_sync_mask_ex("DEBUG", "netgrp,io");
	assert_true(d_dbglog_data.dd_mask == (DB_NET | DB_TRACE | DB_IO));
	assert_int_equal(d_log_dbg_grp_dealloc("NETGRP"), 0);
	assert_int_equal(d_log_dbg_grp_dealloc("netgrp"), -1);
	assert_int_equal(d_log_dbg_grp_dealloc(NULL), -1);
	assert_int_equal(d_log_dbg_grp_alloc(0, "x", 0), -1);
	assert_int_equal(d_log_dbg_grp_alloc(DB_IO, NULL, 0), -1);
	assert_int_equal(d_dbglog_data.dbg_grp_cnt, 0);
	d_log_fini();

	text = slurp(path, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "DBUG "));
	assert_non_null(strstr(text, "() io debug\n"));
	assert_null(strstr(text, "net debug"));
	assert_non_null(strstr(text, "() any bit\n"));
	assert_non_null(strstr(text, "() net now\n"));
	assert_null(strstr(text, "io now off"));
	free(text);
}

/* Components' debug bits and facilities, the way cart registers them. */
#define TST_DB(ACTION, arg)                                                                        \
	ACTION(DB_TST1, tst1, tst1_long, 0, arg)                                                   \
	ACTION(DB_TST2, tst2, tst2_long, 0, arg)
#define TST_FAC(ACTION, arg) ACTION(tsta, tsta_long, arg)
TST_DB(D_LOG_INSTANTIATE_DB, D_NOOP)
TST_FAC(D_LOG_DECLARE_FAC, TST_DB)
TST_FAC(D_LOG_INSTANTIATE_FAC, TST_DB)

static void
test_component_bits_and_facilities(void **state)
{
	char    *text;
	char     names[10][8];
	d_dbug_t bits[11];
	int      i;

	(void)state;
	setenv("DD_MASK", "tst2_long", 1);
	assert_int_equal(d_log_init(), 0);
	assert_int_equal(D_LOG_REGISTER_DB(TST_DB), 0);
	assert_true(DB_TST1 == 1 << 14);
	assert_true(DB_TST2 == 1 << 15);
	assert_int_equal(D_LOG_REGISTER_FAC(TST_FAC), 0);
	assert_int_equal(d_tsta_logfac, 6);
	assert_string_equal(d_log_xst.dlog_facs[6].fac_lname, "tsta_long");
	setenv("D_LOG_MASK", "tsta_long=DEBUG", 1);
	d_log_sync_mask();
#undef D_LOGFAC
#define D_LOGFAC DD_FAC(tsta)
	D_DEBUG(DB_TST2, "component bit two\n");
	D_DEBUG(DB_TST1, "component bit one\n");
	assert_int_not_equal(D_LOG_ENABLED(DB_TST2), 0);
	assert_int_equal(D_LOG_ENABLED(DB_TST1), 0);
#undef D_LOGFAC
#define D_LOGFAC DD_FAC(misc)
	/* the same bit name again gives the same bit (and uses no new one) */
	assert_int_equal(d_dbglog_data.dbg_bit_cnt, 8);
	assert_int_equal(d_log_dbg_bit_alloc(&bits[0], "tst1", NULL), 0);
	assert_true(bits[0] == DB_TST1);
	assert_int_equal(d_dbglog_data.dbg_bit_cnt, 8);
	assert_int_equal(D_LOG_DEREGISTER_DB(TST_DB), 0);
	/* the name is gone (the caller's copy of the bit is the caller's) */
	assert_int_equal(d_log_getdbgbit(&bits[0], "tst1"), -1);
	assert_int_equal(d_dbglog_data.dbg_bit_cnt, 6);
	assert_int_equal(d_log_dbg_bit_dealloc("tst1"), -1);
	assert_int_equal(d_log_dbg_bit_dealloc(NULL), -1);
	assert_int_equal(d_log_dbg_bit_alloc(NULL, "x", NULL), -1);
	assert_int_equal(d_log_dbg_bit_alloc(&bits[0], NULL, NULL), -1);

	/* ten slots for components' bits, then no more */
	for (i = 0; i < 10; i++) {
		snprintf(names[i], sizeof(names[i]), "b%d", i);
		assert_int_equal(d_log_dbg_bit_alloc(&bits[i], names[i], names[i]), 0);
		assert_true(bits[i] == (d_dbug_t)1 << (14 + i));
	}
	assert_int_equal(d_log_dbg_bit_alloc(&bits[10], "one_too_many", NULL), -1);
	for (i = 0; i < 10; i++)
		assert_int_equal(d_log_dbg_bit_dealloc(names[i]), 0);
	assert_int_equal(d_dbglog_data.dbg_bit_cnt, 6);
	d_log_fini();

	text = slurp(path, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, " tsta " __FILE__ ":"));
	assert_non_null(strstr(text, "component bit two\n"));
	assert_null(strstr(text, "component bit one"));
	free(text);
}

/* DD_SUBSYS: facilities left out log only errors and worse. */
static void
test_dd_subsys(void **state)
{
	char *text;

	(void)state;
	setenv("DD_SUBSYS", "mem,fi", 1);
	assert_int_equal(d_log_init(), 0);
	assert_false(d_log_xst.dlog_facs[d_misc_logfac].is_enabled);
	assert_true(d_log_xst.dlog_facs[d_mem_logfac].is_enabled);
	assert_true(d_log_xst.dlog_facs[d_fi_logfac].is_enabled);
	assert_true(d_logfac_is_enabled("MEM"));
	assert_false(d_logfac_is_enabled("swim"));
	assert_false(d_logfac_is_enabled(NULL));
	D_WARN("misc warning dropped\n");
	D_ERROR("misc error kept\n");
	d_log(d_log_check(DLOG_WARN | d_mem_logfac), "mem warning kept\n");
	setenv("DD_SUBSYS", "ALL", 1);
	assert_true(d_logfac_is_enabled("swim"));
	unsetenv("DD_SUBSYS");
	assert_true(d_logfac_is_enabled("anything"));
	d_log_fini();

	text = slurp(path, NULL);
	assert_non_null(text);
	assert_null(strstr(text, "misc warning dropped"));
	assert_non_null(strstr(text, "misc error kept"));
	assert_non_null(strstr(text, "mem warning kept"));
	free(text);
}

/* DD_STDERR sets the lowest priority copied to stderr. */
static void
test_dd_stderr(void **state)
{
	static const struct {
		const char *val;
		d_dbug_t    want;
	} cases[] = {{"emit", DLOG_EMIT}, {"FATAL", DLOG_EMERG}, {"alert", DLOG_ALERT},
		     {"crit", DLOG_CRIT}, {"err", DLOG_ERR},     {"error", DLOG_ERR},
		     {"Warn", DLOG_WARN}, {"note", DLOG_NOTE},   {"info", DLOG_INFO},
		     {"debug", DLOG_DBG}, {"DBUG", DLOG_DBG},    {"emerg", 0},
		     {"ERRO", 0},         {"DEBUG_FOO", 0},      {"bogus", 0}};
	char   errpath[600], *text;
	size_t i;
	int    saved, fd;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		setenv("DD_STDERR", cases[i].val, 1);
		assert_int_equal(d_log_init(), 0);
		assert_true(d_dbglog_data.dd_prio_err == cases[i].want);
		d_log_fini();
	}
	/* unset keeps the last value */
	unsetenv("DD_STDERR");
	assert_int_equal(d_log_init(), 0);
	assert_true(d_dbglog_data.dd_prio_err == 0);
	d_log_fini();

	/* WARN and worse go to stderr too (part one of the header included: not a tty) */
	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	setenv("DD_STDERR", "warn", 1);
	assert_int_equal(d_log_init(), 0);
	D_WARN("to stderr\n");
	D_NOTE("not to stderr\n");
	D_EMIT("emit never copied\n");
	d_log_fini();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	text = slurp(errpath, NULL);
	assert_non_null(text);
	assert_int_equal(count_lines(text), 1);
	assert_memory_equal(text, "WARN ", 5);
	assert_non_null(strstr(text, "to stderr\n"));
	free(text);
	d_dbglog_data.dd_prio_err = 0;
}

/* D_LOG_SIZE: past the limit the file becomes NAME.first, later NAME.old. */
static void
test_rotation(void **state)
{
	char        line[900], first[600], old[600];
	struct stat st;
	int         i;

	(void)state;
	snprintf(first, sizeof(first), "%s.first", path);
	snprintf(old, sizeof(old), "%s.old", path);
	memset(line, 'r', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	setenv("D_LOG_SIZE", "1M", 1);
	assert_int_equal(d_log_init(), 0);
	for (i = 0; i < 1300; i++)
		D_ERROR("%d %s\n", i, line);
	assert_int_equal(stat(first, &st), 0);
	assert_true(st.st_size >= (1 << 20) - 1024 && st.st_size <= (1 << 20));
	assert_int_equal(stat(old, &st), -1);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 0 && st.st_size < (1 << 20));
	for (i = 0; i < 1300; i++)
		D_ERROR("%d %s\n", i, line);
	assert_int_equal(stat(old, &st), 0);
	assert_true(st.st_size >= (1 << 20) - 1024 && st.st_size <= (1 << 20));
	d_log_sync();
	d_log_fini();
}

/* D_LOG_FILE_APPEND_PID, D_LOG_FILE_APPEND_RANK with d_log_rank_setup, D_LOG_TRUNCATE. */
static void
test_file_names_and_truncate(void **state)
{
	char        p[700], *text;
	struct stat st;
	int         fd;

	(void)state;
	setenv("D_LOG_FILE_APPEND_PID", "1", 1);
	assert_int_equal(d_log_init(), 0);
	D_ERROR("pid file\n");
	d_log_fini();
	snprintf(p, sizeof(p), "%s.%d", path, getpid());
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(stat(path, &st), -1);
	unsetenv("D_LOG_FILE_APPEND_PID");

	setenv("D_LOG_FILE_APPEND_RANK", "1", 1);
	assert_int_equal(d_log_init(), 0);
	D_ERROR("before rank\n");
	d_log_rank_setup(3);
	d_log_rank_setup(4); /* only once */
	D_ERROR("after rank\n");
	d_log_fini();
	snprintf(p, sizeof(p), "%s.rank=3", path);
	text = slurp(p, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "before rank"));
	assert_non_null(strstr(text, "after rank"));
	free(text);
	unsetenv("D_LOG_FILE_APPEND_RANK");
	/* without the variable, no rename */
	assert_int_equal(d_log_init(), 0);
	d_log_rank_setup(5);
	D_ERROR("plain\n");
	d_log_fini();
	assert_int_equal(stat(path, &st), 0);

	/* appended by default; D_LOG_TRUNCATE writes from the start */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "OLD CONTENT\n", 12), 12);
	close(fd);
	assert_int_equal(d_log_init(), 0);
	D_ERROR("appended\n");
	d_log_fini();
	text = slurp(path, NULL);
	assert_memory_equal(text, "OLD CONTENT\n", 12);
	assert_non_null(strstr(text, "appended"));
	free(text);
	setenv("D_LOG_TRUNCATE", "1", 1);
	assert_int_equal(d_log_init(), 0);
	D_ERROR("from the start\n");
	d_log_fini();
	text = slurp(path, NULL);
	assert_memory_equal(text, "ERR  ", 5);
	assert_non_null(strstr(text, "from the start"));
	free(text);
}

/* Without D_LOG_FILE every line goes to stdout. */
static void
test_stdout_without_file(void **state)
{
	char outpath[600], *text;
	int  saved, fd;

	(void)state;
	unsetenv("D_LOG_FILE");
	snprintf(outpath, sizeof(outpath), "%s/stdout", tmpdir);
	fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	close(fd);
	assert_int_equal(d_log_init(), 0);
	D_ERROR("on stdout\n");
	d_log_fini();
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	text = slurp(outpath, NULL);
	assert_non_null(text);
	assert_memory_equal(text, "ERR  ", 5);
	assert_non_null(strstr(text, "on stdout\n"));
	free(text);
}

/* D_LOG_STDERR_IN_LOG merges stderr into the log file (in a child: it stays on). */
static void
test_stderr_in_log(void **state)
{
	char *text;
	pid_t pid;
	int   status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("D_LOG_STDERR_IN_LOG", "1", 1);
		if (d_log_init() != 0)
			_exit(1);
		D_ERROR("merged line\n");
		d_log_fini();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	text = slurp(path, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "merged line\n"));
	free(text);
}

/* d_log_open's flavors and id callback, and its bad parameters. */
static void
id_cb(uint32_t *xs_id, uint64_t *ult_id)
{
	if (xs_id)
		*xs_id = 77;
	if (ult_id)
		*ult_id = 88;
}

static void
vlog(int flags, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	d_vlog(flags, fmt, ap);
	va_end(ap);
}

static void
test_open_flavors(void **state)
{
	char *text, line[2048];

	(void)state;
	assert_int_equal(d_log_open(NULL, 0, DLOG_WARN, 0, path, 0, NULL), -1);
	assert_int_equal(d_log_open("T", -1, DLOG_WARN, 0, path, 0, NULL), -1);
	assert_int_equal(d_log_open("T", 0, 0x1, 0, path, 0, NULL), -1);
	assert_int_equal(d_log_open("T", 0, DLOG_WARN, 0x7, path, 0, NULL), -1);

	assert_int_equal(d_log_open("TAGX", 3, DLOG_INFO, 0, path,
				    DLOG_FLV_TAG | DLOG_FLV_LOGPID | DLOG_FLV_FAC, id_cb),
			 0);
	assert_int_equal(d_log_xst.fac_cnt, 3);
	d_log_reset(); /* this thread's ids come from id_cb from now on */
	assert_int_equal(d_log_open("again", 0, DLOG_INFO, 0, path, 0, NULL), -1);
	assert_int_equal(d_log_namefacility(1, "one", "ONE"), 0);
	assert_int_equal(d_log_namefacility(1, NULL, "ONE"), -1);
	assert_int_equal(d_log_allocfacility("two", "TWO"), 3);
	d_log(d_log_check(DLOG_NOTE | 1), "flavored %s\n", "line");
	d_log(d_log_check(DLOG_NOTE | 2), "unnamed facility\n");
	d_log(d_log_check(DLOG_NOTE | 20), "bad facility falls back to 0\n");
	vlog(0, "flags 0 is nothing\n");
	d_log_sync();
	d_log_close();
	d_log_close(); /* closed: nothing */

	assert_int_equal(d_log_open("NOPID", 0, DLOG_INFO, 0, path, DLOG_FLV_TAG, NULL), 0);
	d_log(d_log_check(DLOG_ERR), "plain tag\n");
	d_log_close();

	text = slurp(path, NULL);
	assert_non_null(text);
	assert_true(find_line(text, "flavored line", line, sizeof(line)));
	/* no year: "NOTE MM/DD hh:mm:ss.uuuuuu host TAGX[pid/77/88] one  msg" */
	assert_memory_equal(line, "NOTE ", 5);
	assert_int_equal(line[7], '/');
	assert_int_equal(line[10], ' ');
	assert_non_null(strstr(line, "/77/88] one  flavored line\n"));
	assert_true(find_line(text, "unnamed facility", line, sizeof(line)));
	assert_non_null(strstr(line, "] 2    unnamed facility\n"));
	assert_true(find_line(text, "bad facility", line, sizeof(line)));
	assert_non_null(strstr(line, "] CLOG bad facility"));
	assert_null(strstr(text, "flags 0"));
	assert_true(find_line(text, "plain tag", line, sizeof(line)));
	assert_non_null(strstr(line, " NOPID plain tag\n"));
	free(text);
}

/* Calls on a closed log return their errors and log nothing. */
static void
test_closed_log(void **state)
{
	char buf[16] = "unchanged";

	(void)state;
	assert_null(d_log_xst.tag);
	assert_int_equal(d_log_check(DLOG_EMERG), 0);
	assert_int_equal(d_log_allocfacility("a", "b"), -1);
	assert_int_equal(d_log_namefacility(1, "a", "b"), -1);
	assert_int_equal(d_log_setlogmask(0, DLOG_ERR), -1);
	assert_int_equal(d_log_setmasks("ERR", -1), -1);
	assert_int_equal(d_log_getmasks(buf, 0, sizeof(buf), 0), 0);
	assert_string_equal(buf, "unchanged");
	d_log(DLOG_ERR, "no log open\n"); /* dropped, no crash */
	D_ERROR("no log open\n");
	d_log_sync();
	d_log_add_cache(NULL, 3);
	d_log_reset();
	d_log_disable_logging();
	assert_int_equal(d_register_alt_assert(NULL), -DER_INVAL);
}

static int alt_hits;

static void
alt_assert(const int result, const char *expr, const char *file, const int line)
{
	(void)result;
	(void)expr;
	(void)file;
	(void)line;
	alt_hits++;
}

/* d_log_memory's dump and the alternative assert. */
static void
test_log_memory_and_assert(void **state)
{
	uint8_t *mem;
	char    *text, want[128];
	int      i;

	(void)state;
	mem = malloc(20);
	assert_non_null(mem);
	for (i = 0; i < 20; i++)
		mem[i] = i;
	assert_int_equal(d_log_init(), 0);
	d_log_memory(mem, 20);
	d_log_memory(NULL, 0);
	assert_int_equal(d_register_alt_assert(alt_assert), 0);
	D_ASSERTF(alt_hits == 0, "checked\n"); /* holds: nothing */
	assert_int_equal(alt_hits, 0);
	d_log_fini();

	text = slurp(path, NULL);
	assert_non_null(text);
	snprintf(want, sizeof(want), "d_log_memory() ptr=%p, size=20\n", (void *)mem);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "d_log_memory() %p: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f \n",
		 (void *)mem);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "d_log_memory() %p: 10 11 12 13 \n", (void *)(mem + 16));
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "d_log_memory() ptr=(nil), size=0\n"));
	assert_int_equal(strstr(text, "EMRG ") == text, 1);
	free(text);
	free(mem);
}

/* A log file that cannot be opened fails d_log_init with -DER_UNINIT and takes no reference. */
static void
test_init_failure(void **state)
{
	(void)state;
	setenv("D_LOG_FILE", "/nonexistent-dir/x/log", 1);
	assert_int_equal(d_log_init(), -DER_UNINIT);
	assert_null(d_log_xst.tag);
	/* the next good init is a first reference again */
	setenv("D_LOG_FILE", path, 1);
	assert_int_equal(d_log_init(), 0);
	d_log_fini();
	assert_null(d_log_xst.tag);
}

static int fd_marker = -1;

static void
marker_assert(const int result, const char *expr, const char *file, const int line)
{
	char buf[256];
	int  n;

	n = snprintf(buf, sizeof(buf), "%d %s", result, expr);
	(void)file;
	(void)line;
	if (write(fd_marker, buf, n) != n)
		_exit(3);
}

/* One d_log_fini too many is an assertion failure: the alternative assert is called with
 * the expression, then the process aborts (in a child). */
static void
test_fini_without_init_asserts(void **state)
{
	int   fds[2], status;
	char  buf[256] = {0};
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		fd_marker = fds[1];
		d_register_alt_assert(marker_assert);
		close(2); /* keep the expected assertion message out of the test output */
		d_log_fini();
		_exit(0); /* not reached */
	}
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_true(read(fds[0], buf, sizeof(buf) - 1) > 0);
	close(fds[0]);
	assert_string_equal(buf, "0 d_log_refcount > 0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_fini, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_and_empty_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_masks_and_caches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dd_mask, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_component_bits_and_facilities, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dd_subsys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dd_stderr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_names_and_truncate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stdout_without_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stderr_in_log, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_flavors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_closed_log, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_memory_and_assert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fini_without_init_asserts, setup, teardown),
	};
	int rc;

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	rc = cmocka_run_group_tests_name("gurt_dlog", tests, NULL, NULL);
	rmdir(tmpdir);
	return rc;
}
