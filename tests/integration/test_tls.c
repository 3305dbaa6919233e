/*
 * test_tls.c — barge against a TLS-only MariaDB (require_secure_transport=ON) whose certificates
 * are made here with the openssl command: a CA, a server certificate for 127.0.0.1 (IP SAN, so
 * the host name verifies), a client certificate, an unrelated "wrong" CA, and a certificate
 * from the right CA for another host name (for a second server, which must be refused).
 *
 * Each case runs the barge executable on a job file and asserts what it reports: `barge check`
 * for the connections (ca alone, cert+key for a REQUIRE X509 user, all three, verify: false) and
 * for the failures a user meets (a CA that did not sign the server's certificate, a key file that
 * is not there, no tls: block), each with a message naming the endpoint and the thing to fix and
 * never the password; and a full copy over TLS on both sides.  The server is started once per
 * test binary (CTest runs each case in its own process, so once per case there).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/harness.h"
#include "tests/test.h"

#define SSL_USER "tls_ssl"   /* REQUIRE SSL */
#define X509_USER "tls_x509" /* REQUIRE X509 */
#define SSL_PASSWORD "tls-Ssl-Secret-5813"
#define X509_PASSWORD "tls-X509-Secret-7741"
#define GRANTS "SELECT, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT"

static struct th_server tls_srv;
static char certs[600]; /* th_tmpdir()/certs: ca.pem, server.pem, client.pem, wrong-ca.pem... */

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		TEST_FAILF("cannot write %s", path);
}

/* The CA, the server and client certificates it signs, and an unrelated CA, in certs/. */
static void make_certs(void)
{
	char *out = NULL;
	int rc;

	snprintf(certs, sizeof certs, "%.500s/certs", th_tmpdir());
	if (th_run(&out, NULL, "mkdir -p '%s'", certs) != 0)
		TEST_FAILF("mkdir %s: %s", certs, out);
	free(out);
	write_text(certs, "server.ext",
		   "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n"
		   "extendedKeyUsage = serverAuth\n");
	write_text(certs, "other.ext",
		   "subjectAltName = DNS:db.example.com\nbasicConstraints = CA:FALSE\n"
		   "extendedKeyUsage = serverAuth\n");
	write_text(certs, "client.ext",
		   "basicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth\n");
	/* EC keys: quick to make */
#define NEWKEY "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	rc = th_run(&out, NULL,
		    "(cd '%s' && "
		    "openssl req -x509 " NEWKEY " -days 2 -subj '/CN=barge test CA' "
		    "-keyout ca.key -out ca.pem && "
		    "openssl req -x509 " NEWKEY " -days 2 -subj '/CN=unrelated CA' "
		    "-keyout wrong-ca.key -out wrong-ca.pem && "
		    "openssl req " NEWKEY " -subj '/CN=127.0.0.1' -keyout server.key -out server.csr && "
		    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		    "-extfile server.ext -out server.pem && "
		    "openssl req " NEWKEY " -subj '/CN=db.example.com' -keyout other.key -out other.csr && "
		    "openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		    "-extfile other.ext -out other.pem && "
		    "openssl req " NEWKEY " -subj '/CN=barge client' -keyout client.key -out client.csr && "
		    "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		    "-extfile client.ext -out client.pem) 2>&1",
		    certs);
#undef NEWKEY
	if (rc != 0)
		TEST_FAILF("openssl exited %d:\n%s", rc, out);
	free(out);
}

/*
 * The TLS-only server, started on first use, with users tls_ssl (REQUIRE SSL) and tls_x509
 * (REQUIRE X509) holding the seed's source grants, and a database tls_db with a small table.
 */
