/*
 * secret.h — secret references: ${env:NAME} and ${file:PATH}.
 *
 * Job files never hold a password: they hold a reference, resolved only at the moment a
 * connection or a signature needs the value.  A resolved value is registered for redaction
 * (log.h) and must be released with barge_secret_release(), which unregisters and wipes it.
 * Messages about a secret name the reference ("${env:SRC_PASSWORD} is not set"), never the value.
 */
#ifndef BARGE_ENGINE_SECRET_H
#define BARGE_ENGINE_SECRET_H

#include <stdbool.h>

#include "engine/error.h"

/* Whether text is exactly one reference, ${env:NAME} or ${file:PATH}. */
bool barge_secret_is_ref(const char *text);

/*
 * Resolve ref.  A reference is replaced by the variable's value or the file's contents (one
 * trailing newline removed); for fields that accept literals (webhook URLs) a non-reference is
 * returned as it is.  base_dir resolves a relative ${file:...} path (NULL = current directory).
 * Returns 0 and sets *out (release with barge_secret_release), or BARGE_ESECRET with a message
 * naming the reference.
 */
int barge_secret_resolve(const char *ref, const char *base_dir, char **out, struct barge_err *err);

/* Unregister from redaction, wipe and free a resolved value; accepts NULL. */
void barge_secret_release(char *value);

#endif
