/* kafka_props.h - librdkafka client properties from text: the KAFKA_CONFIG_FILE
 * properties file (one key=value a line) and the comma-separated KAFKA_CONSUMER_EXTRA.
 *
 * Every item goes through rd_kafka_conf_set(), so librdkafka itself decides what a key
 * and a value mean (librdkafka 2.0.2 has no public file loader). A value written as
 * ${file:/path} is replaced by that file's content without its trailing newline: a
 * password or key mounted from a Kubernetes Secret never sits in the properties file.
 * Errors name the origin, the line and the key, never a value (values may be secrets).
 */
#ifndef TS_KAFKA_PROPS_H
#define TS_KAFKA_PROPS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* Apply the items of text, separated by sep ('\n' for a properties file, ',' for a
 * list). Blank items and lines starting with '#' or '!' are skipped; spaces around
 * keys and values are trimmed. origin names the source in errors ("KAFKA_CONFIG_FILE").
 * Returns 0, or -1 with "origin line N: key: reason" in errstr. */
int kafka_props_apply(rd_kafka_conf_t *conf, const char *text, char sep, const char *origin,
                      char *errstr, size_t errlen);

#endif
