#!/usr/bin/env bash
# The hotfix.fleet collection as users get it: built into a tarball, installed from it with
# no network, every module documented (ansible-doc, warnings are errors), every playbook
# parsed (ansible-playbook --syntax-check). ansible-test sanity needs the network; this is
# the gate instead (docs/testing.md).
#   check_collection.sh SOURCE_DIR
set -euo pipefail
src="$1/ansible/ansible_collections/hotfix/fleet"
if ! command -v ansible-galaxy >/dev/null; then
  echo "SKIPPED: ansible-core is not installed (scripts/setup.sh)"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ANSIBLE_HOME="$work/home" ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_NOCOLOR=1
unset ANSIBLE_COLLECTIONS_PATH

ansible-galaxy collection build "$src" --output-path "$work" >/dev/null
tarball=$(ls "$work"/hotfix-fleet-*.tar.gz)
echo "built $(basename "$tarball") ($(stat -c %s "$tarball") bytes)"
if tar -tzf "$tarball" | grep -E '__pycache__|\.pyc$'; then
  echo "FAILED: the tarball holds compiled Python" >&2
  exit 1
fi
ansible-galaxy collection install "$tarball" -p "$work/collections" --offline >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
ansible-galaxy collection list hotfix.fleet -p "$work/collections" | grep -q "hotfix.fleet *0.1.0"

failed=0
modules=$(cd "$src/plugins/modules" && ls ./*.py | sed 's|^\./||; s|\.py$||')
for m in $modules; do
  if ! out=$(ansible-doc "hotfix.fleet.$m" 2>&1) || grep -qE "WARNING|ERROR" <<<"$out"; then
    echo "FAILED: ansible-doc hotfix.fleet.$m:" >&2
    echo "$out" | head -20 >&2
    failed=1
  else
    echo "ansible-doc hotfix.fleet.$m: $(grep -c . <<<"$out") lines"
  fi
done
listed=$(ansible-doc -t module -l hotfix.fleet 2>/dev/null | awk '{print $1}' | sort)
expected=$(for m in $modules; do echo "hotfix.fleet.$m"; done | sort)
if [ "$listed" != "$expected" ]; then
  echo "FAILED: ansible-doc -l lists $listed, expected $expected" >&2
  failed=1
fi

printf 'localhost ansible_connection=local\n' > "$work/inventory"
for p in "$src"/playbooks/*.yml; do
  name=$(basename "$p" .yml)
  if ! out=$(ansible-playbook -i "$work/inventory" --syntax-check "hotfix.fleet.$name" \
      -e '{"hotfix_ids": ["KB967131"]}' 2>&1); then
    echo "FAILED: ansible-playbook --syntax-check hotfix.fleet.$name:" >&2
    echo "$out" >&2
    failed=1
  else
    echo "syntax-check hotfix.fleet.$name: ok"
  fi
done
exit "$failed"
