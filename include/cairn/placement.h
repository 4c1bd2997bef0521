/**
 * \file
 * Object classes and object ids: how an object is spread over a pool's targets.
 *
 * An object's class is encoded in its id, so any client or engine that knows the pool
 * map computes the same layout without asking anyone. Layout of `hi`:
 *
 *   bits 48..63  object class id (enum cairn_oclass)
 *   bits 40..47  object type (enum cairn_otype)
 *   bits 32..39  reserved, zero
 *   bits  0..31  the application's
 *
 * `lo` is entirely the application's (normally allocated by the container service).
 * Any thread may call these functions; none allocates.
 */
#ifndef CAIRN_PLACEMENT_H
#define CAIRN_PLACEMENT_H

#include <stdint.h>

#include "cairn/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Object classes. Values are stored in object ids: never renumber. */
enum cairn_oclass {
	CAIRN_OC_UNKNOWN = 0,
	CAIRN_OC_S1 = 1,     /**< one shard on one target */
	CAIRN_OC_S2 = 2,     /**< dkeys striped over 2 targets */
	CAIRN_OC_S4 = 3,     /**< dkeys striped over 4 targets */
	CAIRN_OC_S8 = 4,     /**< dkeys striped over 8 targets */
	CAIRN_OC_SX = 5,     /**< dkeys striped over every target of the pool */
	CAIRN_OC_RP_2G1 = 6, /**< one group of 2 replicas, on distinct ranks */
	CAIRN_OC_RP_3G1 = 7, /**< one group of 3 replicas, on distinct ranks */
	CAIRN_OC_MAX
};

/** Object types: what the object's dkeys and akeys hold. Stored in ids. */
enum cairn_otype {
	CAIRN_OT_MULTI = 0,      /**< generic: any dkeys, any akeys */
	CAIRN_OT_KV = 1,         /**< flat key-value: string keys, single values */
	CAIRN_OT_ARRAY = 2,      /**< array with attributes (cell size, chunk size) */
	CAIRN_OT_ARRAY_BYTE = 3, /**< byte array: cell size 1, fixed chunk size */
	CAIRN_OT_MAX
};

#define CAIRN_OID_CLASS_SHIFT 48
#define CAIRN_OID_TYPE_SHIFT 40

/**
 * Stamp an object id with its type and class. The application's bits (lo, and the low
 * 32 bits of hi) are kept.
 * \param[in,out] oid   the id
 * \param[in]     type  object type
 * \param[in]     oc    object class
 * \return 0; -CAIRN_ERR_INVAL (oid NULL, unknown type or class, or the application's id
 *         uses the reserved bits 32..63 of hi).
 */
int cairn_obj_id_generate(struct cairn_obj_id *oid, enum cairn_otype type,
			  enum cairn_oclass oc);

/**
 * Object class of an id.
 * \param[in] oid the id
 * \return the class, or CAIRN_OC_UNKNOWN if the id carries none or an unknown one.
 */
enum cairn_oclass cairn_obj_id_class(struct cairn_obj_id oid);

/**
 * Object type of an id.
 * \param[in] oid the id
 * \return the type, or -CAIRN_ERR_INVAL for an unknown type.
 */
int cairn_obj_id_type(struct cairn_obj_id oid);

/**
 * Name of a class: "S1", "S2", "S4", "S8", "SX", "RP_2G1", "RP_3G1".
 * \param[in] oc the class
 * \return a static string, or NULL for an unknown class.
 */
const char *cairn_oclass_name(enum cairn_oclass oc);

/**
 * Class from its name (case-insensitive).
 * \param[in] name e.g. "SX"
 * \return the class (> 0), or -CAIRN_ERR_INVAL for NULL or an unknown name.
 */
int cairn_oclass_from_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_PLACEMENT_H */
