#!/usr/bin/env bash
# What `make test` needs from the machine, in one place (called by `make test` and by .ci/run):
# Python 3.11 with venv, Java 17 (Spark), Debian's chromium (browser tests), gettext, poppler's
# pdftotext and the Noto CJK fonts (PDF tests), PostgreSQL at $PG_URL and Redis at 127.0.0.1:6379.
#
# Missing packages are installed and stopped services started when the machine allows it (root with
# apt-get); otherwise it stops at once and prints the one command that fixes it. Idempotent: when
# everything is there it only checks (about a second) and installs or starts nothing.
# ENSURE_SYSTEM_CHECK_ONLY=1: only check (install and start nothing), as on a machine that does not allow it.
set -euo pipefail

PYTHON=${PYTHON:-python3.11}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
CJK_FONT=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc  # what fieldcollect.core.pdf looks for
CHROMIUM=/usr/bin/chromium  # what the browser tests launch

say() { echo "ensure-system: $*"; }
die() {
  echo "ensure-system: $1" >&2
  echo "  fix: $2" >&2
  exit 1
}
check_only() { [ -n "${ENSURE_SYSTEM_CHECK_ONLY:-}" ]; }
is_root() { [ "$(id -u)" -eq 0 ]; }
may_change() { ! check_only && is_root; }
can_apt() { may_change && command -v apt-get >/dev/null 2>&1; }
as_root() { if is_root; then echo "$*"; else echo "sudo $*"; fi; }
apt_install() {
  say "installing $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

java_major() {
  command -v java >/dev/null 2>&1 || { echo 0; return; }
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

# Debian packages for what is missing, one "package(s)<TAB>what" line each
missing_packages() {
  if ! command -v "$PYTHON" >/dev/null 2>&1 || ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
    printf '%s %s-venv\t%s with venv\n' "$PYTHON" "$PYTHON" "$PYTHON"
  fi
  [ "$(java_major)" -ge 17 ] 2>/dev/null || printf 'openjdk-17-jre-headless\tJava 17 (Spark)\n'
  [ -x "$CHROMIUM" ] || printf 'chromium\tchromium (browser tests)\n'
  command -v msgfmt >/dev/null 2>&1 || printf 'gettext\tmsgfmt (translations)\n'
  command -v pdftotext >/dev/null 2>&1 || printf 'poppler-utils\tpdftotext (PDF tests)\n'
  [ -f "$CJK_FONT" ] || [ -n "${FIELDCOLLECT_CJK_FONT:-}" ] || printf 'fonts-noto-cjk\tNoto CJK fonts (PDF tests)\n'
  command -v pg_isready >/dev/null 2>&1 && command -v psql >/dev/null 2>&1 ||
    printf 'postgresql-client\tpsql and pg_isready\n'
  command -v redis-server >/dev/null 2>&1 || printf 'redis-server\tRedis (job queue tests)\n'
  return 0
}

need=$(missing_packages)
if [ -n "$need" ]; then
  # shellcheck disable=SC2207  # package names have no spaces
  pkgs=($(cut -f1 <<<"$need"))
  if can_apt; then
    apt_install "${pkgs[@]}" || die "apt-get could not install ${pkgs[*]}" "apt-get install -y ${pkgs[*]}"
    still=$(missing_packages)
    [ -z "$still" ] || die "still missing after apt-get install: $(cut -f2 <<<"$still" | paste -sd, -)" \
      "install them by hand (Debian packages: $(cut -f1 <<<"$still" | paste -sd' ' -))"
  else
    die "missing: $(cut -f2 <<<"$need" | paste -sd, -)" "$(as_root apt-get install -y "${pkgs[@]}")"
  fi
fi

# PostgreSQL at $PG_URL
pg_ready() { PGCONNECT_TIMEOUT=3 pg_isready -q -d "$PG_URL" >/dev/null 2>&1; }
wait_for() {
  local _
  for _ in $(seq 1 30); do "$@" && return 0; sleep 1; done
  return 1
}
hostport=${PG_URL#*://}
hostport=${hostport##*@}
hostport=${hostport%%/*}
hostport=${hostport%%\?*}
pg_host=${hostport%:*}
pg_port=5432
[[ $hostport == *:* ]] && pg_port=${hostport##*:}
if ! pg_ready; then
  case "$pg_host" in 127.0.0.1 | localhost | "") local_pg=1 ;; *) local_pg=0 ;; esac
  cluster=""
  if [ "$local_pg" = 1 ] && command -v pg_lsclusters >/dev/null 2>&1; then
    cluster=$(pg_lsclusters -h 2>/dev/null | awk -v port="$pg_port" '$3 == port {print $1 " " $2 " " $4; exit}')
  fi
  if [ -n "$cluster" ]; then
    read -r ver name status <<<"$cluster"
    start="pg_ctlcluster --skip-systemctl-redirect $ver $name start"
    [ "$status" != online ] || die "PostgreSQL $ver/$name is online but does not answer at $PG_URL" \
      "$(as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" restart)"
    may_change || die "PostgreSQL $ver/$name is stopped" "$(as_root "$start")"
    say "starting PostgreSQL $ver/$name"
    $start >/dev/null
    wait_for pg_ready || die "PostgreSQL $ver/$name did not start" "$start  (log: /var/log/postgresql/)"
  elif [ "$local_pg" = 1 ] && [ -z "$(ls /etc/postgresql 2>/dev/null)" ] && can_apt; then
    # a fresh machine: install the server and let the tests' URL in (trust on loopback, database test)
    apt_install postgresql
    ver=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    grep -q "^host all all 127.0.0.1/32 trust" "$hba" ||
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main restart >/dev/null 2>&1 ||
      pg_ctlcluster --skip-systemctl-redirect "$ver" main start >/dev/null
    wait_for pg_ready || die "PostgreSQL $ver did not start" "pg_ctlcluster --skip-systemctl-redirect $ver main start"
    db=${PG_URL##*/}
    db=${db%%\?*}
    runuser -u postgres -- createdb "${db:-test}" >/dev/null 2>&1 || true
  else
    die "no PostgreSQL answers at $PG_URL" \
      "make test PG_URL=postgres://USER:PASSWORD@HOST:PORT/DATABASE  (a server where that user may create databases)"
  fi
fi
if ! err=$(PGCONNECT_TIMEOUT=5 psql "$PG_URL" -Atqc "select 1" 2>&1 >/dev/null); then
  die "PostgreSQL at $PG_URL refuses the tests: $err" \
    "make test PG_URL=postgres://USER:PASSWORD@HOST:PORT/DATABASE  (a server where that user may create databases)"
fi

# Redis at 127.0.0.1:6379 (keeps nothing on disk)
redis_up() {
  (
    exec 3<>/dev/tcp/127.0.0.1/6379 || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 || exit 1
    [[ $reply == +PONG* ]]
  ) 2>/dev/null
}
if ! redis_up; then
  start_redis="redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no --dir /tmp"
  ! check_only || die "Redis does not answer at 127.0.0.1:6379" "$start_redis"
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp >/dev/null ||
    die "Redis did not start" "$start_redis"
  wait_for redis_up || die "Redis does not answer at 127.0.0.1:6379" "$start_redis"
fi

say "ok ($PYTHON, Java $(java_major), chromium, gettext, pdftotext, CJK fonts, PostgreSQL at $pg_host:$pg_port, Redis)"