static const struct th_server *tls_server(void)
{
	static bool started;
	char ca[700], cert[700], key[700], err[512];
	MYSQL *c;

	if (started)
		return &tls_srv;
	make_certs();
	snprintf(ca, sizeof ca, "--ssl-ca=%s/ca.pem", certs);
	snprintf(cert, sizeof cert, "--ssl-cert=%s/server.pem", certs);
	snprintf(key, sizeof key, "--ssl-key=%s/server.key", certs);
	th_start_server(&tls_srv, "tls", "source", ca, cert, key, "--require-secure-transport=ON",
			NULL);
	/* the fixture itself: a plain-text login is refused */
	c = th_try_connect(&tls_srv, tls_srv.admin_user, tls_srv.admin_password, NULL, err,
			   sizeof err);
	if (c)
		TEST_FAILF("the TLS-only server accepted a plain-text connection");
	snprintf(tls_srv.tls_ca, sizeof tls_srv.tls_ca, "%s/ca.pem", certs);
	c = th_connect(&tls_srv, NULL);
	th_exec(c, "CREATE USER '" SSL_USER "'@'%%' IDENTIFIED BY '" SSL_PASSWORD "' REQUIRE SSL");
	th_exec(c, "GRANT " GRANTS " ON *.* TO '" SSL_USER "'@'%%'");
	th_exec(c, "CREATE USER '" X509_USER "'@'%%' IDENTIFIED BY '" X509_PASSWORD
		   "' REQUIRE X509");
	th_exec(c, "GRANT " GRANTS " ON *.* TO '" X509_USER "'@'%%'");
	th_exec(c, "CREATE DATABASE tls_db");
	th_exec(c, "CREATE TABLE tls_db.t (id INT PRIMARY KEY, v VARCHAR(20)) CHARSET utf8mb4 "
		   "COLLATE utf8mb4_bin");
	th_exec(c, "INSERT INTO tls_db.t VALUES (1, 'one'), (2, 'two'), (3, NULL)");
	mysql_close(c);
	started = true;
	return &tls_srv;
}

/*
 * Write job NAME.yaml in th_tmpdir(): both endpoints on the TLS server, the source as src_user
 * with src_tls (a YAML flow map, or NULL for no tls: block), the target as the seed's target
 * user with tgt_tls; tls_db is copied to tls_db_copy.  Relative paths in the maps are relative
 * to th_tmpdir(), so "certs/ca.pem" names the CA.  Returns the path (static storage).
 */
static const char *write_job_from(const struct th_server *src, const char *name,
				  const char *mode, const char *src_user, const char *src_tls,
				  const char *tgt_tls)
{
	const struct th_server *s = tls_server();
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.yaml", th_tmpdir(), name);
	f = fopen(path, "w");
	if (!f)
		TEST_FAILF("cannot write %s", path);
	fprintf(f,
		"apiVersion: barge/v1\nkind: MigrationJob\nmetadata: {name: %s}\nspec:\n"
		"  mode: %s\n"
		"  source: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_SRC}\"%s%s}\n"
		"  target: {host: 127.0.0.1, port: %u, user: %s, password: \"${env:BARGE_T_TGT}\"%s%s}\n"
		"  objects: {allow: [{schema: tls_db}]}\n"
		"  routes: [{from: {schema: tls_db}, to: {schema: tls_db_copy}}]\n",
		name, mode, src->port, src_user, src_tls ? ", tls: " : "", src_tls ? src_tls : "",
		s->port, s->tgt_user, tgt_tls ? ", tls: " : "", tgt_tls ? tgt_tls : "");
	fclose(f);
	return path;
}

static const char *write_job(const char *name, const char *mode, const char *src_user,
			     const char *src_tls, const char *tgt_tls)
{
	return write_job_from(tls_server(), name, mode, src_user, src_tls, tgt_tls);
}

static struct th_server other_srv; /* TLS with a certificate for db.example.com */

static const char *password_of(const char *user)
{
	if (other_srv.port && strcmp(user, other_srv.src_user) == 0)
		return other_srv.src_password;
	return strcmp(user, X509_USER) == 0 ? X509_PASSWORD : SSL_PASSWORD;
}

