/*
 * oxidaos: gurt telemetry, the part producers and consumers share (DAOS's
 * gurt/telemetry_common.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause-Patent
 *
 * The structures below are not only a C API: a producer lays them out inside SysV shared
 * memory segments and other processes (daos_metrics, the Go control plane) read them there.
 * Their layout is therefore a cross-process contract. Pointers stored inside a segment are
 * the producer's addresses; a consumer converts them with d_tm_conv_ptr().
 */
#ifndef __TELEMETRY_COMMON_H__
#define __TELEMETRY_COMMON_H__

#include <gurt/common.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* Version of the telemetry API and segment layout. */
#define D_TM_VERSION			1

/* Limits of the strings kept per node (each including its terminating NUL). */
#define D_TM_MAX_NAME_LEN		256
#define D_TM_MAX_DESC_LEN		128
#define D_TM_MAX_UNIT_LEN		32
/* Room for a ctime_r() string. */
#define D_TM_TIME_BUFF_LEN		26

/* Key of instance 0's root segment (instance N uses this + N) and the default size. */
#define D_TM_SHARED_MEMORY_KEY		0x10242048
#define D_TM_SHARED_MEMORY_SIZE		(1024 * 1024)

/*
 * Unit strings a caller may hand to d_tm_add_metric(). Time first, then storage sizes
 * (decimal and binary prefixes), then rates built from those.
 */
#define D_TM_YEAR			"y"
#define D_TM_MONTH			"mo"
#define D_TM_WEEK			"w"
#define D_TM_DAY			"d"
#define D_TM_HOUR			"h"
#define D_TM_MINUTE			"min"
#define D_TM_SECOND			"s"
#define D_TM_MILLISECOND		"ms"
#define D_TM_MICROSECOND		"us"
#define D_TM_NANOSECOND			"ns"

#define D_TM_BIT			"b"
#define D_TM_BYTE			"B"
#define D_TM_KILOBIT			"kbit"
#define D_TM_KIBIBIT			"Kibit"
#define D_TM_KILOBYTE			"kB"
#define D_TM_KIBIBYTE			"KiB"
#define D_TM_MEGABIT			"Mbit"
#define D_TM_MEBIBIT			"Mibit"
#define D_TM_MEGABYTE			"MB"
#define D_TM_MEBIBYTE			"MiB"
#define D_TM_GIGABIT			"Gbit"
#define D_TM_GIGIBIT			"Gibit"
#define D_TM_GIGABYTE			"GB"
#define D_TM_GIGIBYTE			"GiB"
#define D_TM_TERABIT			"Tbit"
#define D_TM_TEBIBIT			"Tibit"
#define D_TM_TERABYTE			"TB"
#define D_TM_TEBIBYTE			"TiB"
#define D_TM_PETABIT			"Pbit"
#define D_TM_PEBIBIT			"Pibit"
#define D_TM_PETABYTE			"PB"
#define D_TM_PEBIBYTE			"PiB"
#define D_TM_EXABIT			"Ebit"
#define D_TM_EXBIBIT			"Eibit"
#define D_TM_EXABYTE			"EB"
#define D_TM_EXBIBYTE			"EiB"
#define D_TM_ZETTABIT			"Zbit"
#define D_TM_ZEBIBIT			"Zibit"
#define D_TM_ZETTABYTE			"ZB"
#define D_TM_ZEBIBYTE			"ZiB"
#define D_TM_YOTTABIT			"Ybit"
#define D_TM_YOBIBIT			"Yibit"
#define D_TM_YOTTABYTE			"YB"
#define D_TM_YOBIBYTE			"YiB"

