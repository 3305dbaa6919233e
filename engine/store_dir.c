/*
 * store_dir.c — the dir:PATH store: one JSON file per job (see store.h).
 *
 *   PATH/NAME.json      a record (store.c's document), mode 0600
 *   PATH/.NAME.json.tmp a record being written; renamed over NAME.json once it is on disk
 *   PATH/.write.lock    flock'd around every read-compare-write, so put's compare-and-swap and
 *                       the lease calls are atomic across processes and threads (each call
 *                       opens it anew, and flock excludes separate opens even in one process)
 *   PATH/.lock          flock'd by the controller for as long as it runs; holds its PID, host
 *                       and start time so a second controller can say who is in the way
 *
 * Readers take no lock: rename replaces a file whole, so a reader sees the old record or the
 * new one, never a mix.  A crash leaves at most a stale .tmp file, overwritten by the next put.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/buf.h"
#include "engine/store.h"

#define RECORD_MAX (16u * 1024 * 1024)

struct dir_store {
	struct barge_store base;
	char *path;
	int lock_fd; /* the controller lock, -1 when not held */
};

static struct dir_store *dir_of(struct barge_store *s)
{
	return (struct dir_store *)s;
}

/* mkdir -p, creating missing directories with mode 0700. */
static int make_dirs(const char *path, struct barge_err *err)
{
	char *copy = barge_xstrdup(path);
	int rc = 0;

	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			rc = barge_err_set(err, BARGE_ESTORE, "store dir:%s: create %s: %s", path,
					   copy, strerror(errno));
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return rc;
}

static int dir_open(const struct barge_store_url *url, struct barge_store **out,
		    struct barge_err *err)
{
	struct dir_store *d;
	struct stat st;
	int rc = make_dirs(url->path, err);

	if (rc != 0)
		return rc;
	if (stat(url->path, &st) != 0)
		return barge_err_set(err, BARGE_ESTORE, "store dir:%s: %s", url->path,
				     strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return barge_err_set(err, BARGE_ESTORE, "store dir:%s: not a directory",
				     url->path);
	if (access(url->path, R_OK | W_OK | X_OK) != 0)
		return barge_err_set(err, BARGE_ESTORE, "store dir:%s: %s", url->path,
				     strerror(errno));
	d = barge_xcalloc(1, sizeof *d);
	d->base.ops = &barge_store_dir_ops;
	d->path = barge_xstrdup(url->path);
	d->lock_fd = -1;
	*out = &d->base;
	return 0;
}

static void dir_close(struct barge_store *s)
{
	struct dir_store *d = dir_of(s);

	if (d->lock_fd >= 0)
		close(d->lock_fd); /* releases the flock */
	free(d->path);
	free(d);
}

static char *record_path(struct dir_store *d, const char *name)
{
	return barge_xasprintf("%s/%s.json", d->path, name);
}

static int sync_dir(struct dir_store *d, struct barge_err *err)
{
	int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return barge_err_set(err, BARGE_ESTORE, "store dir:%s: open: %s", d->path,
				     strerror(errno));
	if (fsync(fd) != 0)
		rc = barge_err_set(err, BARGE_ESTORE, "store dir:%s: fsync: %s", d->path,
				   strerror(errno));
	close(fd);
	return rc;
}

/* ---- controller lock ---- */

static void describe_holder(int fd, char *out, size_t n)
{
	char buf[512];
	ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
	long pid = 0;
	char host[256] = "", since[64] = "";

	if (got > 0) {
		buf[got] = '\0';
		if (sscanf(buf, "pid %ld host %255s since %63s", &pid, host, since) == 3) {
			snprintf(out, n, "pid %ld on host %s, since %s", pid, host, since);
			return;
		}
	}
	snprintf(out, n, "its pid and host are not recorded yet");
}

static int dir_lock(struct barge_store *s, struct barge_err *err)
{
	struct dir_store *d = dir_of(s);
	char *path, host[256] = "unknown", since[32], holder[400];
	struct tm tm;
	time_t now = time(NULL);
	int fd, rc = 0;

	if (d->lock_fd >= 0)
		return 0;
	path = barge_xasprintf("%s/.lock", d->path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = barge_err_set(err, BARGE_ESTORE, "store %s: open %s: %s", s->url, path,
				   strerror(errno));
		goto done;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			describe_holder(fd, holder, sizeof holder);
			rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
					   "store %s is in use by another barge controller (%s)",
					   s->url, holder);
		} else {
			rc = barge_err_set(err, BARGE_ESTORE, "store %s: lock %s: %s", s->url,
					   path, strerror(errno));
		}
		close(fd);
		goto done;
	}
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == ' ' || *p == '\n')
			*p = '_';
	gmtime_r(&now, &tm);
	strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
	{
		char *line = barge_xasprintf("pid %ld host %s since %s\n", (long)getpid(), host,
					     since);
		size_t len = strlen(line);

		if (ftruncate(fd, 0) != 0 || pwrite(fd, line, len, 0) != (ssize_t)len)
			rc = barge_err_set(err, BARGE_ESTORE, "store %s: write %s: %s", s->url,
					   path, strerror(errno));
		free(line);
	}
	if (rc != 0) {
		close(fd);
		goto done;
	}
	d->lock_fd = fd;
