/**
 * \file
 * Event queues and events: how asynchronous libcairn calls report completion.
 *
 * Every libcairn operation takes a `struct cairn_event *ev` last. With an event the call
 * is asynchronous: it returns 0 once the operation is launched and the operation's
 * result is later found in `ev->ev_error` when the event completes. With `ev == NULL`
 * the call is synchronous and returns the operation's result.
 *
 * An event belongs to an event queue (EQ) or to none. Completed events of an EQ are
 * harvested with cairn_eq_poll(); an event without an EQ is waited for with
 * cairn_event_test(). Each EQ also has an eventfd, so an application can put the EQ
 * in its own epoll set and sleep: see cairn_eq_get_fd() for when it is readable.
 *
 * Event states: INIT (not initialised or finalised) -> READY (cairn_event_init, or
 * harvested) -> RUNNING (an operation was launched) -> COMPLETED (result known, not yet
 * harvested) -> READY. ABORTED is RUNNING after cairn_event_abort(): the event still
 * completes, with ev_error == -CAIRN_ERR_CANCELED.
 *
 * A parent event groups children: children are initialised with the parent, are never
 * placed on the EQ themselves, and the parent completes once its own operation (if
 * any) and every launched child have completed; its ev_error is its own error or else
 * the first child error. cairn_event_parent_barrier() launches a parent with no
 * operation of its own, so it completes when the children do. Children must be
 * launched before the parent's own operation completes or its barrier is set.
 *
 * Threads: every function may be called from any thread. Operations may complete on
 * any thread (e.g. a network progress thread); pollers are woken.
 */
#ifndef CAIRN_EVENT_H
#define CAIRN_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Event states (see the file comment). */
enum cairn_ev_state {
	CAIRN_EVS_INIT = 0,
	CAIRN_EVS_READY,
	CAIRN_EVS_RUNNING,
	CAIRN_EVS_COMPLETED,
	CAIRN_EVS_ABORTED,
};

/**
 * An event. Allocate it anywhere (stack, array, inside your own request struct) and
 * initialise it with cairn_event_init(). Only `ev_error` is for the application; the
 * rest is the library's.
 */
struct cairn_event {
	int ev_error;          /**< result of the operation once COMPLETED */
	uint32_t ev_reserved;  /**< zero */
	uint64_t ev_private[22]; /**< library state; do not touch */
	uint64_t ev_debug;     /**< free for the application (e.g. a request id) */
};

/** Timeout value for "wait forever". */
#define CAIRN_EQ_WAIT (-1)
/** Timeout value for "do not wait". */
#define CAIRN_EQ_NOWAIT 0

/** cairn_eq_destroy() flag: destroy even with events in flight (they are aborted). */
#define CAIRN_EQ_DESTROY_FORCE 0x1u

/** cairn_eq_query() selectors. */
#define CAIRN_EQR_COMPLETED 0x1u /**< completed, not yet polled */
#define CAIRN_EQR_WAITING 0x2u   /**< launched, not completed */
#define CAIRN_EQR_ALL (CAIRN_EQR_COMPLETED | CAIRN_EQR_WAITING)

/**
 * Create an event queue.
 * \param[out] eqh the new EQ's handle
 * \return 0; -CAIRN_ERR_INVAL (eqh NULL, or cairn_init() not called);
 *         -CAIRN_ERR_NOMEM; -errno if the eventfd cannot be created.
 */
int cairn_eq_create(struct cairn_handle *eqh);

/**
 * Destroy an event queue.
 * \param[in] eqh   the EQ
 * \param[in] flags 0, or CAIRN_EQ_DESTROY_FORCE to destroy it although events are in
 *                  flight or completed and not polled: running events are aborted and
 *                  their completions discarded.
 * \return 0; -CAIRN_ERR_NOHANDLE (unknown or destroyed EQ); -CAIRN_ERR_BUSY (events
 *         launched or completed and not polled, without FORCE); -CAIRN_ERR_INVAL (unknown
 *         flags).
 */
int cairn_eq_destroy(struct cairn_handle eqh, unsigned int flags);

/**
 * Harvest completed events. Each returned event is back in the READY state.
 * Also progresses the EQ's internal work (task scheduler, network).
 * \param[in]  eqh          the EQ
 * \param[in]  wait_running if non-zero, return at once (0) when no event of the EQ is in
 *                          flight instead of waiting for the timeout
 * \param[in]  timeout_us   how long to wait for the first completion: CAIRN_EQ_NOWAIT,
 *                          CAIRN_EQ_WAIT (forever) or microseconds
 * \param[in]  nevents      size of `events` (>= 1)
 * \param[out] events       completed events, oldest first
 * \return the number of events returned (0 on timeout); -CAIRN_ERR_NOHANDLE;
 *         -CAIRN_ERR_INVAL (nevents 0, events NULL, timeout < -1).
 */
