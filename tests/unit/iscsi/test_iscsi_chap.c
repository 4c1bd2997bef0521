/* MD5 (RFC 1321 test suite) and CHAP (RFC 1994) target-side exchanges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/errno.h"
#include "iscsi_internal.h"

static void
md5_hex(const char *s, char out[33])
{
	struct iscsi_md5 c;
	uint8_t d[16];
	int i;

	iscsi_md5_init(&c);
	iscsi_md5_update(&c, s, strlen(s));
	iscsi_md5_final(&c, d);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
test_md5_vectors(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{"", "d41d8cd98f00b204e9800998ecf8427e"},
		{"a", "0cc175b9c0f1b6a831c399e269772661"},
		{"abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
		{"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		 "d174ab98d277d9f5a5611c2c9f419d9f"},
		{"1234567890123456789012345678901234567890123456789012345678901234567890123456"
		 "7890",
		 "57edf4a22be3c955ac49da2e2107b67a"},
	};
	char out[33];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		md5_hex(v[i].in, out);
		assert_string_equal(out, v[i].out);
	}
}

static void
test_md5_split_updates(void **state)
{
	const char *s = "The quick brown fox jumps over the lazy dog, again and again and again!";
	struct iscsi_md5 a, b;
	uint8_t da[16], db[16];
	size_t i;

	(void)state;
	iscsi_md5_init(&a);
	iscsi_md5_update(&a, s, strlen(s));
	iscsi_md5_final(&a, da);
	iscsi_md5_init(&b);
	for (i = 0; i < strlen(s); i++)
		iscsi_md5_update(&b, s + i, 1);
	iscsi_md5_final(&b, db);
	assert_memory_equal(da, db, 16);
}

static void
test_bin_codec(void **state)
{
	uint8_t out[16];
	char hex[64];

	(void)state;
	assert_int_equal(iscsi_bin_decode("0x0102ff", out, sizeof(out)), 3);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[2], 0xff);
	assert_int_equal(iscsi_bin_decode("0xABC", out, sizeof(out)), 2); /* odd: 0x0a 0xbc */
	assert_int_equal(out[0], 0x0a);
	assert_int_equal(out[1], 0xbc);
	assert_int_equal(iscsi_bin_decode("0bAQID", out, sizeof(out)), 3); /* base64 */
	assert_int_equal(out[2], 3);
	assert_int_equal(iscsi_bin_decode("0xzz", out, sizeof(out)), -CAIRN_ERR_INVAL);
	assert_int_equal(iscsi_bin_decode("1234", out, sizeof(out)), -CAIRN_ERR_INVAL);
	assert_int_equal(iscsi_bin_decode("0x", out, sizeof(out)), -CAIRN_ERR_INVAL);
	assert_int_equal(iscsi_bin_decode("0x00112233445566778899aabbccddeeff00", out, 16),
			 -CAIRN_ERR_OVERFLOW);
	assert_int_equal(iscsi_bin_encode_hex(out, 3, hex, sizeof(hex)), 0);
	assert_string_equal(hex, "0x010203");
	assert_int_equal(iscsi_bin_encode_hex(out, 3, hex, 5), -CAIRN_ERR_TRUNC);
}

static int
lookup(void *arg, const char *user, struct iscsi_chap_secret *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	if (strcmp(user, "alice") == 0) {
		snprintf(out->secret, sizeof(out->secret), "alice-secret");
		return 0;
	}
	if (strcmp(user, "bob") == 0) {
		snprintf(out->secret, sizeof(out->secret), "bob-secret");
		snprintf(out->muser, sizeof(out->muser), "tgt");
		snprintf(out->msecret, sizeof(out->msecret), "tgt-secret");
		return 0;
	}
	return -CAIRN_ERR_NONEXIST;
}

