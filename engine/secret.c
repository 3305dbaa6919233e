/*
 * secret.c — resolving ${env:NAME} and ${file:PATH} references (see secret.h).
 *
 * Values live only between barge_secret_resolve() and barge_secret_release(): registered for
 * redaction the moment they exist, wiped before their memory is freed.
 */
#include "engine/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/buf.h"
#include "engine/log.h"

#define SECRET_FILE_MAX (64 * 1024)

/* If text is ${KIND:ARG}, point *arg at ARG (not NUL-terminated) and return KIND's length. */
static size_t ref_parts(const char *text, const char **kind, const char **arg, size_t *arg_len)
{
	size_t len;
	const char *colon;

	if (!text || strncmp(text, "${", 2) != 0)
		return 0;
	len = strlen(text);
	if (len < 5 || text[len - 1] != '}')
		return 0;
	colon = memchr(text + 2, ':', len - 3);
	if (!colon)
		return 0;
	*kind = text + 2;
	*arg = colon + 1;
	*arg_len = (size_t)(text + len - 1 - (colon + 1));
	return (size_t)(colon - (text + 2));
}

bool barge_secret_is_ref(const char *text)
{
	const char *kind = NULL, *arg = NULL;
	size_t arg_len = 0, kind_len = ref_parts(text, &kind, &arg, &arg_len);

	if (!kind_len || !arg_len)
		return false;
	if (kind_len == 3 && strncmp(kind, "env", 3) == 0) {
		/* NAME: letters, digits, underscore, not starting with a digit */
		if (arg[0] >= '0' && arg[0] <= '9')
			return false;
		for (size_t i = 0; i < arg_len; i++) {
			char c = arg[i];

			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '_'))
				return false;
		}
		return true;
	}
	if (kind_len == 4 && strncmp(kind, "file", 4) == 0)
		return memchr(arg, '}', arg_len) == NULL && memchr(arg, '\0', arg_len) == NULL;
	return false;
}

static int read_secret_file(const char *ref, const char *path, char **out, struct barge_err *err)
{
	struct barge_buf b;
	char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return barge_err_set(err, BARGE_ESECRET, "%s: cannot read %s: %s", ref, path,
				     strerror(errno));
	barge_buf_init(&b, SECRET_FILE_MAX);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = barge_err_set(err, BARGE_ESECRET, "%s: cannot read %s: %s", ref, path,
					   strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (barge_buf_append(&b, chunk, (size_t)n) != 0) {
			rc = barge_err_set(err, BARGE_ESECRET, "%s: %s is larger than %d bytes", ref,
					   path, SECRET_FILE_MAX);
			break;
		}
	}
	close(fd);
	barge_wipe(chunk, sizeof chunk);
	if (rc == 0 && b.len && memchr(b.data, '\0', b.len))
		rc = barge_err_set(err, BARGE_ESECRET, "%s: %s holds a NUL byte", ref, path);
	if (rc) {
		if (b.data)
			barge_wipe(b.data, b.cap);
		barge_buf_dispose(&b);
		return rc;
	}
	/* one trailing newline (and a CR before it) is not part of the secret */
	if (b.len && b.data[b.len - 1] == '\n')
		barge_buf_truncate(&b, b.len - 1);
	if (b.len && b.data[b.len - 1] == '\r')
		barge_buf_truncate(&b, b.len - 1);
	*out = barge_buf_detach(&b);
	return 0;
}

int barge_secret_resolve(const char *ref, const char *base_dir, char **out, struct barge_err *err)
{
	const char *kind = NULL, *arg = NULL;
	size_t arg_len = 0, kind_len;
	char *name = NULL, *value = NULL;
	int rc = 0;

	if (!ref)
		return barge_err_set(err, BARGE_EINVAL, "no secret reference given");
	if (!barge_secret_is_ref(ref)) {
		if (strncmp(ref, "${", 2) == 0)
			return barge_err_set(err, BARGE_ESECRET,
					     "\"%.100s\" is not a valid secret reference; use "
					     "${env:NAME} or ${file:PATH}",
					     ref);
		*out = barge_xstrdup(ref);
		return 0;
	}
	kind_len = ref_parts(ref, &kind, &arg, &arg_len);
	name = barge_xstrndup(arg, arg_len);
	if (kind_len == 3) {
		const char *v = getenv(name);

		if (!v)
			rc = barge_err_set(err, BARGE_ESECRET,
					   "%s: the environment variable %s is not set", ref, name);
		else
			value = barge_xstrdup(v);
	} else {
		char *path = (name[0] == '/' || !base_dir || !*base_dir)
				     ? barge_xstrdup(name)
				     : barge_xasprintf("%s/%s", base_dir, name);

		rc = read_secret_file(ref, path, &value, err);
		free(path);
	}
	free(name);
	if (rc)
		return rc;
	barge_redact_add(value);
	*out = value;
	return 0;
}

void barge_secret_release(char *value)
{
	if (!value)
		return;
	barge_redact_remove(value);
	barge_free_secret(value);
}
