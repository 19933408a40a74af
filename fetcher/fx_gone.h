/* fx_gone.h - records that disappear: deletes inferred from complete listings.
 *
 * A run of a resource read as a complete set (fx_res_info.table: inventory snapshot,
 * warehouses, shipping methods, every warehouse's locations) notes every id it publishes.
 * When the whole run succeeded and every one of its records is acknowledged, the rows the
 * pipeline holds as live for that connection in the resource's table, observed before the
 * run began and not listed, are published on the raw topic as "<resource>.gone"
 * (topics.h): the version each supersedes and the run's start as deleted_at. The writer
 * decides by the version order whether a delete still applies (docs/consuming.md). A
 * failed or partial run infers nothing.
 */
#ifndef FX_GONE_H
#define FX_GONE_H

#include <stddef.h>

typedef struct fx_idset fx_idset; /* a set of ids (strings), copied in */

fx_idset *fx_idset_new(void);
void fx_idset_free(fx_idset *s);
/* 0, or -1 when memory ran out. Adding an id twice keeps one. */
int fx_idset_add(fx_idset *s, const char *id);
int fx_idset_has(const fx_idset *s, const char *id);
size_t fx_idset_count(const fx_idset *s);

#endif