/* Parse our reply (CHAP_I, CHAP_C) out of a textbuf. */
static void
get_challenge(struct iscsi_textbuf *tb, uint8_t *id, uint8_t *chal, int *chal_len)
{
	struct iscsi_text t;
	const char *why;
	uint64_t v;

	assert_int_equal(iscsi_text_parse(tb->buf, tb->len, tb->cap, &t, &why), 0);
	assert_string_equal(iscsi_text_get(&t, "CHAP_A"), "5");
	assert_int_equal(iscsi_parse_number(iscsi_text_get(&t, "CHAP_I"), 255, &v), 0);
	*id = (uint8_t)v;
	*chal_len = iscsi_bin_decode(iscsi_text_get(&t, "CHAP_C"), chal, 1024);
	assert_int_equal(*chal_len, ISCSI_CHAP_CHALLENGE_LEN);
}

static int
step(struct iscsi_chap *chap, char *req, size_t len, struct iscsi_textbuf *tb, const char **why)
{
	struct iscsi_text t;

	assert_int_equal(iscsi_text_parse(req, len, len, &t, why), 0);
	tb->len = 0;
	tb->overflow = false;
	return iscsi_chap_step(chap, &t, lookup, NULL, tb, why);
}

static size_t
kv(char *buf, size_t off, const char *k, const char *v)
{
	return off + (size_t)snprintf(buf + off, 4096 - off, "%s=%s", k, v) + 1;
}

static void
test_chap_one_way(void **state)
{
	struct iscsi_chap chap;
	char out[4096], req[4096], hex[64];
	struct iscsi_textbuf tb = {out, 0, sizeof(out), false};
	uint8_t id, chal[1024], r[16];
	int clen;
	size_t n;
	const char *why = NULL;

	(void)state;
	memset(&chap, 0, sizeof(chap));
	n = kv(req, 0, "CHAP_A", "7,5");
	assert_int_equal(step(&chap, req, n, &tb, &why), 0);
	get_challenge(&tb, &id, chal, &clen);
	iscsi_chap_response(id, "alice-secret", chal, (size_t)clen, r);
	iscsi_bin_encode_hex(r, 16, hex, sizeof(hex));
	n = kv(req, 0, "CHAP_N", "alice");
	n = kv(req, n, "CHAP_R", hex);
	assert_int_equal(step(&chap, req, n, &tb, &why), 1);
	assert_int_equal(chap.state, ISCSI_CHAP_DONE);

	/* wrong secret */
	memset(&chap, 0, sizeof(chap));
	n = kv(req, 0, "CHAP_A", "5");
	assert_int_equal(step(&chap, req, n, &tb, &why), 0);
	get_challenge(&tb, &id, chal, &clen);
	iscsi_chap_response(id, "not-alice", chal, (size_t)clen, r);
	iscsi_bin_encode_hex(r, 16, hex, sizeof(hex));
	n = kv(req, 0, "CHAP_N", "alice");
	n = kv(req, n, "CHAP_R", hex);
	assert_int_equal(step(&chap, req, n, &tb, &why), -CAIRN_ERR_PERM);

	/* unsupported algorithm */
	memset(&chap, 0, sizeof(chap));
	n = kv(req, 0, "CHAP_A", "6,7");
	assert_int_equal(step(&chap, req, n, &tb, &why), -CAIRN_ERR_PERM);

	/* unknown user, malformed response */
	memset(&chap, 0, sizeof(chap));
	n = kv(req, 0, "CHAP_A", "5");
	assert_int_equal(step(&chap, req, n, &tb, &why), 0);
	n = kv(req, 0, "CHAP_N", "eve");
	n = kv(req, n, "CHAP_R", hex);
	assert_int_equal(step(&chap, req, n, &tb, &why), -CAIRN_ERR_PERM);
	memset(&chap, 0, sizeof(chap));
	n = kv(req, 0, "CHAP_A", "5");
	assert_int_equal(step(&chap, req, n, &tb, &why), 0);
	n = kv(req, 0, "CHAP_N", "alice");
	n = kv(req, n, "CHAP_R", "0x1234");
	assert_int_equal(step(&chap, req, n, &tb, &why), -CAIRN_ERR_PERM);
}