int cairn_eq_poll(struct cairn_handle eqh, int wait_running, int64_t timeout_us,
		  unsigned int nevents, struct cairn_event **events);

/**
 * Count or list the events of an EQ without harvesting them.
 * \param[in]  eqh     the EQ
 * \param[in]  query   CAIRN_EQR_COMPLETED, CAIRN_EQR_WAITING or both
 * \param[in]  nevents size of `events` (may be 0)
 * \param[out] events  up to nevents matching events (may be NULL when nevents is 0)
 * \return the number of matching events (may exceed nevents); -CAIRN_ERR_NOHANDLE;
 *         -CAIRN_ERR_INVAL (no selector, or events NULL with nevents > 0).
 */
int cairn_eq_query(struct cairn_handle eqh, unsigned int query, unsigned int nevents,
		   struct cairn_event **events);

/**
 * The EQ's eventfd (level-triggered use: EPOLLIN). It is readable while completed
 * events wait to be polled, and also as soon as an operation of the EQ finished on
 * any thread (e.g. libcairn's network thread) since the last cairn_eq_poll(): such an
 * operation's event completes inside the next cairn_eq_poll(), so a thread sleeping in
 * epoll/poll on this fd is woken without anybody polling the EQ. It becomes unreadable
 * once cairn_eq_poll() has harvested every completed event and processed every
 * finished operation; a wake-up may occasionally find nothing to harvest (poll again
 * later). Do not read or close it; call cairn_eq_poll() when it is readable.
 * \param[in]  eqh the EQ
 * \param[out] fd  the descriptor
 * \return 0; -CAIRN_ERR_NOHANDLE; -CAIRN_ERR_INVAL (fd NULL).
 */
int cairn_eq_get_fd(struct cairn_handle eqh, int *fd);

/**
 * Initialise an event.
 * \param[in] ev     the event (any memory the caller owns until cairn_event_fini())
 * \param[in] eqh    its EQ, or CAIRN_HANDLE_NULL for an event that is waited for with
 *                   cairn_event_test(); ignored for a child (it uses its parent's)
 * \param[in] parent NULL, or a READY parent event this one becomes a child of
 * \return 0; -CAIRN_ERR_INVAL (ev NULL, cairn_init() not called, parent not READY or
 *         itself a child); -CAIRN_ERR_NOHANDLE (unknown EQ).
 */
int cairn_event_init(struct cairn_event *ev, struct cairn_handle eqh,
		     struct cairn_event *parent);

/**
 * Finalise an event (and, for a parent, all its children).
 * \param[in] ev the event
 * \return 0; -CAIRN_ERR_BUSY (the event or a child is launched and not yet harvested);
 *         -CAIRN_ERR_INVAL (ev NULL or not initialised).
 */
int cairn_event_fini(struct cairn_event *ev);

/**
 * Wait for an event to complete. A completed event of an EQ is taken off the EQ (it
 * will not be returned by cairn_eq_poll()) and becomes READY.
 * \param[in]  ev         the event (a parent or a standalone event; not a child)
 * \param[in]  timeout_us CAIRN_EQ_NOWAIT, CAIRN_EQ_WAIT or microseconds
 * \param[out] flag       true when the event completed (its result is ev->ev_error)
 * \return 0 (see flag); -CAIRN_ERR_INVAL (NULL argument, child event, bad timeout,
 *         event not initialised).
 */
int cairn_event_test(struct cairn_event *ev, int64_t timeout_us, bool *flag);

/**
 * Launch a parent with no operation of its own: it completes when every launched child
 * has completed (at once, on the EQ, if none is in flight).
 * \param[in] ev a parent event, READY or RUNNING only because of its children
 * \return 0; -CAIRN_ERR_INVAL (not a parent, or has its own operation launched);
 *         -CAIRN_ERR_ALREADY (barrier already set).
 */
int cairn_event_parent_barrier(struct cairn_event *ev);

/**
 * Abort the operation of a running event (and of its children). The event still
 * completes, promptly, with ev_error == -CAIRN_ERR_CANCELED unless it had already
 * completed. A parent running only for its children completes once they have.
 * \param[in] ev the event
 * \return 0; -CAIRN_ERR_INVAL (ev NULL or not initialised); -CAIRN_ERR_ALREADY (not
 *         running: never launched, completed, or already aborted).
 */
int cairn_event_abort(struct cairn_event *ev);

/**
 * Current state of an event (a snapshot).
 * \param[in] ev the event
 * \return a cairn_ev_state value; CAIRN_EVS_INIT for NULL.
 */
enum cairn_ev_state cairn_event_state(struct cairn_event *ev);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_EVENT_H */
