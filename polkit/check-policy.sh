#!/bin/sh
# The generated policy is valid polkit policy XML (polkit's own DTD) and
# declares one action per action line of the permission table.
# Usage: check-policy.sh POLICY TABLE   (exit 77: skipped)
set -eu
policy=$1
table=$2
dtd=/usr/share/polkit-1/policyconfig-1.dtd
command -v xmllint >/dev/null || { echo "xmllint not found"; exit 77; }
[ -r "$dtd" ] || { echo "$dtd not found (polkitd not installed)"; exit 77; }
xmllint --noout --dtdvalid "$dtd" "$policy"
want=$(grep -c '^action ' "$table")
have=$(grep -c '<action id="org.libvirt.api\.' "$policy")
echo "actions: $have declared, $want in the table"
[ "$want" -eq "$have" ]
# Read-only permissions are open to anyone, the rest need the administrator.
ro=$(grep -c '^action [^ ]* R ' "$table")
yes=$(grep -c '<allow_any>yes</allow_any>' "$policy")
[ "$ro" -eq "$yes" ]