#define D_TM_BIT_PER_SECOND		D_TM_BIT "/s"
#define D_TM_BYTE_PER_SECOND		D_TM_BYTE "/s"
#define D_TM_KILOBIT_PER_SECOND		D_TM_KILOBIT "/s"
#define D_TM_KIBIBIT_PER_SECOND		D_TM_KIBIBIT "/s"
#define D_TM_KILOBYTE_PER_SECOND	D_TM_KILOBYTE "/s"
#define D_TM_KIBIBYTE_PER_SECOND	D_TM_KIBIBYTE "/s"
#define D_TM_MEGABIT_PER_SECOND		D_TM_MEGABIT "/s"
#define D_TM_MEBIBIT_PER_SECOND		D_TM_MEBIBIT "/s"
#define D_TM_MEGABYTE_PER_SECOND	D_TM_MEGABYTE "/s"
#define D_TM_MEBIBYTE_PER_SECOND	D_TM_MEBIBYTE "/s"
#define D_TM_GIGABIT_PER_SECOND		D_TM_GIGABIT "/s"
#define D_TM_GIGIBIT_PER_SECOND		D_TM_GIGIBIT "/s"
#define D_TM_GIGABYTE_PER_SECOND	D_TM_GIGABYTE "/s"
#define D_TM_GIGIBYTE_PER_SECOND	D_TM_GIGIBYTE "/s"
#define D_TM_TERABIT_PER_SECOND		D_TM_TERABIT "/s"
#define D_TM_TEBIBIT_PER_SECOND		D_TM_TEBIBIT "/s"
#define D_TM_TERABYTE_PER_SECOND	D_TM_TERABYTE "/s"
#define D_TM_TEBIBYTE_PER_SECOND	D_TM_TEBIBYTE "/s"
#define D_TM_PETABIT_PER_SECOND		D_TM_PETABIT "/s"
#define D_TM_PEBIBIT_PER_SECOND		D_TM_PEBIBIT "/s"
#define D_TM_PETABYTE_PER_SECOND	D_TM_PETABYTE "/s"
#define D_TM_PEBIBYTE_PER_SECOND	D_TM_PEBIBYTE "/s"
#define D_TM_EXABIT_PER_SECOND		D_TM_EXABIT "/s"
/* DAOS spells this one without the slash ("Eibits"); kept as it is. */
#define D_TM_EXBIBIT_PER_SECOND		D_TM_EXBIBIT "s"
#define D_TM_EXABYTE_PER_SECOND		D_TM_EXABYTE "/s"
#define D_TM_EXBIBYTE_PER_SECOND	D_TM_EXBIBYTE "/s"
#define D_TM_ZETTABIT_PER_SECOND	D_TM_ZETTABIT "/s"
#define D_TM_ZEBIBIT_PER_SECOND		D_TM_ZEBIBIT "/s"
#define D_TM_ZETTABYTE_PER_SECOND	D_TM_ZETTABYTE "/s"
#define D_TM_ZEBIBYTE_PER_SECOND	D_TM_ZEBIBYTE "/s"
#define D_TM_YOTTABIT_PER_SECOND	D_TM_YOTTABIT "/s"
#define D_TM_YOBIBIT_PER_SECOND		D_TM_YOBIBIT "/s"
#define D_TM_YOTTABYTE_PER_SECOND	D_TM_YOTTABYTE "/s"
#define D_TM_YOBIBYTE_PER_SECOND	D_TM_YOBIBYTE "/s"

/* Names of the clocks timers and durations may use (d_tm_clock_string()). */
#define D_TM_CLOCK_REALTIME_STR		"CLOCK_REALTIME"
#define D_TM_CLOCK_PROCESS_CPUTIME_STR	"CLOCK_PROCESS_CPUTIME_ID"
#define D_TM_CLOCK_THREAD_CPUTIME_STR	"CLOCK_THREAD_CPUTIME_ID"

/* Node types (a bit mask: timers and durations carry one D_TM_CLOCK_* bit too). */
enum {
	D_TM_DIRECTORY			= 0x001,
	D_TM_COUNTER			= 0x002,
	D_TM_TIMESTAMP			= 0x004,
	D_TM_TIMER_SNAPSHOT		= 0x008,
	D_TM_DURATION			= 0x010,
	D_TM_GAUGE			= 0x020,
	D_TM_STATS_GAUGE		= 0x040,
	D_TM_CLOCK_REALTIME		= 0x080,
	D_TM_CLOCK_PROCESS_CPUTIME	= 0x100,
	D_TM_CLOCK_THREAD_CPUTIME	= 0x200,
	D_TM_LINK			= 0x400,
	D_TM_MEMINFO			= 0x800,
	/* every node kind, without the clock bits */
	D_TM_ALL_NODES			= D_TM_DIRECTORY | D_TM_COUNTER | D_TM_TIMESTAMP |
					  D_TM_TIMER_SNAPSHOT | D_TM_DURATION | D_TM_GAUGE |
					  D_TM_STATS_GAUGE | D_TM_LINK | D_TM_MEMINFO,
};

/* Flags of d_tm_init() / d_tm_init_with_name(). */
enum {
	D_TM_SERVER_PROCESS		= 0x000,
	D_TM_SERIALIZATION		= 0x001, /* per-node process-shared mutexes */
	D_TM_RETAIN_SHMEM		= 0x002, /* keep the segments after d_tm_fini() */
	D_TM_RETAIN_SHMEM_IF_NON_EMPTY	= 0x004, /* ... only if the root has children */
	D_TM_OPEN_OR_CREATE		= 0x008, /* reuse an existing root segment */
	D_TM_MULTIPLE_WRITER_LOCK	= 0x010, /* writers of several processes share a root */
	D_TM_NO_SHMEM			= 0x020, /* process-private memory (clients) */
};

/* Output formats of the print functions. */
enum {
	D_TM_STANDARD			= 0x001,
	D_TM_CSV			= 0x002,
};