static void
test_chap_mutual(void **state)
{
	struct iscsi_chap chap;
	char out[4096], req[4096], hex[64], chex[64];
	struct iscsi_textbuf tb = {out, 0, sizeof(out), false};
	uint8_t id, chal[1024], r[16], mychal[16], expect[16];
	int clen, i;
	size_t n;
	const char *why = NULL;
	struct iscsi_text t;

	(void)state;
	memset(&chap, 0, sizeof(chap));
	chap.mutual_required = true;
	n = kv(req, 0, "CHAP_A", "5");
	assert_int_equal(step(&chap, req, n, &tb, &why), 0);
	get_challenge(&tb, &id, chal, &clen);
	iscsi_chap_response(id, "bob-secret", chal, (size_t)clen, r);
	iscsi_bin_encode_hex(r, 16, hex, sizeof(hex));
	for (i = 0; i < 16; i++)
		mychal[i] = (uint8_t)(i * 13 + 1);
	iscsi_bin_encode_hex(mychal, 16, chex, sizeof(chex));
	n = kv(req, 0, "CHAP_N", "bob");
	n = kv(req, n, "CHAP_R", hex);
	n = kv(req, n, "CHAP_I", "77");
	n = kv(req, n, "CHAP_C", chex);
	assert_int_equal(step(&chap, req, n, &tb, &why), 1);
	assert_int_equal(iscsi_text_parse(tb.buf, tb.len, tb.cap, &t, &why), 0);
	assert_string_equal(iscsi_text_get(&t, "CHAP_N"), "tgt");
	assert_int_equal(iscsi_bin_decode(iscsi_text_get(&t, "CHAP_R"), r, 16), 16);
	iscsi_chap_response(77, "tgt-secret", mychal, 16, expect);
	assert_memory_equal(r, expect, 16);

	/* mutual required but the initiator does not challenge us */
	memset(&chap, 0, sizeof(chap));
	chap.mutual_required = true;
	n = kv(req, 0, "CHAP_A", "5");
	assert_int_equal(step(&chap, req, n, &tb, &why), 0);
	get_challenge(&tb, &id, chal, &clen);
	iscsi_chap_response(id, "bob-secret", chal, (size_t)clen, r);
	iscsi_bin_encode_hex(r, 16, hex, sizeof(hex));
	n = kv(req, 0, "CHAP_N", "bob");
	n = kv(req, n, "CHAP_R", hex);
	assert_int_equal(step(&chap, req, n, &tb, &why), -CAIRN_ERR_PERM);

	/* reflection: the initiator sends our own challenge back */
	memset(&chap, 0, sizeof(chap));
	n = kv(req, 0, "CHAP_A", "5");
	assert_int_equal(step(&chap, req, n, &tb, &why), 0);
	get_challenge(&tb, &id, chal, &clen);
	iscsi_chap_response(id, "bob-secret", chal, (size_t)clen, r);
	iscsi_bin_encode_hex(r, 16, hex, sizeof(hex));
	{
		char refl[2 * ISCSI_CHAP_CHALLENGE_LEN + 3];

		iscsi_bin_encode_hex(chal, (size_t)clen, refl, sizeof(refl));
		n = kv(req, 0, "CHAP_N", "bob");
		n = kv(req, n, "CHAP_R", hex);
		n = kv(req, n, "CHAP_I", "1");
		n = kv(req, n, "CHAP_C", refl);
	}
	assert_int_equal(step(&chap, req, n, &tb, &why), -CAIRN_ERR_PERM);

	/* mutual asked for a user without a mutual secret */
	memset(&chap, 0, sizeof(chap));
	n = kv(req, 0, "CHAP_A", "5");
	assert_int_equal(step(&chap, req, n, &tb, &why), 0);
	get_challenge(&tb, &id, chal, &clen);
	iscsi_chap_response(id, "alice-secret", chal, (size_t)clen, r);
	iscsi_bin_encode_hex(r, 16, hex, sizeof(hex));
	n = kv(req, 0, "CHAP_N", "alice");
	n = kv(req, n, "CHAP_R", hex);
	n = kv(req, n, "CHAP_I", "2");
	n = kv(req, n, "CHAP_C", chex);
	assert_int_equal(step(&chap, req, n, &tb, &why), -CAIRN_ERR_PERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5_vectors), cmocka_unit_test(test_md5_split_updates),
		cmocka_unit_test(test_bin_codec),   cmocka_unit_test(test_chap_one_way),
		cmocka_unit_test(test_chap_mutual),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
