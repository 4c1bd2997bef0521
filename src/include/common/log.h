/*
 * Logging: levels FATAL..TRACE and a per-subsystem level mask.
 *
 * Set from the environment at cairn_log_init():
 *   CAIRN_LOG_MASK="ERR,vos=DEBUG,net=INFO"   default level, then per-subsystem levels
 *   CAIRN_LOG_FILE=/path/to/file               default: stderr
 * and at run time with cairn_log_set_mask(). A disabled message costs one
 * byte compare: arguments are not evaluated and nothing is formatted.
 *
 * A .c file picks its subsystem by defining CAIRN_LOG_SS before including
 * this header (default CAIRN_SS_COMMON), then uses CAIRN_ERROR(), CAIRN_WARN(),
 * CAIRN_INFO(), CAIRN_DEBUG(), CAIRN_TRACE().
 */
#ifndef CAIRN_COMMON_LOG_H
#define CAIRN_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cairn_log_level {
	CAIRN_LOG_FATAL = 0,
	CAIRN_LOG_ERR,
	CAIRN_LOG_WARN,
	CAIRN_LOG_NOTE,
	CAIRN_LOG_INFO,
	CAIRN_LOG_DEBUG,
	CAIRN_LOG_TRACE,
};

/* Subsystems; names (lower case, as in CAIRN_LOG_MASK) are in log.c. */
enum cairn_log_ss {
	CAIRN_SS_COMMON = 0, /* "common" */
	CAIRN_SS_RT,         /* "rt" */
	CAIRN_SS_NET,        /* "net" */
	CAIRN_SS_BDEV,       /* "bdev" */
	CAIRN_SS_VOS,        /* "vos" */
	CAIRN_SS_ENGINE,     /* "engine" */
	CAIRN_SS_MGMT,       /* "mgmt" */
	CAIRN_SS_POOL,       /* "pool" */
	CAIRN_SS_CONT,       /* "cont" */
	CAIRN_SS_OBJ,        /* "obj" */
	CAIRN_SS_CLIENT,     /* "client" */
	CAIRN_SS_ISCSI,      /* "iscsi" */
	CAIRN_SS_SCSI,       /* "scsi" */
	CAIRN_SS_NVMF,       /* "nvmf" */
	CAIRN_SS_TGT,        /* "tgt" */
	CAIRN_SS_TOOL,       /* "tool" */
	CAIRN_SS_MAX
};

#ifndef CAIRN_LOG_SS
#define CAIRN_LOG_SS CAIRN_SS_COMMON
#endif

/* Current level per subsystem. Written only by log.c, with atomic stores (levels change at
 * run time, e.g. by the log_set_level RPC, while other threads log). */
extern uint8_t g_cairn_log_level[CAIRN_SS_MAX];

static inline bool
cairn_log_enabled(enum cairn_log_ss ss, enum cairn_log_level lvl)
{
	/* relaxed: a plain byte load, but not a data race */
	return (unsigned)lvl <= __atomic_load_n(&g_cairn_log_level[ss], __ATOMIC_RELAXED);
}

/* Read CAIRN_LOG_MASK and CAIRN_LOG_FILE. Returns 0 or -CAIRN_ERR_INVAL (bad mask: message
 * printed, defaults kept). Safe to call more than once. */
int cairn_log_init(void);
void cairn_log_fini(void);

/* "LEVEL[,ss=LEVEL...]"; levels: FATAL ERR WARN NOTE INFO DEBUG TRACE (case-insensitive;
 * ERROR and WARNING accepted). Unknown names -> -CAIRN_ERR_INVAL and nothing changes. */
int cairn_log_set_mask(const char *mask);
/* Log to a file (appending), or to stderr with NULL. */
int cairn_log_set_file(const char *path);
/* Name <-> id helpers (for JSON-RPC log_set_flag / log_set_level). */
int cairn_log_ss_from_name(const char *name);       /* id or -CAIRN_ERR_INVAL */
const char *cairn_log_ss_name(enum cairn_log_ss ss);
int cairn_log_level_from_name(const char *name);    /* level or -CAIRN_ERR_INVAL */
const char *cairn_log_level_name(enum cairn_log_level lvl);