/* The environment with both passwords; the buffers are static. */
static const char *const *password_env(const char *src_user)
{
	static char e1[128], e2[128];
	static const char *env[] = {e1, e2, NULL};

	snprintf(e1, sizeof e1, "BARGE_T_SRC=%s", password_of(src_user));
	snprintf(e2, sizeof e2, "BARGE_T_TGT=%s", tls_server()->tgt_password);
	return env;
}

struct check {
	int status;            /* barge check's exit status */
	char *raw;             /* its whole output */
	json_t *doc;           /* parsed */
	const char *src_state, *src_msg, *tgt_state, *tgt_msg; /* the two connect items */
};


/* Run `barge check --json` on a job whose source logs in as src_user. */
static void run_check(const char *path, const char *src_user, struct check *r)
{
	json_error_t jerr;

	memset(r, 0, sizeof *r);
	r->status = th_run(&r->raw, password_env(src_user), "'%s' check --json '%s'",
			   th_barge_bin(), path);
	r->doc = json_loads(r->raw, 0, &jerr);
	if (!r->doc)
		TEST_FAILF("barge check exited %d with output that is not JSON (%s):\n%s", r->status,
			   jerr.text, r->raw);
	r->src_state = json_string_value(json_object_get(th_check_item(r->doc, "source-connect"), "state"));
	r->src_msg = json_string_value(json_object_get(th_check_item(r->doc, "source-connect"), "message"));
	r->tgt_state = json_string_value(json_object_get(th_check_item(r->doc, "target-connect"), "state"));
	r->tgt_msg = json_string_value(json_object_get(th_check_item(r->doc, "target-connect"), "message"));
	/* whatever happened, no password reaches the output */
	ASSERT_NOT_CONTAINS(r->raw, SSL_PASSWORD);
	ASSERT_NOT_CONTAINS(r->raw, X509_PASSWORD);
	ASSERT_NOT_CONTAINS(r->raw, tls_server()->tgt_password);
}

static void check_dispose(struct check *r)
{
	json_decref(r->doc);
	free(r->raw);
}

/* Both sides connected over TLS and every item passed: exit 0. */
static void assert_connects(const char *name, const char *src_user, const char *src_tls,
			    const char *tgt_tls)
{
	struct check r;
	char where[64];

	run_check(write_job(name, "full", src_user, src_tls, tgt_tls), src_user, &r);
	snprintf(where, sizeof where, "connected to source 127.0.0.1:%u", tls_server()->port);
	ASSERT_EQ_STR(r.src_state, "pass");
	ASSERT_CONTAINS(r.src_msg, where);
	ASSERT_EQ_STR(r.tgt_state, "pass");
	if (r.status != 0)
		TEST_FAILF("barge check exited %d:\n%s", r.status, r.raw);
	check_dispose(&r);
}

TEST(ca_alone_connects)
{
	assert_connects("tls-ca", SSL_USER, "{ca: certs/ca.pem}", "{ca: certs/ca.pem}");
}

TEST(client_certificate_connects_a_require_x509_user)
{
	assert_connects("tls-cert", X509_USER, "{cert: certs/client.pem, key: certs/client.key}",
			"{ca: certs/ca.pem}");
}

TEST(ca_cert_and_key_connect)
{
	char tls[1500];

	/* absolute paths work as well as relative ones */
	snprintf(tls, sizeof tls,
		 "{ca: %s/certs/ca.pem, cert: %s/certs/client.pem, key: %s/certs/client.key}",
		 th_tmpdir(), th_tmpdir(), th_tmpdir());
	assert_connects("tls-all", X509_USER, tls, "{ca: certs/ca.pem}");
}