/* Optional fields of the print functions. */
enum {
	D_TM_INCLUDE_TIMESTAMP		= 0x001,
	D_TM_INCLUDE_METADATA		= 0x002,
	D_TM_INCLUDE_TYPE		= 0x004,
};

/* What an iteration callback does with each node. */
enum {
	D_TM_ITER_READ			= 0x001,
	D_TM_ITER_RESET			= 0x002,
};

/*
 * Statistics of a stats gauge or a duration. Mean and standard deviation are derived when
 * the metric is read; the producer keeps min, max, sum, sum of squares and the count.
 */
struct d_tm_stats_t {
	uint64_t	dtm_min;
	uint64_t	dtm_max;
	uint64_t	dtm_sum;
	double		std_dev;
	double		mean;
	double		sum_of_squares;
	uint64_t	sample_size;
};

/* One histogram bucket: the value range it counts and its counter node. */
struct d_tm_bucket_t {
	uint64_t		 dtb_min;
	uint64_t		 dtb_max;
	struct d_tm_node_t	*dtb_bucket;
};

/* Histogram of a stats gauge or a duration. */
struct d_tm_histogram_t {
	struct d_tm_bucket_t	*dth_buckets;
	bool			 dth_fast_bucketing;	/* widths are powers of two */
	int			 dth_num_buckets;
	int			 dth_initial_width;
	int			 dth_value_multiplier;
};

/* The mallinfo2() fields a meminfo metric records. */
struct d_tm_meminfo_t {
	uint64_t	arena;
	uint64_t	ordblks;
	uint64_t	uordblks;
	uint64_t	fordblks;
};

/* The value of a metric node, with its optional statistics, histogram and metadata. */
struct d_tm_metric_t {
	union data {
		uint64_t		value;
		struct timespec		tms[2];
		struct d_tm_meminfo_t	meminfo;
	}			 dtm_data;
	struct d_tm_stats_t	*dtm_stats;
	struct d_tm_histogram_t	*dtm_histogram;
	char			*dtm_desc;
	char			*dtm_units;
};

/* A node of the telemetry tree: a directory, a metric or a link to another segment. */
struct d_tm_node_t {
	struct d_tm_node_t	*dtn_child;	/* first child */
	struct d_tm_node_t	*dtn_sibling;	/* next sibling */
	char			*dtn_name;
	int			 dtn_type;	/* D_TM_* bits */
	key_t			 dtn_shmem_key;	/* key of the segment holding the node */
	pthread_mutex_t		 dtn_lock;	/* used when dtn_protect is set */
	struct d_tm_metric_t	*dtn_metric;
	bool			 dtn_protect;
	_Atomic bool		 dtn_readable;	/* set once the node is complete */
};

/* A list of nodes returned by d_tm_list() and d_tm_list_subdirs(). */
struct d_tm_nodeList_t {
	struct d_tm_node_t	*dtnl_node;
	struct d_tm_nodeList_t	*dtnl_next;
};

/* A generous estimate of the segment space one metric takes. */
#define D_TM_METRIC_SIZE							\
	(sizeof(struct d_tm_node_t) + sizeof(struct d_tm_metric_t) +		\
	 D_TM_MAX_DESC_LEN + D_TM_MAX_NAME_LEN + D_TM_MAX_UNIT_LEN +		\
	 sizeof(struct d_tm_stats_t))

/* A telemetry session (opaque): the producer's own, or one from d_tm_open(). */
struct d_tm_context;

/* Key of a server instance's root segment, and of a client process's (by pid). */
key_t
d_tm_get_srv_key(int srv_idx);
key_t
d_tm_cli_pid_key(int pid);

/* The node a link points to (the node itself when it is not a link); NULL if gone. */
struct d_tm_node_t *
d_tm_follow_link(struct d_tm_context *ctx, struct d_tm_node_t *link);

/* Node lists: append (allocating the list when *nodelist is NULL), and free. */
int
d_tm_list_add_node(struct d_tm_node_t *src, struct d_tm_nodeList_t **nodelist);
void
d_tm_list_free(struct d_tm_nodeList_t *nodeList);

/* D_TM_VERSION. */
int
d_tm_get_version(void);

/* Statistics and histograms (producer side: node pointers in the producer's space). */
void
d_tm_compute_stats(struct d_tm_node_t *node, uint64_t value);
double
d_tm_compute_standard_dev(double sum_of_squares, uint64_t sample_size, double mean);
void
d_tm_compute_histogram(struct d_tm_node_t *node, uint64_t value);
void
d_tm_print_stats(FILE *stream, struct d_tm_stats_t *stats, int format);

/*
 * Destroys the segment with this key and, recursively, the ephemeral segments attached below
 * it (0 when there is none). libgurt exports it although DAOS's public headers do not
 * declare it; it is declared here so that the definition is checked against one prototype.
 */
int
destroy_shmem_with_key(key_t key);

#endif /* __TELEMETRY_COMMON_H__ */