done:
	free(path);
	return rc;
}

/* ---- reading and writing one record ---- */

static int write_lock(struct dir_store *d, int *out_fd, struct barge_err *err)
{
	char *path = barge_xasprintf("%s/.write.lock", d->path);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600), rc = 0;

	if (fd < 0) {
		rc = barge_err_set(err, BARGE_ESTORE, "store dir:%s: open %s: %s", d->path, path,
				   strerror(errno));
	} else {
		while (flock(fd, LOCK_EX) != 0) {
			if (errno == EINTR)
				continue;
			rc = barge_err_set(err, BARGE_ESTORE, "store dir:%s: lock %s: %s",
					   d->path, path, strerror(errno));
			close(fd);
			break;
		}
	}
	free(path);
	if (rc == 0)
		*out_fd = fd;
	return rc;
}

static int read_record(struct dir_store *d, const char *name, struct barge_record *out,
		       struct barge_err *err)
{
	char *path = record_path(d, name), chunk[8192];
	struct barge_buf b;
	int fd, rc = 0;
	ssize_t n;

	barge_buf_init(&b, RECORD_MAX);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			rc = barge_err_set(err, BARGE_ENOTFOUND, "no job named %s in store dir:%s",
					   name, d->path);
		else
			rc = barge_err_set(err, BARGE_ESTORE, "store: read %s: %s", path,
					   strerror(errno));
		goto done;
	}
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = barge_err_set(err, BARGE_ESTORE, "store: read %s: %s", path,
					   strerror(errno));
			break;
		}
		if (barge_buf_append(&b, chunk, (size_t)n) != 0) {
			rc = barge_err_set(err, BARGE_ESTORE, "store: %s is larger than %u bytes",
					   path, RECORD_MAX);
			break;
		}
	}
	close(fd);
	if (rc != 0)
		goto done;
	rc = barge_record_from_json_text(barge_buf_cstr(&b), b.len, out, err);
	if (rc != 0) {
		barge_err_wrap(err, "store: %s", path);
		goto done;
	}
	if (strcmp(out->name, name) != 0) {
		rc = barge_err_set(err, BARGE_ESTORE, "store: %s holds the record of job %s", path,
				   out->name);
		barge_record_dispose(out);
	}
done:
	barge_buf_dispose(&b);
	free(path);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write r as NAME.json: temporary file, fsync, rename, fsync the directory. */
