/* cli_stored.h - the last step of `tsctl status --until-done`: waiting until what the
 * fetcher sent is stored in the database.
 *
 * The fetcher reports a stream done once Kafka acknowledged its records; the normalizer
 * and the writer still have to map and store them (tens of milliseconds on a quiet
 * pipeline, minutes behind a backlog). So "done" takes the raw topic's ends and waits
 * until the normalizer's group (NORMALIZER_GROUP) has committed past them: the normalizer
 * commits a raw message only after Kafka acknowledged what it made of it. Then it takes
 * the ends of the writer's input topics and waits for the writer's group (WRITER_GROUP),
 * which commits only what its database transaction stored. Traffic that arrives after each
 * snapshot is not waited for. */
#ifndef CLI_STORED_H
#define CLI_STORED_H

#include "cli_ctx.h"

/* Prints a line every interval_s while a stage is behind, and one when all is stored.
 * CLI_EXIT_OK once stored; CLI_EXIT_FAIL (with a message naming KAFKA_BOOTSTRAP) when Kafka
 * cannot be asked; CLI_EXIT_OK early when util_stop is set (Ctrl-C). */
int cli_wait_stored(cli_ctx *ctx, long interval_s);

#endif
