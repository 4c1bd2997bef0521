/*
 * libFuzzer target: the pool ACL parsers (src/engine/srv_acl.c) on arbitrary text.
 * First byte picks: an ACE (parse -> format -> parse must give the same entry), a
 * principal, a user/group name, or a JSON ACL record (accepted records re-serialise to
 * the same ACL). Evaluation runs on what was accepted with names from the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "srv_acl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], buf[SRV_ACL_NAME_MAX + 32], name[SRV_ACL_NAME_MAX];
	struct srv_ace e, e2;
	struct srv_acl acl, acl2;
	json_t *j, *j2;
	char *s;

	if (size < 1 || size > 8192)
		return 0;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		if (srv_ace_parse(s, &e, err, sizeof(err)) == 0) {
			srv_ace_format(&e, buf, sizeof(buf));
			if (srv_ace_parse(buf, &e2, err, sizeof(err)) != 0 || e2.kind != e.kind ||
			    e2.perms != e.perms || strcmp(e2.name, e.name) != 0)
				abort();
			srv_acl_default(&acl, "a@", "g@");
			if (srv_acl_update(&acl, &e) == 0)
				(void)srv_acl_perms(&acl, s, s);
		}
		break;
	case 1:
		(void)srv_acl_principal_parse(s, &e, err, sizeof(err));
		break;
	case 2:
		if (srv_acl_name_norm(s, name, err, sizeof(err)) == 0 &&
		    (strlen(name) < 2 || name[strlen(name) - 1] != '@'))
			abort();
		break;
	default:
		j = json_loads(s, 0, NULL);
		if (j && srv_acl_from_json(j, &acl, err, sizeof(err)) == 0) {
			j2 = srv_acl_json(&acl);
			if (j2 == NULL || srv_acl_from_json(j2, &acl2, err, sizeof(err)) != 0 ||
			    acl2.nr != acl.nr || strcmp(acl2.owner, acl.owner) != 0 ||
			    memcmp(acl2.ent, acl.ent, acl.nr * sizeof(acl.ent[0])) != 0)
				abort();
			(void)srv_acl_perms(&acl, "x", "a,b");
			json_decref(j2);
		}
		json_decref(j);
		break;
	}
	free(s);
	return 0;
}