TEST(wrong_ca_fails_naming_the_certificate_and_the_endpoint)
{
	struct check r;
	char where[64];

	run_check(write_job("tls-wrong-ca", "full", SSL_USER, "{ca: certs/wrong-ca.pem}",
			    "{ca: certs/ca.pem}"),
		  SSL_USER, &r);
	ASSERT_EQ_INT(r.status, 1);
	ASSERT_EQ_STR(r.src_state, "failed");
	ASSERT_CONTAINS(r.src_msg, "The TLS settings are not valid or the server certificate could "
				   "not be verified.");
	snprintf(where, sizeof where, "source 127.0.0.1:%u", tls_server()->port);
	ASSERT_CONTAINS(r.src_msg, where);
	ASSERT_CONTAINS(r.src_msg, "certificate in certificate chain"); /* OpenSSL's reason */
	ASSERT_CONTAINS(r.src_msg, "spec.source.tls.ca");
	ASSERT_CONTAINS(r.src_msg, "certs/wrong-ca.pem");
	ASSERT_EQ_STR(r.tgt_state, "pass");
	check_dispose(&r);
}

TEST(wrong_ca_connects_with_verify_false)
{
	assert_connects("tls-noverify", SSL_USER, "{ca: certs/wrong-ca.pem, verify: false}",
			"{ca: certs/wrong-ca.pem, verify: false}");
}

TEST(missing_key_file_is_named_before_connecting)
{
	struct check r;
	char path[700];

	run_check(write_job("tls-no-key", "full", X509_USER,
			    "{cert: certs/client.pem, key: certs/nosuch.key}", "{ca: certs/ca.pem}"),
		  X509_USER, &r);
	ASSERT_EQ_INT(r.status, 1);
	ASSERT_EQ_STR(r.src_state, "failed");
	ASSERT_CONTAINS(r.src_msg, "The TLS settings are not valid");
	snprintf(path, sizeof path, "spec.source.tls.key: cannot read %s/certs/nosuch.key: No such "
				    "file or directory", th_tmpdir());
	ASSERT_CONTAINS(r.src_msg, path);
	ASSERT_EQ_STR(r.tgt_state, "pass");
	check_dispose(&r);
}

TEST(no_tls_block_against_a_tls_only_server_says_so)
{
	struct check r;
	char where[64];

	run_check(write_job("tls-plain", "full", SSL_USER, NULL, "{ca: certs/ca.pem}"), SSL_USER,
		  &r);
	ASSERT_EQ_INT(r.status, 1);
	ASSERT_EQ_STR(r.src_state, "failed");
	ASSERT_CONTAINS(r.src_msg, "Failed to connect to the source database using given "
				   "parameters. Please make sure the source database is up and can "
				   "be connected using the given parameters.");
	snprintf(where, sizeof where, "source 127.0.0.1:%u as " SSL_USER, tls_server()->port);
	ASSERT_CONTAINS(r.src_msg, where);
	ASSERT_CONTAINS(r.src_msg, "(1045)");
	ASSERT_CONTAINS(r.src_msg, "requires TLS");
	ASSERT_CONTAINS(r.src_msg, "add a tls: block");
	check_dispose(&r);
}

TEST(require_x509_user_without_client_certificate_gets_a_hint)
{
	struct check r;

	run_check(write_job("tls-x509-ca-only", "full", X509_USER, "{ca: certs/ca.pem}",
			    "{ca: certs/ca.pem}"),
		  X509_USER, &r);
	ASSERT_EQ_INT(r.status, 1);
	ASSERT_EQ_STR(r.src_state, "failed");
	ASSERT_CONTAINS(r.src_msg, "(1045)");
	ASSERT_CONTAINS(r.src_msg, "REQUIRE X509");
	ASSERT_CONTAINS(r.src_msg, "add tls.cert and tls.key");
	check_dispose(&r);
}

