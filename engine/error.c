/*
 * error.c — the error catalogue and the caller-owned error record (see error.h).
 */
#include "engine/error.h"

#include <stdio.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/log.h"

static const struct barge_errinfo catalogue[] = {
#define BARGE_X_INFO(name, num, cls, side, retry, msg, todo) \
	{-(num), #name, cls, side, retry, msg, todo},
	BARGE_ERRORS(BARGE_X_INFO)
#undef BARGE_X_INFO
};

const struct barge_errinfo *barge_errinfo_get(int code)
{
	for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++)
		if (catalogue[i].code == code)
			return &catalogue[i];
	return NULL;
}

const struct barge_errinfo *barge_errinfo_all(int *count)
{
	*count = (int)(sizeof catalogue / sizeof catalogue[0]);
	return catalogue;
}

const char *barge_err_name(int code)
{
	const struct barge_errinfo *info;

	if (code == 0)
		return "OK";
	info = barge_errinfo_get(code);
	return info ? info->name : "UNKNOWN";
}

int barge_err_code(const char *name)
{
	int count = 0;
	const struct barge_errinfo *all = barge_errinfo_all(&count);

	for (int i = 0; name && i < count; i++)
		if (!strcmp(all[i].name, name))
			return all[i].code;
	return 0;
}

const char *barge_err_side_name(enum barge_err_side side)
{
	switch (side) {
	case BARGE_SIDE_INTERNAL: return "internal";
	case BARGE_SIDE_USER: return "user";
	case BARGE_SIDE_UPSTREAM: return "upstream";
	case BARGE_SIDE_DOWNSTREAM: return "downstream";
	case BARGE_SIDE_NOTIFY: return "notify";
	}
	return "?";
}

/* Text for a Markdown table cell: a "|" would end the cell. */
static void md_cell(struct barge_buf *b, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '|')
			barge_buf_putc(b, '\\');
		barge_buf_putc(b, *p);
	}
}

char *barge_err_catalogue_markdown(void)
{
	struct barge_buf b;

	barge_buf_init(&b, BARGE_BUF_NOCAP);
	barge_buf_puts(
		&b,
		"# Error catalogue\n"
		"\n"
		"<!-- Generated from engine/error.h by `barge errors > docs/errors.md`; do not edit by "
		"hand.\n"
		"     tests/unit/test_errors_doc.c fails when this page and the catalogue differ. "
		"-->\n"
		"\n"
		"Every error barge reports belongs to one entry of this table. `barge status`, "
		"`status --json`,\n"
		"webhooks and the store name it by **Name**; **Number** is stable and never reused. "
		"A message\n"
		"starts with the entry's **Message** (the wording of TiDB Cloud's Data Migration where "
		"it has one),\n"
		"followed by the detail: the endpoint, the statement or the file, and the server's "
		"error with its\n"
		"number. **Side** says where the cause lies: `user` (the job files or the command "
		"line),\n"
		"`upstream` (the source), `downstream` (the target), `notify` (a webhook receiver) or "
		"`internal`\n"
		"(barge itself, its host or its store). A **Retryable** error is retried by the "
		"controller with\n"
		"backoff; so is any error whose database error number is known to be transient "
		"(deadlock, lock\n"
		"wait timeout, server gone, TiDB's retryable codes). Any other error stops the job as "
		"Failed until\n"
		"the cause is fixed and the job restarted (`barge restart JOB`). Every command exits "
		"with status 1\n"
		"on an error. `barge errors --json` prints the same table as JSON.\n"
		"\n"
		"| Name | Number | Class | Side | Retryable | Message | What to do |\n"
		"|---|---:|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++) {
		const struct barge_errinfo *e = &catalogue[i];

		barge_buf_appendf(&b, "| `%s` | %d | %s | %s | %s | ", e->name, -e->code, e->cls,
				  barge_err_side_name(e->side), e->retryable ? "yes" : "no");
		md_cell(&b, e->message);
		barge_buf_puts(&b, " | ");
		md_cell(&b, e->action);
		barge_buf_puts(&b, " |\n");
	}
	return barge_buf_detach(&b);
}

void barge_err_clear(struct barge_err *err)
{
	if (err)
		memset(err, 0, sizeof *err);
}

int barge_err_setv(struct barge_err *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	err->db_errno = 0;
	err->sqlstate[0] = '\0';
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	barge_redact(err->msg, sizeof err->msg);
	return code;
}

int barge_err_set(struct barge_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	barge_err_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int barge_err_set_db(struct barge_err *err, int code, unsigned db_errno, const char *sqlstate,
		     const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	barge_err_setv(err, code, fmt, ap);
	va_end(ap);
	err->db_errno = db_errno;
	snprintf(err->sqlstate, sizeof err->sqlstate, "%s", sqlstate ? sqlstate : "");
	return code;
}

int barge_err_wrap(struct barge_err *err, const char *fmt, ...)
{
	char joined[BARGE_ERR_MSG_MAX];
	size_t plen, mlen;
	int n;
	va_list ap;

	if (!err || err->code == 0)
		return BARGE_EINVAL;
	va_start(ap, fmt);
	n = vsnprintf(joined, sizeof joined - 2, fmt, ap);
	va_end(ap);
	plen = n < 0 ? 0 : strnlen(joined, sizeof joined - 3);
	memcpy(joined + plen, ": ", 2);
	plen += 2;
	mlen = strnlen(err->msg, sizeof err->msg);
	if (mlen > sizeof joined - 1 - plen)
		mlen = sizeof joined - 1 - plen; /* keep the outer context, cut the innermost end */
	memcpy(joined + plen, err->msg, mlen);
	joined[plen + mlen] = '\0';
	memcpy(err->msg, joined, plen + mlen + 1);
	barge_redact(err->msg, sizeof err->msg);
	return err->code;
}

bool barge_errno_retryable(unsigned db_errno, const char *message)
{
	switch (db_errno) {
	case 1205: /* ER_LOCK_WAIT_TIMEOUT */
	case 1213: /* ER_LOCK_DEADLOCK */
	case 1040: /* ER_CON_COUNT_ERROR: too many connections */
	case 1053: /* ER_SERVER_SHUTDOWN */
	case 1927: /* ER_CONNECTION_KILLED (MariaDB) */
	case 2002: /* CR_CONNECTION_ERROR */
	case 2003: /* CR_CONN_HOST_ERROR */
	case 2006: /* CR_SERVER_GONE_ERROR */
	case 2013: /* CR_SERVER_LOST */
	case 2055: /* CR_SERVER_LOST_EXTENDED */
	case 8005: /* TiDB write conflict, txnStartTS is stale */
	case 8022: /* TiDB KV error safe to retry */
	case 8027: /* TiDB schema version outdated */
	case 8028: /* TiDB information schema changed */
	case 8245: /* TiDB column in change */
	case 9001: /* TiDB PD server timeout */
	case 9003: /* TiKV server is busy */
	case 9004: /* TiDB resolve lock timeout */
	case 9007: /* TiDB write conflict */
		return true;
	case 1105: /* TiDB's generic error: retryable only for schema-change races */
		return message && (strstr(message, "Information schema is out of date") ||
				   strstr(message, "Information schema is changed"));
	default:
		return false;
	}
}

bool barge_err_retryable(const struct barge_err *err)
{
	const struct barge_errinfo *info;

	if (!err || err->code == 0)
		return false;
	if (err->db_errno && barge_errno_retryable(err->db_errno, err->msg))
		return true;
	info = barge_errinfo_get(err->code);
	return info && info->retryable;
}
