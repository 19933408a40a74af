/* sim_diff.h - previous_attributes in Trackstar's flattened dot-path form: for each leaf
 * that changed, "line_items.1.received_quantity": <old value>. */
#ifndef SIM_DIFF_H
#define SIM_DIFF_H

#include <cjson/cJSON.h>

/* Returns a new object (caller frees with cJSON_Delete) holding the old value of every
 * changed path between old and new; NULL on out of memory. Objects recurse by key,
 * arrays of equal length recurse by index; a key missing on one side, an array whose
 * length changed, or a changed scalar is reported whole at its path. */
cJSON *sim_diff_prev(const cJSON *old, const cJSON *new_);

#endif
