/*
 * The process-wide handle table of libcairn (common/handle.h underneath).
 *
 * This header speaks in raw cookies and includes no public header, so the library's
 * files work with cookies and holders only; cli_hdl.c is the one file that sees the
 * table's objects (common's `struct cairn_hobj`, distinct from the public
 * `struct cairn_handle`).
 * Threads: any.
 */
#ifndef CAIRN_CLIENT_CLI_HDL_H
#define CAIRN_CLIENT_CLI_HDL_H

#include <stdint.h>

/* A reference-counted holder binding an object to a cookie. */
struct cli_href;

/* Table lifetime (cairn_init/fini). \return 0 or -CAIRN_ERR_NOMEM */
int cli_hdl_init(void);
void cli_hdl_fini(void);

/*
 * Wrap `obj` and insert it: one reference for the caller (*ref, may be NULL to drop
 * it at once, leaving only the table's). `free_cb(obj)` runs when the last goes.
 * \return 0, -CAIRN_ERR_INVAL (not initialised, NULL obj/free_cb, type 0),
 *         -CAIRN_ERR_NOMEM, -CAIRN_ERR_NOSPACE
 */
int cli_hdl_insert(void *obj, uint8_t type, void (*free_cb)(void *obj), struct cli_href **ref,
		   uint64_t *cookie);

/* The object of a cookie of the given type, with a reference (cli_href_put()); NULL if
 * unknown, stale, removed or of another type. */
void *cli_hdl_lookup(uint64_t cookie, uint8_t type, struct cli_href **ref);

/* Remove from the table; drops the table's reference. \return 0, -CAIRN_ERR_NOHANDLE */
int cli_hdl_remove(uint64_t cookie, uint8_t type);

void cli_href_get(struct cli_href *ref);
void cli_href_put(struct cli_href *ref);

/* Type byte of a cookie (0 for the null cookie). */
uint8_t cli_hdl_cookie_type(uint64_t cookie);

/* Live handles. */
uint32_t cli_hdl_count(void);

#endif /* CAIRN_CLIENT_CLI_HDL_H */
