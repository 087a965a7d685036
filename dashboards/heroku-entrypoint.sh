#!/bin/sh
# Starts Metabase on a Heroku web dyno (container stack). It is the image's ENTRYPOINT.
#
#   PORT          (set by Heroku)        -> MB_JETTY_PORT; without it the router answers H10.
#   DATABASE_URL  (set by the Postgres   -> MB_DB_CONNECTION_URI, JDBC with sslmode=require.
#                  add-on)                  Metabase does not read DATABASE_URL itself. Deriving it
#                                           at every boot means a credential rotation by Heroku
#                                           (which updates DATABASE_URL and restarts the dyno)
#                                           needs nothing else; stale MB_DB_* vars are ignored.
#   JAVA_HEAP     (set by Pulumi from    -> JVM heap flags (e.g. -Xmx672m). Several flags may be
#                  the dyno size)           given, separated by spaces.
#   JAVA_OPTS     (optional)             -> extra JVM flags.
#   METABASE_JAR  (optional)             -> the jar to run (default /app/metabase.jar).
#
# There is no /app/run_metabase.sh in current images: java is started directly.
# Arguments given to the container are passed on to Metabase.
set -eu

die() {
	echo "heroku-entrypoint: $*" >&2
	exit 1
}

# Prints the JDBC URL for a postgres:// or postgresql:// URL given on stdin. User, password and
# database name are percent-decoded, then user and password are percent-encoded again as JDBC
# query parameters (the driver URL-decodes them, so every byte outside [A-Za-z0-9._~-] is
# escaped, including '+'). Exits 2 (printing nothing) if the URL cannot be parsed. The URL holds a
# password: it is read from stdin, never from the command line, and never echoed.
jdbc_from_database_url() {
	LC_ALL=C awk '
	function hexval(c) { return index("0123456789abcdef", tolower(c)) - 1 }
	function decode(s,    out, i, c, h, l) {
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "%") {
				h = hexval(substr(s, i + 1, 1)); l = hexval(substr(s, i + 2, 1))
				if (h < 0 || l < 0) { bad = 1; return "" }
				out = out sprintf("%c", h * 16 + l); i += 2
			} else out = out c
		}
		return out
	}
	function encode(s,    out, i, c) {
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c ~ /[A-Za-z0-9._~-]/) out = out c
			else out = out sprintf("%%%02X", ord[c])
		}
		return out
	}
	BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
	NR > 1 { bad = 1 }
	NR == 1 { url = $0 }
	END {
		if (bad || url == "") exit 2
		if (sub(/^postgres(ql)?:\/\//, "", url) != 1) exit 2
		q = index(url, "?"); if (q) url = substr(url, 1, q - 1)
		slash = index(url, "/"); if (!slash) exit 2
		authority = substr(url, 1, slash - 1); db = substr(url, slash + 1)
		# userinfo ends at the last "@" (an unescaped "@" cannot occur in the host)
		at = 0
		for (i = length(authority); i > 0; i--) if (substr(authority, i, 1) == "@") { at = i; break }
		if (!at) exit 2
		userinfo = substr(authority, 1, at - 1); hostport = substr(authority, at + 1)
		colon = index(userinfo, ":"); if (!colon) exit 2
		user = decode(substr(userinfo, 1, colon - 1)); pass = decode(substr(userinfo, colon + 1))
		db = decode(db)
		port = "5432"; host = hostport
		colon = index(hostport, ":")
		if (colon) { host = substr(hostport, 1, colon - 1); port = substr(hostport, colon + 1) }
		if (bad || host == "" || db == "" || user == "" || port !~ /^[0-9]+$/) exit 2
		printf "jdbc:postgresql://%s:%s/%s?sslmode=require&user=%s&password=%s\n", \
			host, port, encode(db), encode(user), encode(pass)
	}'
}

[ -n "${PORT:-}" ] || die "PORT is not set; Heroku sets it on web dynos (run this image as a web process)"
export MB_JETTY_HOST=0.0.0.0
export MB_JETTY_PORT="$PORT"

if [ -n "${DATABASE_URL:-}" ]; then
	uri=$(printf '%s\n' "$DATABASE_URL" | jdbc_from_database_url) ||
		die "DATABASE_URL is not a postgres://user:password@host:port/dbname URL (value not shown); check the heroku-postgresql add-on"
	export MB_DB_TYPE=postgres
	export MB_DB_CONNECTION_URI="$uri"
	# Hand-set connection vars would go stale on the next rotation: the derived URI is the only one.
	unset MB_DB_HOST MB_DB_PORT MB_DB_DBNAME MB_DB_USER MB_DB_PASS MB_DB_SSL
elif [ -z "${MB_DB_CONNECTION_URI:-}" ] && [ -z "${MB_DB_HOST:-}" ]; then
	die "no application database: attach the heroku-postgresql add-on (DATABASE_URL). Refusing to start on Metabase's default H2 file, which a dyno restart would erase"
fi

heap="${JAVA_HEAP:--Xmx672m}" # fallback sized for the smallest allowed dyno (standard-2x, 1 GB)
jar="${METABASE_JAR:-/app/metabase.jar}"
cd "$(dirname "$jar")"

set -f # the flag lists below are split on spaces on purpose; never glob them
# shellcheck disable=SC2086
exec java $heap ${JAVA_OPTS:-} -Xss512k -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -jar "$jar" "$@"
