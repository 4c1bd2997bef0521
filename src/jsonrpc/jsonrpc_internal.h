/*
 * Private to src/jsonrpc: writer state, request/connection structures, framing scanner.
 */
#ifndef CAIRN_JSONRPC_INTERNAL_H
#define CAIRN_JSONRPC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "jsonrpc/jsonrpc.h"

#define JW_MAX_DEPTH 128

struct cairn_json_write_ctx {
	char *buf;
	size_t len;
	size_t cap;
	int rc;                 /* first error, sticky */
	unsigned indent;
	unsigned depth;
	bool top_done;
	bool name_pending;
	bool in_object[JW_MAX_DEPTH];
	bool first[JW_MAX_DEPTH];
};

void jw_init(struct cairn_json_write_ctx *w, unsigned indent);
/* Validate balance; buffer kept in w->buf (NUL-terminated). */
int jw_finish(struct cairn_json_write_ctx *w);

/*
 * Framing: find the end of the first JSON value in buf[0..len).
 * Returns JR_SCAN_COMPLETE with start and end (value is buf[*start..*end)), JR_SCAN_NEED_MORE
 * (only whitespace or an incomplete value; *start is where the value begins), or
 * JR_SCAN_ERROR (nesting deeper than CAIRN_JSONRPC_MAX_DEPTH or a stray closing
 * bracket; the stream cannot be resynchronised).
 */
enum jr_scan_result { JR_SCAN_COMPLETE, JR_SCAN_NEED_MORE, JR_SCAN_ERROR };
struct jr_scanner {
	size_t pos;      /* bytes already scanned (resume point) */
	size_t start;    /* first byte of the current value */
	unsigned depth;
	bool started;
	bool in_string;
	bool escape;
	bool scalar;     /* bare top-level token (number, true, ...) */
};
void jr_scan_reset(struct jr_scanner *s);
enum jr_scan_result jr_scan(struct jr_scanner *s, const char *buf, size_t len, size_t *start,
			    size_t *end);

/* Process one complete top-level value (text of len bytes) as a request or batch and
 * dispatch it. Used by the server and by the fuzz target. Returns 0, or -CAIRN_ERR_PROTO
 * after a parse error (the caller closes the connection once the reply is flushed). */
struct jr_conn;
int jr_handle_value(struct jr_conn *conn, const char *text, size_t len);

/* Output sink of a connection; the server's implementation queues to a socket, the fuzz
 * target's discards. Called from any thread with the complete response text (taken). */
struct jr_out {
	struct jr_out *next;
	size_t len;
	size_t off;
	char data[];
};

struct jr_conn {
	struct cairn_jsonrpc_server *srv; /* NULL for a detached (fuzz/test) connection */
	int fd;
	atomic_uint refs;                 /* server's + one per outstanding request */
	atomic_uint outstanding;          /* requests dispatched, not yet answered */
	pthread_mutex_t lock;             /* out queue + closed */
	struct jr_out *out_head;
	struct jr_out *out_tail;
	size_t out_bytes;
	bool closed;                      /* server dropped it: answers are discarded */
	/* Owner-thread only: */
	char *rbuf;
	size_t rlen;
	size_t rcap;
	struct jr_scanner scan;
	bool read_eof;
	bool close_after_flush;
	bool want_out;
	bool readable;                    /* epoll reported input */
	struct jr_conn *next;
	int (*spawn)(void (*fn)(void *arg), void *arg);
	/* Detached sink (fuzz/tests): called instead of queueing, when srv == NULL. */
	void (*sink)(void *arg, const char *text, size_t len);
	void *sink_arg;
};

void jr_conn_get(struct jr_conn *c);
void jr_conn_put(struct jr_conn *c);
/* Queue a response (copied). Wakes the server. */
void jr_conn_send(struct jr_conn *c, const char *text, size_t len);
/* Server wake-up after a reply from another thread (or the same). */
void jr_server_wake(struct cairn_jsonrpc_server *srv);
void jr_server_put(struct cairn_jsonrpc_server *srv);

/* Detached connection for the fuzz target and unit tests: replies go to sink. */
struct jr_conn *jr_conn_detached(void (*sink)(void *arg, const char *text, size_t len),
				 void *arg);
void jr_conn_detached_free(struct jr_conn *c);

#endif /* CAIRN_JSONRPC_INTERNAL_H */
