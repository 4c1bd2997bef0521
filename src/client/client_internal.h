/*
 * Private to src/client: the pieces every libcairn API is built from.
 *
 * - handles (cli_hdl_*): the process-wide handle table (common/handle.h's
 *   `struct cairn_hobj` underneath), wrapped so the rest speaks in cookies;
 * - handle kinds (cli_htype_*): per-kind pack/unpack for local2global/global2local;
 * - events (cli_ev_*): launch/complete from the operation's side;
 * - tasks (cli_task_*, cli_sched_*): the scheduler with dependencies (DAOS TSE's role)
 *   and cli_task_run(), which makes any task-based operation sync or async.
 */
#ifndef CAIRN_CLIENT_INTERNAL_H
#define CAIRN_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/event.h"
#include "cairn/types.h"
#include "common/list.h"
#include "cli_hdl.h"

/* ------------------------------------------------------------------ library state */

/* Whether cairn_init() is in effect. */
bool cli_initialized(void);

/* ------------------------------------------------------------------ handles */

/* Handle kinds (the type byte of a cookie). Values are stored in global handles. */
enum cli_htype {
	CLI_HTYPE_EQ = 1,
	CLI_HTYPE_POOL = 2,
	CLI_HTYPE_CONT = 3,
	CLI_HTYPE_OBJ = 4,
	CLI_HTYPE_ARRAY = 5,
	CLI_HTYPE_KV = 6,
	CLI_HTYPE_TEST = 250, /* unit tests */
	CLI_HTYPE_MAX = 256,
};

/* The table itself: see cli_hdl.h (cookies as uint64_t). */

/* ------------------------------------------------------------------ handle kinds */

/*
 * How a kind of handle crosses processes. The payload format is the kind's own (it
 * must be explicit little-endian, versioned and validated by unpack); the envelope
 * (magic, version, kind, length, CRC32C) is added and checked by the library.
 */
struct cli_htype_ops {
	const char *name;
	/* Bytes pack() will need for this object. */
	size_t (*pack_size)(void *obj);
	/* Serialise into buf[len] (len == pack_size()). \return 0 or -errno-style rc */
	int (*pack)(void *obj, void *buf, size_t len);
	/* Build a new local object from a payload and insert it: *h is its handle.
	 * Must reject any malformed payload (-CAIRN_ERR_PROTO). */
	int (*unpack)(const void *buf, size_t len, struct cairn_handle *h);
};

/*
 * Register a kind's ops (once per process; ops must stay valid until unregistered).
 * \return 0, -CAIRN_ERR_INVAL (bad type or ops), -CAIRN_ERR_EXIST
 */
int cli_htype_register(enum cli_htype type, const struct cli_htype_ops *ops);
/* \return 0 or -CAIRN_ERR_NONEXIST */
int cli_htype_unregister(enum cli_htype type);

/* Global handle envelope, little-endian on the wire. */
#define CLI_GLOB_MAGIC 0x474e5243u /* "CRNG" */
#define CLI_GLOB_VERSION 1u
#define CLI_GLOB_HDR_SIZE 16u
#define CLI_GLOB_MAX_PAYLOAD (1u << 20)

/* ------------------------------------------------------------------ tasks */

struct cli_task;
struct cli_sched;

/* A task's body: start the work; finish with cli_task_complete() (now or later, from
 * any thread). The return value is ignored: report errors through complete(). */
typedef int (*cli_task_func_t)(struct cli_task *task);

/* Completion callback: runs after the body completed, in the progressing thread,
 * newest registered first. It may call cli_task_reinit() (another round of the body)
 * or cli_task_set_rc(). `arg` is the callback's private copy of the registered bytes. */
typedef int (*cli_task_cb_t)(struct cli_task *task, void *arg);

/* Bytes of argument space embedded in every task (cli_task_args()). */
#define CLI_TASK_ARGS_SIZE 256

/* cli_task_set_flags(): run the body even when a dependency failed (the body reads
 * cli_task_dep_rc()). Without it the task completes with the first failing dep's rc. */
#define CLI_TASK_RUN_ON_DEP_ERR 0x1u

