#!/usr/bin/env bash
# Install the Debian packages listed in packaging/apt-packages.txt that are missing.
# Usage: system-deps.sh all|test|bench   (test and bench also install the "all" packages)
# Idempotent: runs apt-get only when at least one package is missing.
set -euo pipefail
want="${1:-all}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
missing=()
while read -r purpose pkg command _; do
  [[ -z "${purpose}" || "${purpose}" == \#* ]] && continue
  if [[ "${purpose}" == "all" || "${purpose}" == "${want}" ]]; then
    # A third column names a command that, when already on PATH, satisfies the need
    # (e.g. npm from a Node.js installed outside Debian's packages).
    if [[ -n "${command}" && "${command}" != \#* ]] && command -v "${command}" >/dev/null 2>&1; then
      continue
    fi
    if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("${pkg}")
    fi
  fi
done < "${here}/packaging/apt-packages.txt"
# Debian's own python3 needs python3-venv to create the virtual environment.
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  missing+=("python3-venv")
fi
if (( ${#missing[@]} )); then
  echo "system-deps: installing ${missing[*]}"
  sudo_cmd=""
  [[ "$(id -u)" != 0 ]] && sudo_cmd="sudo"
  ${sudo_cmd} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${sudo_cmd} apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
