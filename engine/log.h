/*
 * log.h — logging through a sink that cmd/ installs, and the redaction of secrets.
 *
 * The engine never writes to stdout or stderr.  It calls barge_log(), which formats the line,
 * redacts every registered secret and hands it to the sink cmd/output.c installed (or drops it
 * when there is none).  Thread-safe: the sink is called under a mutex, one line at a time.
 *
 * Redaction is the last line of defence, not the first: code must not put secrets in messages.
 * Every secret barge resolves (passwords, webhook secrets and URLs given by reference) is
 * registered with barge_redact_add() and removed with barge_redact_remove() before it is wiped.
 */
#ifndef BARGE_ENGINE_LOG_H
#define BARGE_ENGINE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum barge_log_level {
	BARGE_LOG_DEBUG,
	BARGE_LOG_INFO,
	BARGE_LOG_WARN,
	BARGE_LOG_ERROR,
};

/* Receives one finished, redacted line (no trailing newline).  job may be NULL. */
typedef void (*barge_log_sink_fn)(enum barge_log_level level, const char *job, const char *line,
				  void *user);

/* Install the sink and the lowest level passed to it.  A NULL sink drops everything. */
void barge_log_set_sink(barge_log_sink_fn sink, void *user, enum barge_log_level min_level);

/* Whether a message at level would reach the sink (to skip costly formatting). */
int barge_log_enabled(enum barge_log_level level);

void barge_log(enum barge_log_level level, const char *job, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void barge_logv(enum barge_log_level level, const char *job, const char *fmt, va_list ap);

/* "debug", "info", "warn", "error". */
const char *barge_log_level_name(enum barge_log_level level);

/*
 * Register a secret value so that barge_redact() hides it.  The registry keeps its own copy.
 * Values shorter than 4 bytes are not registered: hiding every "a" in every message would make
 * messages useless, and such a secret is no secret.  Registering the same value twice counts
 * twice; each add is undone by one remove.
 */
void barge_redact_add(const char *secret);
void barge_redact_remove(const char *secret);

/* Replace every registered secret in the NUL-terminated s (cap bytes of storage) in place. */
void barge_redact(char *s, size_t cap);

/* Seconds on the monotonic clock, for intervals and deadlines (not the time of day). */
double barge_clock_s(void);

#endif
