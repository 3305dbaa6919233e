/*
 * output.c — the only writer to stdout and stderr (see output.h).
 */
#include "cmd/output.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void out_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

void out_write(const void *data, size_t n)
{
	fwrite(data, 1, n, stdout);
}

void err_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int out_error(const struct barge_err *err)
{
	const struct barge_errinfo *info = barge_errinfo_get(err->code);

	fflush(stdout);
	if (info && err->msg[0] && !strstr(err->msg, info->message))
		err_printf("barge: %s %s\n", info->message, err->msg);
	else if (err->msg[0])
		err_printf("barge: %s\n", err->msg);
	else
		err_printf("barge: %s\n", info ? info->message : "unknown error");
	if (info && info->action)
		err_printf("  what to do: %s\n", info->action);
	return BARGE_EXIT_ERROR;
}

static void log_sink(enum barge_log_level level, const char *job, const char *line, void *user)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	(void)user;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (job)
		fprintf(stderr, "%s %-5s job %s: %s\n", stamp, barge_log_level_name(level), job, line);
	else
		fprintf(stderr, "%s %-5s %s\n", stamp, barge_log_level_name(level), line);
	fflush(stderr);
}

void out_log_init(enum barge_log_level min_level)
{
	barge_log_set_sink(log_sink, NULL, min_level);
}

int out_log_level_parse(const char *name)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int out_is_tty(void)
{
	return isatty(STDOUT_FILENO);
}
