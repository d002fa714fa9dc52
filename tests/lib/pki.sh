#!/usr/bin/env bash
# A throw-away PKI for the tests: tests/lib/pki.sh DIR
#
# DIR must exist (normally empty). Writes, all ECDSA P-256 unless noted:
#   ca.crt ca.key                 the test CA
#   server.crt server.key         SAN localhost, 127.0.0.1, ::1; serverAuth
#   server-fullchain.crt          server.crt + ca.crt
#   client.crt client.key         CN=secsock client; clientAuth
#   expired.crt expired.key       like server, validity entirely in the past
#   wronghost.crt wronghost.key   SAN DNS:wrong.example only
#   other-ca.crt other-ca.key     a second CA, not in ca.crt
#   unknownca.crt unknownca.key   localhost server cert signed by other-ca
#   lm3nitro.crt lm3nitro.key     SAN DNS:lm3nitro.com
#   rsa-server.crt rsa-server.key RSA-2048 localhost server cert
# Every leaf except unknownca is signed by ca. Silent on success; non-zero
# exit on any failure.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

if (($# != 1)) || [[ "$1" == -* ]]; then
    echo "usage: tests/lib/pki.sh DIR" >&2
    exit 2
fi
dir="$1"
[[ -d "$dir" ]] || die "$dir is not a directory"

PKI_WORK="$(mktemp -d "${TMPDIR:-/tmp}/secsock-pki-work.XXXXXX")"
trap 'rm -rf "$PKI_WORK"' EXIT

days=30
local_san="$(pki_san localhost 127.0.0.1 ::1)"

pki_ca "$dir" ca "secsock test CA" "$days" ec
pki_ca "$dir" other-ca "secsock other CA" "$days" ec

pki_leaf "$dir" server "$dir/ca" server localhost "$days" ec "$local_san"
cat "$dir/server.crt" "$dir/ca.crt" >"$dir/server-fullchain.crt"
pki_leaf "$dir" client "$dir/ca" client "secsock client" "$days" ec ""
pki_leaf_dated "$dir" expired "$dir/ca" server localhost \
    20200101000000Z 20200201000000Z ec "$local_san"
pki_leaf "$dir" wronghost "$dir/ca" server wrong.example "$days" ec "DNS:wrong.example"
pki_leaf "$dir" unknownca "$dir/other-ca" server localhost "$days" ec "$local_san"
pki_leaf "$dir" lm3nitro "$dir/ca" server lm3nitro.com "$days" ec "DNS:lm3nitro.com"
pki_leaf "$dir" rsa-server "$dir/ca" server localhost "$days" rsa "$local_san"

# Check what the tests rely on, so a broken PKI fails here and not as a
# puzzling test failure later.
check_verify() { # CAFILE CERT EXPECTED-SUBSTRING
    local out
    out="$(openssl verify -CAfile "$1" "$2" 2>&1 || true)"
    [[ "$out" == *"$3"* ]] || die "openssl verify $2: expected '$3', got: $out"
}
for c in server client wronghost lm3nitro rsa-server; do
    check_verify "$dir/ca.crt" "$dir/$c.crt" ": OK"
done
check_verify "$dir/other-ca.crt" "$dir/unknownca.crt" ": OK"
check_verify "$dir/ca.crt" "$dir/expired.crt" "certificate has expired"
check_verify "$dir/ca.crt" "$dir/unknownca.crt" "unable to get local issuer certificate"
