#!/bin/sh
# Install the Debian packages listed in scripts/deps.txt that are missing.
# As root: apt-get, non-interactive. Otherwise: print the command to run.
set -eu
here=$(dirname "$0")
missing=""
for p in $(sed -e 's/#.*//' "$here/deps.txt"); do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "cairn: missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "cairn: run as root:  apt-get update && apt-get install -y$missing"
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