static int write_record(struct dir_store *d, const struct barge_record *r, struct barge_err *err)
{
	char *text = NULL, *tmp = barge_xasprintf("%s/.%s.json.tmp", d->path, r->name);
	char *path = record_path(d, r->name);
	int fd = -1, rc;

	rc = barge_record_to_json_text(r, &text, err);
	if (rc != 0)
		goto done;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != 0 ||
	    write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
		rc = barge_err_set(err, BARGE_ESTORE, "store: write %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = barge_err_set(err, BARGE_ESTORE, "store: write %s: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = barge_err_set(err, BARGE_ESTORE, "store: rename %s to %s: %s", tmp, path,
				   strerror(errno));
		goto done;
	}
	rc = sync_dir(d, err);
done:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	free(text);
	free(tmp);
	free(path);
	return rc;
}

/* ---- the interface ---- */

static int cmp_records(const void *a, const void *b)
{
	return strcmp(((const struct barge_record *)a)->name,
		      ((const struct barge_record *)b)->name);
}

static int dir_list(struct barge_store *s, struct barge_record **out, size_t *n,
		    struct barge_err *err)
{
	struct dir_store *d = dir_of(s);
	struct barge_record *recs = NULL;
	size_t count = 0, cap = 0;
	DIR *dir = opendir(d->path);
	struct dirent *e;
	int rc = 0;

	if (!dir)
		return barge_err_set(err, BARGE_ESTORE, "store dir:%s: %s", d->path,
				     strerror(errno));
	while ((e = readdir(dir)) != NULL) {
		size_t len = strlen(e->d_name);
		char *name;

		if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		name = barge_xstrndup(e->d_name, len - 5);
		if (!barge_job_name_valid(name)) {
			free(name);
			continue;
		}
		if (count == cap) {
			cap = cap ? 2 * cap : 16;
			recs = barge_xrealloc(recs, cap * sizeof *recs);
		}
		rc = read_record(d, name, &recs[count], err);
		free(name);
		if (rc == BARGE_ENOTFOUND) { /* deleted since readdir */
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		count++;
	}
	closedir(dir);
	if (rc != 0) {
		barge_records_free(recs, count);
		return rc;
	}
	if (count > 1)
		qsort(recs, count, sizeof *recs, cmp_records);
	*out = recs;
	*n = count;
	return 0;
}

static int dir_get(struct barge_store *s, const char *name, struct barge_record *out,
		   struct barge_err *err)
{
	return read_record(dir_of(s), name, out, err);
}

static int dir_put(struct barge_store *s, struct barge_record *r, struct barge_err *err)
{
	struct dir_store *d = dir_of(s);
	struct barge_record cur, next;
	bool exists = false;
	int lock = -1, rc;

	rc = write_lock(d, &lock, err);
	if (rc != 0)
		return rc;
	rc = read_record(d, r->name, &cur, err);
	if (rc == 0) {
		exists = true;
	} else if (rc == BARGE_ENOTFOUND) {
		barge_err_clear(err);
		rc = 0;
	} else {
		goto done;
	}
	if ((exists ? cur.version : 0) != r->version) {
		rc = exists ? barge_err_set(err, BARGE_ESTORE_LOCKED,
					    "store: job %s changed since it was read (version "
					    "%llu, not %llu)",
					    r->name, (unsigned long long)cur.version,
					    (unsigned long long)r->version)
			    : barge_err_set(err, BARGE_ESTORE_LOCKED,
					    "store: job %s was deleted since it was read", r->name);
		goto done;
	}
	barge_record_copy(&next, r);
	next.version = r->version + 1;
	next.updated_ms = barge_store_now_ms();
	if (exists && cur.created_ms)
		next.created_ms = cur.created_ms;
	else if (!next.created_ms)
		next.created_ms = next.updated_ms;
	free(next.lease_owner);
	next.lease_owner = exists && cur.lease_owner ? barge_xstrdup(cur.lease_owner) : NULL;
	next.lease_expires_ms = exists ? cur.lease_expires_ms : 0;
	rc = write_record(d, &next, err);
	if (rc == 0) {
		/* hand back what is stored now */
		barge_record_dispose(r);
		*r = next;
	} else {
		barge_record_dispose(&next);
	}
done:
	if (exists)
		barge_record_dispose(&cur);
	close(lock);
	return rc;
}

static int dir_del(struct barge_store *s, const char *name, uint64_t version,
		   struct barge_err *err)
{
	struct dir_store *d = dir_of(s);
	struct barge_record cur;
	char *path = NULL;
	int lock = -1, rc;

