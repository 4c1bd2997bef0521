/*
 * Object classes and the class/type bits of object ids (see include/cairn/placement.h).
 */
#include <strings.h>

#include "cairn/errno.h"
#include "cairn/placement.h"
#include "placement_internal.h"

#define OID_RESERVED_MASK (~CAIRN_OID_HI_USER_MASK)

static const struct pl_oclass_attr g_oclasses[CAIRN_OC_MAX] = {
	[CAIRN_OC_S1] = { "S1", 1, 1, false },
	[CAIRN_OC_S2] = { "S2", 2, 1, false },
	[CAIRN_OC_S4] = { "S4", 4, 1, false },
	[CAIRN_OC_S8] = { "S8", 8, 1, false },
	[CAIRN_OC_SX] = { "SX", 0, 1, false }, /* grp_nr = all targets */
	[CAIRN_OC_RP_2G1] = { "RP_2G1", 1, 2, true },
	[CAIRN_OC_RP_3G1] = { "RP_3G1", 1, 3, true },
};

const struct pl_oclass_attr *
pl_oclass_attr(enum cairn_oclass oc)
{
	if (oc <= CAIRN_OC_UNKNOWN || oc >= CAIRN_OC_MAX)
		return NULL;
	return &g_oclasses[oc];
}

int
cairn_obj_id_generate(struct cairn_obj_id *oid, enum cairn_otype type, enum cairn_oclass oc)
{
	if (oid == NULL || pl_oclass_attr(oc) == NULL || (int)type < 0 || type >= CAIRN_OT_MAX)
		return -CAIRN_ERR_INVAL;
	if (oid->hi & OID_RESERVED_MASK)
		return -CAIRN_ERR_INVAL;
	oid->hi |= ((uint64_t)oc << CAIRN_OID_CLASS_SHIFT) |
		   ((uint64_t)type << CAIRN_OID_TYPE_SHIFT);
	return 0;
}

enum cairn_oclass
cairn_obj_id_class(struct cairn_obj_id oid)
{
	uint64_t oc = oid.hi >> CAIRN_OID_CLASS_SHIFT;

	if (oc == 0 || oc >= CAIRN_OC_MAX)
		return CAIRN_OC_UNKNOWN;
	return (enum cairn_oclass)oc;
}

int
cairn_obj_id_type(struct cairn_obj_id oid)
{
	uint64_t t = (oid.hi >> CAIRN_OID_TYPE_SHIFT) & 0xff;

	if (t >= CAIRN_OT_MAX)
		return -CAIRN_ERR_INVAL;
	return (int)t;
}

const char *
cairn_oclass_name(enum cairn_oclass oc)
{
	const struct pl_oclass_attr *a = pl_oclass_attr(oc);

	return a == NULL ? NULL : a->name;
}

int
cairn_oclass_from_name(const char *name)
{
	if (name == NULL)
		return -CAIRN_ERR_INVAL;
	for (int oc = CAIRN_OC_S1; oc < CAIRN_OC_MAX; oc++) {
		if (strcasecmp(name, g_oclasses[oc].name) == 0)
			return oc;
	}
	return -CAIRN_ERR_INVAL;
}