TEST(target_wrong_ca_and_no_tls_fail_naming_the_target)
{
	struct check r;
	char where[64];

	snprintf(where, sizeof where, "target 127.0.0.1:%u", tls_server()->port);
	run_check(write_job("tls-tgt-wrong-ca", "full", SSL_USER, "{ca: certs/ca.pem}",
			    "{ca: certs/wrong-ca.pem}"),
		  SSL_USER, &r);
	ASSERT_EQ_INT(r.status, 1);
	ASSERT_EQ_STR(r.src_state, "pass");
	ASSERT_EQ_STR(r.tgt_state, "failed");
	ASSERT_CONTAINS(r.tgt_msg, "The TLS settings are not valid or the server certificate could "
				   "not be verified.");
	ASSERT_CONTAINS(r.tgt_msg, where);
	ASSERT_CONTAINS(r.tgt_msg, "spec.target.tls.ca");
	check_dispose(&r);

	run_check(write_job("tls-tgt-plain", "full", SSL_USER, "{ca: certs/ca.pem}", NULL),
		  SSL_USER, &r);
	ASSERT_EQ_INT(r.status, 1);
	ASSERT_EQ_STR(r.tgt_state, "failed");
	ASSERT_CONTAINS(r.tgt_msg, "Failed to connect to the TiDB cluster using the given user and "
				   "password.");
	ASSERT_CONTAINS(r.tgt_msg, where);
	ASSERT_CONTAINS(r.tgt_msg, "add a tls: block");
	check_dispose(&r);
}

/*
 * A server whose certificate comes from the right CA but names another host (db.example.com,
 * reached as 127.0.0.1): verifying tls.ca includes the host name, so it is refused, naming the
 * endpoint; with verify: false it connects.
 */
TEST(a_certificate_for_another_host_is_refused)
{
	char ca[700], cert[700], key[700], where[64];
	struct check r;

	tls_server(); /* the certificates */
	snprintf(ca, sizeof ca, "--ssl-ca=%s/ca.pem", certs);
	snprintf(cert, sizeof cert, "--ssl-cert=%s/other.pem", certs);
	snprintf(key, sizeof key, "--ssl-key=%s/other.key", certs);
	th_start_server(&other_srv, "tls-other", "source", ca, cert, key, NULL);
	snprintf(where, sizeof where, "source 127.0.0.1:%u", other_srv.port);

	run_check(write_job_from(&other_srv, "tls-other-host", "full", other_srv.src_user,
				 "{ca: certs/ca.pem}", "{ca: certs/ca.pem}"),
		  other_srv.src_user, &r);
	ASSERT_EQ_INT(r.status, 1);
	ASSERT_EQ_STR(r.src_state, "failed");
	ASSERT_CONTAINS(r.src_msg, "The TLS settings are not valid or the server certificate could "
				   "not be verified.");
	ASSERT_CONTAINS(r.src_msg, where);
	ASSERT_CONTAINS(r.src_msg, "spec.source.tls.ca");
	/* the same CA signs the first server's certificate, which passes: it is the name */
	ASSERT_CONTAINS(r.src_msg, "Validation of SSL server certificate failed");
	ASSERT_CONTAINS(r.src_msg, "for host 127.0.0.1");
	ASSERT_NOT_CONTAINS(r.raw, other_srv.src_password);
	ASSERT_EQ_STR(r.tgt_state, "pass");
	check_dispose(&r);

	run_check(write_job_from(&other_srv, "tls-other-host-noverify", "full", other_srv.src_user,
				 "{ca: certs/ca.pem, verify: false}", "{ca: certs/ca.pem}"),
		  other_srv.src_user, &r);
	ASSERT_EQ_STR(r.src_state, "pass");
	ASSERT_CONTAINS(r.src_msg, where);
	check_dispose(&r);
}

TEST(full_copy_runs_over_tls_on_both_sides)
{
	const struct th_server *s = tls_server();
	char *out = NULL;
	int rc;

	rc = th_run(&out, password_env(X509_USER), "'%s' run --once '%s'", th_barge_bin(),
		    write_job("tls-full", "full", X509_USER,
			      "{ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key}",
			      "{ca: certs/ca.pem}"));
	if (rc != 0)
		TEST_FAILF("barge run exited %d:\n%s", rc, out);
	ASSERT_NOT_CONTAINS(out, X509_PASSWORD);
	ASSERT_NOT_CONTAINS(out, s->tgt_password);
	free(out);
	ASSERT_EQ_INT(th_compare_tables(s, "tls_db", "t", s, "tls_db_copy", "t"), 3);
}

TEST_MAIN()