struct cli_sched {
	pthread_mutex_t lock;
	struct cairn_list all;    /* every task not yet freed */
	struct cairn_list ready;  /* scheduled, deps met, body not yet run */
	struct cairn_list done;   /* completed, callbacks not yet run */
	uint64_t ntasks;          /* created and not freed */
	uint64_t ninflight;       /* scheduled and not finished */
	bool orphaned;            /* nobody progresses it: completions run inline */
	/* Called (no lock held) when work is queued from outside progress, so a thread
	 * waiting on the scheduler's owner (EQ) wakes up and progresses. */
	void (*wake_fn)(void *arg);
	void *wake_arg;
};

/* \return 0 or -CAIRN_ERR_NOMEM */
int cli_sched_init(struct cli_sched *sched, void (*wake_fn)(void *arg), void *wake_arg);
/* Cancel what has not started, run the remaining completions, then free.
 * \return 0, or -CAIRN_ERR_BUSY when bodies still running have not completed (nothing
 *         freed: try again after they complete). */
int cli_sched_fini(struct cli_sched *sched);
/* Run ready bodies and pending completions until none is left.
 * \return the number of bodies and completions processed */
int cli_sched_progress(struct cli_sched *sched);
/* Cancel every scheduled task that has not finished (see cli_task_cancel()). */
void cli_sched_cancel_all(struct cli_sched *sched, int rc);
/* From now on, completions are processed in the completing thread (nobody will call
 * cli_sched_progress() again: e.g. a force-destroyed EQ). Processes what is pending. */
void cli_sched_orphan(struct cli_sched *sched);
/* Tasks scheduled and not finished. */
uint64_t cli_sched_inflight(struct cli_sched *sched);

/* Create a task (not scheduled yet); one reference, dropped when it has finished.
 * \return 0, -CAIRN_ERR_INVAL, -CAIRN_ERR_NOMEM */
int cli_task_create(cli_task_func_t func, struct cli_sched *sched, struct cli_task **out);
/* Free a task that was never scheduled. */
void cli_task_destroy(struct cli_task *task);
/* Extra references keep a finished task's memory (rc, args) readable. */
void cli_task_addref(struct cli_task *task);
void cli_task_decref(struct cli_task *task);

void *cli_task_args(struct cli_task *task);
void cli_task_set_priv(struct cli_task *task, void *priv);
void *cli_task_get_priv(struct cli_task *task);
void cli_task_set_flags(struct cli_task *task, unsigned int flags);
struct cli_sched *cli_task2sched(struct cli_task *task);
int cli_task_rc(struct cli_task *task);
/* First failing dependency's rc (0 when all succeeded). */
int cli_task_dep_rc(struct cli_task *task);
/* Override the result from a completion callback. */
void cli_task_set_rc(struct cli_task *task, int rc);
/* Whether cancellation was requested (bodies that wait long should check). */
bool cli_task_canceled(struct cli_task *task);

/* Make `task` wait for deps[0..n-1] (before it is scheduled; deps on the same
 * scheduler). \return 0, -CAIRN_ERR_INVAL (scheduled already, self, other scheduler),
 * -CAIRN_ERR_NOMEM */
int cli_task_register_deps(struct cli_task *task, int n, struct cli_task **deps);
/* Push a completion callback with arg_size bytes copied from arg.
 * \return 0, -CAIRN_ERR_INVAL, -CAIRN_ERR_NOMEM */
int cli_task_register_comp_cb(struct cli_task *task, cli_task_cb_t cb, const void *arg,
			      size_t arg_size);
/* Hand the task to its scheduler. With `instant` and no pending deps, the body runs in
 * the calling thread before this returns. \return 0 or -CAIRN_ERR_INVAL (scheduled) */
int cli_task_schedule(struct cli_task *task, bool instant);
/*
 * Run a one-task operation: a task of `body` whose args hold the op pointer, with `done`
 * registered as completion callback (arg: the op pointer; it frees the op), then `extra`
 * (when not NULL) with extra_size bytes of extra_arg. When the task never reaches its
 * scheduler (creation, registration or launch failed), no callback runs and discard(op)
 * frees it here. \return as cli_task_run().
 */