	rc = write_lock(d, &lock, err);
	if (rc != 0)
		return rc;
	rc = read_record(d, name, &cur, err);
	if (rc != 0)
		goto done;
	if (version != 0 && cur.version != version) {
		rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
				   "store: job %s changed since it was read (version %llu, not "
				   "%llu)",
				   name, (unsigned long long)cur.version,
				   (unsigned long long)version);
	} else {
		path = record_path(d, name);
		if (unlink(path) != 0)
			rc = barge_err_set(err, BARGE_ESTORE, "store: remove %s: %s", path,
					   strerror(errno));
		else
			rc = sync_dir(d, err);
	}
	barge_record_dispose(&cur);
done:
	free(path);
	close(lock);
	return rc;
}

enum lease_op { LEASE_ACQUIRE, LEASE_RENEW, LEASE_RELEASE };

static int dir_lease(struct barge_store *s, enum lease_op op, const char *name, const char *owner,
		     int64_t ttl_ms, struct barge_err *err)
{
	struct dir_store *d = dir_of(s);
	struct barge_record cur;
	int64_t now = barge_store_now_ms();
	bool mine, free_now;
	int lock = -1, rc;

	rc = write_lock(d, &lock, err);
	if (rc != 0)
		return rc;
	rc = read_record(d, name, &cur, err);
	if (rc != 0)
		goto done;
	mine = cur.lease_owner && strcmp(cur.lease_owner, owner) == 0;
	free_now = !cur.lease_owner || cur.lease_expires_ms <= now;
	switch (op) {
	case LEASE_ACQUIRE:
	case LEASE_RENEW:
		if (!mine && (op == LEASE_RENEW || !free_now)) {
			if (cur.lease_owner && !free_now)
				rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
						   "job %s is leased to %s for %lld ms more", name,
						   cur.lease_owner,
						   (long long)(cur.lease_expires_ms - now));
			else
				rc = barge_err_set(err, BARGE_ESTORE_LOCKED,
						   "job %s: the lease of %s was lost%s%s", name,
						   owner, cur.lease_owner ? " to " : "",
						   cur.lease_owner ? cur.lease_owner : "");
			goto out;
		}
		free(cur.lease_owner);
		cur.lease_owner = barge_xstrdup(owner);
		cur.lease_expires_ms = now + ttl_ms;
		break;
	case LEASE_RELEASE:
		if (!mine)
			goto out;
		free(cur.lease_owner);
		cur.lease_owner = NULL;
		cur.lease_expires_ms = 0;
		break;
	}
	rc = write_record(d, &cur, err);
out:
	barge_record_dispose(&cur);
done:
	close(lock);
	return rc;
}

static int dir_lease_acquire(struct barge_store *s, const char *name, const char *owner,
			     int64_t ttl_ms, struct barge_err *err)
{
	return dir_lease(s, LEASE_ACQUIRE, name, owner, ttl_ms, err);
}

static int dir_lease_renew(struct barge_store *s, const char *name, const char *owner,
			   int64_t ttl_ms, struct barge_err *err)
{
	return dir_lease(s, LEASE_RENEW, name, owner, ttl_ms, err);
}

static int dir_lease_release(struct barge_store *s, const char *name, const char *owner,
			     struct barge_err *err)
{
	return dir_lease(s, LEASE_RELEASE, name, owner, 0, err);
}

const struct barge_store_ops barge_store_dir_ops = {
	.scheme = "dir",
	.open = dir_open,
	.lock = dir_lock,
	.list = dir_list,
	.get = dir_get,
	.put = dir_put,
	.del = dir_del,
	.lease_acquire = dir_lease_acquire,
	.lease_renew = dir_lease_renew,
	.lease_release = dir_lease_release,
	.close = dir_close,
};