void cairn_log_emit(enum cairn_log_ss ss, enum cairn_log_level lvl, const char *file, int line,
		    const char *func, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define CAIRN_LOG(ss, lvl, fmt, ...)                                                       \
	do {                                                                               \
		if (cairn_log_enabled((ss), (lvl)))                                        \
			cairn_log_emit((ss), (lvl), __FILE__, __LINE__, __func__, fmt,     \
				       ##__VA_ARGS__);                                     \
	} while (0)

/* At most `per_sec` messages per second from this call site; the rest are counted and
 * the count is reported with the next message that passes. For input from the network. */
#define CAIRN_LOG_RATELIMIT(ss, lvl, per_sec, fmt, ...)                                    \
	do {                                                                               \
		static struct cairn_log_rl _rl;                                            \
		if (cairn_log_enabled((ss), (lvl)) && cairn_log_rl_pass(&_rl, (per_sec)))  \
			cairn_log_emit((ss), (lvl), __FILE__, __LINE__, __func__, fmt,     \
				       ##__VA_ARGS__);                                     \
	} while (0)

struct cairn_log_rl {
	uint64_t window_start_ms;
	uint32_t passed;
	uint32_t suppressed;
};
bool cairn_log_rl_pass(struct cairn_log_rl *rl, uint32_t per_sec);

#define CAIRN_FATAL(fmt, ...) CAIRN_LOG(CAIRN_LOG_SS, CAIRN_LOG_FATAL, fmt, ##__VA_ARGS__)
#define CAIRN_ERROR(fmt, ...) CAIRN_LOG(CAIRN_LOG_SS, CAIRN_LOG_ERR, fmt, ##__VA_ARGS__)
#define CAIRN_WARN(fmt, ...)  CAIRN_LOG(CAIRN_LOG_SS, CAIRN_LOG_WARN, fmt, ##__VA_ARGS__)
#define CAIRN_NOTE(fmt, ...)  CAIRN_LOG(CAIRN_LOG_SS, CAIRN_LOG_NOTE, fmt, ##__VA_ARGS__)
#define CAIRN_INFO(fmt, ...)  CAIRN_LOG(CAIRN_LOG_SS, CAIRN_LOG_INFO, fmt, ##__VA_ARGS__)
#define CAIRN_DEBUG(fmt, ...) CAIRN_LOG(CAIRN_LOG_SS, CAIRN_LOG_DEBUG, fmt, ##__VA_ARGS__)
#define CAIRN_TRACE(fmt, ...) CAIRN_LOG(CAIRN_LOG_SS, CAIRN_LOG_TRACE, fmt, ##__VA_ARGS__)

/* ---- Additions (common engineer); the declarations above are fixed. ---- */

/* Set one subsystem's level. 0 or -CAIRN_ERR_INVAL (bad subsystem or level). */
int cairn_log_set_level(enum cairn_log_ss ss, enum cairn_log_level lvl);

/* Parse a mask (syntax as cairn_log_set_mask) into levels[] without applying it; levels[]
 * starts from the current levels. On error writes a one-line reason to err (may be NULL)
 * and returns -CAIRN_ERR_INVAL. */
int cairn_log_parse_mask(const char *mask, uint8_t levels[CAIRN_SS_MAX], char *err,
			 size_t errlen);

/* Current levels as "common=WARN,rt=DEBUG,..." (replayable through cairn_log_set_mask).
 * 0, -CAIRN_ERR_INVAL or -CAIRN_ERR_TRUNC (buffer too small; 256 bytes is enough). */
int cairn_log_get_mask(char *buf, size_t len);

/* Name shown in the line prefix for the calling thread (up to 15 chars; e.g. the
 * runtime sets "tgt1" on each xstream). NULL clears it ("-" is shown). */
void cairn_log_set_thread_name(const char *name);

#endif /* CAIRN_COMMON_LOG_H */