/* A zeroed op of `size` bytes for a call on handle `cookie` of type `type` (CLI_HTYPE_*):
 * *obj = the handle's object, *ref = the reference taken on it. NULL with *rc =
 * -CAIRN_ERR_INVAL (libcairn not initialised), -CAIRN_ERR_NOMEM or -CAIRN_ERR_NOHANDLE. */
struct cli_href;
void *cli_op_new(size_t size, uint64_t cookie, uint8_t type, void **obj, struct cli_href **ref,
                 int *rc);
int cli_op_start(cli_task_func_t body, cli_task_cb_t done, void *op, void (*discard)(void *op),
                 struct cairn_event *ev);
int cli_op_start_cb(cli_task_func_t body, cli_task_cb_t done, void *op, void (*discard)(void *op),
                    cli_task_cb_t extra, const void *extra_arg, size_t extra_size,
                    struct cairn_event *ev);
/* Report the body's result (any thread, once per round). */
void cli_task_complete(struct cli_task *task, int rc);
/* From a completion callback: run the body again (same or new func; NULL keeps it);
 * callbacks not yet run stay registered for the next completion. Dependencies may be
 * registered again before the callback returns. \return 0 or -CAIRN_ERR_INVAL */
int cli_task_reinit(struct cli_task *task, cli_task_func_t func);
/* Cancel: a task not yet running completes with rc (normally -CAIRN_ERR_CANCELED)
 * without running its body; a running one is flagged and its cancel hook called (the
 * body still completes it). A task not yet scheduled completes at schedule time.
 * \return 0, -CAIRN_ERR_ALREADY (finished, completing, or already canceled) */
int cli_task_cancel(struct cli_task *task, int rc);
/* Hook called (once, any thread, possibly under an event lock: it must not call event
 * functions) when a running task is canceled, e.g. to abort an RPC. */
void cli_task_set_cancel_cb(struct cli_task *task, void (*cb)(struct cli_task *task));

/* Complete `ev` with the task's final rc when the task finishes (also binds abort). */
int cli_task_bind_event(struct cli_task *task, struct cairn_event *ev);

/*
 * The generic async/sync helper every API call ends with:
 *   ev != NULL: bind, launch ev, start the body now; return 0 (result in
 *               ev->ev_error once the EQ is polled / the event tested) or an error
 *               before anything ran (the task is destroyed, ev stays READY).
 *   ev == NULL: run the task on the library's scheduler and wait for it; return its rc.
 * `task` must come from cli_task_create() on cli_ev2sched(ev).
 */
int cli_task_run(struct cli_task *task, struct cairn_event *ev);

/* ------------------------------------------------------------------ events */

/* The scheduler an operation for `ev` must use: its EQ's, or the library's for NULL or
 * an event without EQ. NULL when the library is not initialised. */
struct cli_sched *cli_ev2sched(struct cairn_event *ev);
/* The library's own scheduler (events without EQ, synchronous calls). */
struct cli_sched *cli_lib_sched(void);

/* Mark an event RUNNING (READY, or a parent running only for its children).
 * \return 0 or -CAIRN_ERR_INVAL */
int cli_ev_launch(struct cairn_event *ev);
/* Complete a RUNNING/ABORTED event from any thread (rc ignored for an aborted event:
 * it completes with -CAIRN_ERR_CANCELED). */
void cli_ev_complete(struct cairn_event *ev, int rc);
/* Hook run (outside locks) by cairn_event_abort(); NULL to clear. */
void cli_ev_set_abort_cb(struct cairn_event *ev, void (*cb)(void *arg), void *arg);

/* Library-wide event state (called by cairn_init/fini). */
int cli_ev_lib_init(void);
/* \return 0 or -CAIRN_ERR_BUSY (EQs still exist) */
int cli_ev_lib_fini(void);

/*
 * Extension point for the network layer: a progress function the library calls from
 * cairn_eq_poll(), cairn_event_test() and synchronous waits, with how long it may block
 * (0: don't). Returns the number of completions it made, or a negative rc.
 */
typedef int (*cli_progress_fn)(void *arg, uint64_t timeout_us);
void cli_set_net_progress(cli_progress_fn fn, void *arg);
int cli_net_progress(uint64_t timeout_us);

#endif /* CAIRN_CLIENT_INTERNAL_H */
