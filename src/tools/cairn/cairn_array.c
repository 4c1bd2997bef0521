/*
 * `cairn array write|read|size`: quick access to byte arrays (include/cairn/array.h)
 * from the shell. Arrays made here have 1-byte cells and the container's chunk size
 * (property chunk_size, 1 MiB by default); a write to an object that holds no array yet
 * creates it.
 *   cairn array write POOL CONT OID OFFSET (-i FILE | -v VALUE)
 *   cairn array read  POOL CONT OID OFFSET LENGTH [-O FILE]   (holes read as zeros)
 *   cairn array size  POOL CONT OID
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/array.h>
#include <cairn/cont.h>
#include <cairn/errno.h>
#include <cairn/obj.h>

#include "common/units.h"

#include "cairn_array.h"

#define ARR_READ_MAX (1ull << 30)

static int
arr_fail(const char *what, int rc)
{
	fprintf(stderr, "cairn: %s: %s\n", what, cairn_strerror(rc));
	if (rc == -CAIRN_ERR_UNREACH || rc == -CAIRN_ERR_TIMEDOUT)
		return 3;
	return 1;
}

static int
arr_u64(const char *s, const char *name, uint64_t min, uint64_t *out)
{
	char err[128];

	if (cairn_parse_size(s, out, err, sizeof(err)) || *out < min) {
		fprintf(stderr, "cairn: %s '%s': %s\n", name, s, *out < min ? "too small" : err);
		return 2;
	}
	return 0;
}

int
cairn_cli_array(const char *sub, struct cairn_handle coh, char **argv, int argc,
                const struct cairn_cli_array_opts *o)
{
	struct cairn_obj_id oid = {0};
	struct cairn_handle ah;
	struct cairn_iov iov;
	uint64_t lo, off = 0, len = 0, size;
	void *buf = NULL;
	size_t n;
	int rc, ret = 1;

	if (argc < 1 || arr_u64(argv[0], "OID", 0, &lo))
		return 2;
	if (strcmp(sub, "write") == 0 && (argc != 2 || (o->in_file == NULL) == (o->value == NULL)))
		return 2;
	if (strcmp(sub, "read") == 0 && argc != 3)
		return 2;
	if (strcmp(sub, "size") == 0 && argc != 1)
		return 2;
	if (strcmp(sub, "write") && strcmp(sub, "read") && strcmp(sub, "size"))
		return 2;
	if (argc >= 2 && arr_u64(argv[1], "OFFSET", 0, &off))
		return 2;
	if (argc >= 3 && arr_u64(argv[2], "LENGTH", 1, &len))
		return 2;
	if (len > ARR_READ_MAX) {
		fprintf(stderr, "cairn: LENGTH: at most 1G per read\n");
		return 2;
	}
	oid.lo = lo;
	rc = cairn_obj_id_generate(&oid, CAIRN_OT_ARRAY_BYTE, o->oclass);
	if (rc)
		return 2;
	rc = cairn_array_open(coh, oid, &ah, NULL, NULL, NULL);
	if (rc == -CAIRN_ERR_NONEXIST && strcmp(sub, "write") == 0)
		rc = cairn_array_create(coh, oid, 1, 0, &ah, NULL); /* 0: the container's */
	if (rc == -CAIRN_ERR_EXIST) /* another writer created it first */
		rc = cairn_array_open(coh, oid, &ah, NULL, NULL, NULL);
	if (rc == -CAIRN_ERR_NONEXIST) {
		fprintf(stderr, "cairn: no array in object %s (write to it first)\n", argv[0]);
		return 1;
	}
	if (rc)
		return arr_fail("array open", rc);
	if (strcmp(sub, "size") == 0) {
		rc = cairn_array_get_size(ah, &size, NULL);
		if (rc) {
			ret = arr_fail("array size", rc);
			goto out;
		}
		printf("%llu\n", (unsigned long long)size);
		ret = 0;
	} else if (strcmp(sub, "write") == 0) {
		if (o->value) {
			n = strlen(o->value);
			buf = strdup(o->value);
		} else {
			rc = o->read_file(o->in_file, &buf, &n);
			if (rc)
				goto out;
		}
		if (buf == NULL || n == 0) {
			fprintf(stderr, "cairn: nothing to write\n");
			goto out;
		}
		cairn_iov_set(&iov, buf, n);
		rc = cairn_array_write(ah, off, &iov, NULL);
		if (rc) {
			ret = arr_fail("array write", rc);
			goto out;
		}
		ret = 0;
	} else {
		FILE *f;

		buf = malloc(len);
		if (buf == NULL) {
			fprintf(stderr, "cairn: no memory for %llu bytes\n",
			        (unsigned long long)len);
			goto out;
		}
		cairn_iov_set(&iov, buf, len);
		rc = cairn_array_read(ah, off, &iov, NULL);
		if (rc) {
			ret = arr_fail("array read", rc);
			goto out;
		}
		f = o->out_file && strcmp(o->out_file, "-") ? fopen(o->out_file, "wb") : stdout;
		if (f == NULL) {
			fprintf(stderr, "cairn: cannot write %s: %s\n", o->out_file,
			        strerror(errno));
			goto out;
		}
		if (fwrite(buf, 1, len, f) != len)
			fprintf(stderr, "cairn: write failed: %s\n", strerror(errno));
		else
			ret = 0;
		if (f != stdout && fclose(f) != 0)
			ret = 1;
	}
out:
	free(buf);
	cairn_array_close(ah, NULL);
	return ret;
}
