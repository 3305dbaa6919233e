/*
 * output.h — the only writer to stdout and stderr, and the map from errors to exit statuses.
 *
 * Exit statuses follow Terraform's, which CI pipelines already know:
 *   0  success (for plan: no changes)
 *   1  error, invalid input included
 *   2  plan only: there are changes to apply (drift)
 */
#ifndef BARGE_CMD_OUTPUT_H
#define BARGE_CMD_OUTPUT_H

#include <stdio.h>

#include "engine/error.h"
#include "engine/log.h"

enum {
	BARGE_EXIT_OK = 0,
	BARGE_EXIT_ERROR = 1,
	BARGE_EXIT_DRIFT = 2,
};

/* Write to stdout / stderr.  Every line barge prints goes through these. */
void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_write(const void *data, size_t n);
void err_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print "barge: <catalogue message> <detail>" and the catalogue's advice for err on stderr, and
 * return the exit status for it (always BARGE_EXIT_ERROR).
 */
int out_error(const struct barge_err *err);

/* Install the engine's log sink on stderr ("2026-01-02T03:04:05Z info job orders: ..."). */
void out_log_init(enum barge_log_level min_level);
/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int out_log_level_parse(const char *name);

/* Whether stdout is a terminal (for colours, progress bars and --watch). */
int out_is_tty(void);

#endif
