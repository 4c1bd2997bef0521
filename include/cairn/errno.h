/**
 * \file
 * Cairn error codes: one error space for every layer.
 *
 * Functions return 0 on success and a negative value on failure: either
 * -CAIRN_ERR_* (Cairn's own range, starting at CAIRN_ERR_BASE) or -errno for
 * plain system errors passed through. cairn_strerror() names both.
 */
#ifndef CAIRN_ERRNO_H
#define CAIRN_ERRNO_H

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_ERR_BASE 1000

/** Cairn's own error codes. Return them negated: `return -CAIRN_ERR_INVAL;`. */
enum cairn_err {
	CAIRN_ERR_INVAL = CAIRN_ERR_BASE, /**< invalid argument or input */
	CAIRN_ERR_NOMEM,                  /**< out of memory */
	CAIRN_ERR_NOSPACE,                /**< storage full */
	CAIRN_ERR_EXIST,                  /**< already exists */
	CAIRN_ERR_NONEXIST,               /**< does not exist */
	CAIRN_ERR_BUSY,                   /**< in use */
	CAIRN_ERR_AGAIN,                  /**< try again (resource temporarily full) */
	CAIRN_ERR_TIMEDOUT,               /**< operation timed out */
	CAIRN_ERR_CANCELED,               /**< operation canceled */
	CAIRN_ERR_UNREACH,                /**< peer unreachable or dead */
	CAIRN_ERR_PROTO,                  /**< protocol error (malformed message) */
	CAIRN_ERR_CSUM,                   /**< checksum mismatch: data corrupt */
	CAIRN_ERR_IO,                     /**< I/O error from the device */
	CAIRN_ERR_NOSYS,                  /**< not supported */
	CAIRN_ERR_PERM,                   /**< permission denied */
	CAIRN_ERR_OVERFLOW,               /**< value or range too large */
	CAIRN_ERR_TRUNC,                  /**< buffer too small; result truncated */
	CAIRN_ERR_VERSION,                /**< incompatible format or ABI version */
	CAIRN_ERR_SHUTDOWN,               /**< service is shutting down */
	CAIRN_ERR_STALE,                  /**< stale handle or map version */
	CAIRN_ERR_NOTLEADER,              /**< not the service leader */
	CAIRN_ERR_CORRUPT,                /**< on-disk structure inconsistent */
	CAIRN_ERR_NOHANDLE,               /**< handle not found */
	CAIRN_ERR_ALREADY,                /**< operation already done / in progress */
	CAIRN_ERR_MISC,                   /**< unclassified failure */
	CAIRN_ERR_LAST
};

/**
 * Describe an error code.
 * \param[in] rc 0, -CAIRN_ERR_* or -errno (the sign is ignored).
 * \return a static, human-readable string; never NULL.
 */
const char *cairn_strerror(int rc);

/**
 * Short symbolic name of an error code, e.g. "CAIRN_ERR_NOSPACE" or "ENOENT".
 * \param[in] rc as for cairn_strerror().
 * \return a static string; never NULL.
 */
const char *cairn_errname(int rc);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_ERRNO_H */
