#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432, user postgres, trust auth, database "test") and Redis
# (127.0.0.1:6379) answer, for the test suite. Starts them when installed but stopped; installs
# them from Debian packages when missing. Idempotent; never skips silently.
set -euo pipefail
sudo_cmd=""
[[ "$(id -u)" != 0 ]] && sudo_cmd="sudo"

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
apt_install() {
  ${sudo_cmd} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${sudo_cmd} apt-get install -y -qq --no-install-recommends "$@"
}

if ! pg_up; then
  installed postgresql || { echo "services: installing PostgreSQL"; apt_install postgresql; }
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  hba="/etc/postgresql/${version}/main/pg_hba.conf"
  # Trust local TCP connections: this is a test database on a development or CI machine.
  if ! grep -q "^host all all 127.0.0.1/32 trust" "${hba}"; then
    ${sudo_cmd} sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "${hba}"
  fi
  ${sudo_cmd} pg_ctlcluster --skip-systemctl-redirect "${version}" main start || \
    ${sudo_cmd} pg_ctlcluster --skip-systemctl-redirect "${version}" main reload
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "services: PostgreSQL did not start" >&2; exit 1; }
fi
if ! psql -h 127.0.0.1 -U postgres -d test -Atc "select 1" >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -c "create database test" >/dev/null
fi

if ! redis_up; then
  installed redis-server || { echo "services: installing Redis"; apt_install redis-server; }
  ${sudo_cmd} mkdir -p /var/lib/redis /var/log/redis
  ${sudo_cmd} redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/madoguchi-test.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "services: Redis did not start" >&2; exit 1; }
fi
echo "services: PostgreSQL and Redis are answering"
