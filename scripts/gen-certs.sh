#!/usr/bin/env bash
# Makes a local CA and a server and a client certificate signed by it.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/gen-certs.sh [--dir DIR] [--name DNSNAME ...] [--rsa] [--force] [--days N]

Makes a local certificate authority and two certificates signed by it:
  ca.crt, ca.key                    the CA (CN=secsock local CA)
  server.crt, server.key            server certificate: SAN DNS:localhost,
                                    IP:127.0.0.1, IP:::1 and each --name;
                                    extendedKeyUsage serverAuth
  server-fullchain.crt              server.crt followed by ca.crt
  client.crt, client.key            client certificate (CN=secsock client,
                                    extendedKeyUsage clientAuth)

Options:
  --dir DIR        where to write (default: certs/ in the repository)
  --name DNSNAME   add DNS:DNSNAME (or IP:ADDR for an IP literal) to the
                   server's SAN; repeatable; the first one is the CN
                   (default CN: localhost)
  --rsa            RSA-2048 keys instead of ECDSA P-256
  --force          overwrite existing files
  --days N         validity in days (default: 365)
  -h, --help       this help

Keys are written with mode 0600. Existing files are never overwritten
without --force.
EOF
}

bad_usage() {
    printf 'gen-certs.sh: %s\n' "$1" >&2
    usage >&2
    exit 2
}

dir="$SECSOCK_ROOT/certs"
alg=ec
force=0
days=365
names=()

while (($# > 0)); do
    case "$1" in
        --dir)
            (($# >= 2)) || bad_usage "--dir needs an argument"
            dir="$2"
            shift 2
            ;;
        --dir=*) dir="${1#--dir=}"; shift ;;
        --name)
            (($# >= 2)) || bad_usage "--name needs an argument"
            names+=("$2")
            shift 2
            ;;
        --name=*) names+=("${1#--name=}"); shift ;;
        --days)
            (($# >= 2)) || bad_usage "--days needs an argument"
            days="$2"
            shift 2
            ;;
        --days=*) days="${1#--days=}"; shift ;;
        --rsa) alg=rsa; shift ;;
        --force) force=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) bad_usage "unknown option: $1" ;;
    esac
done

[[ -n "$dir" ]] || bad_usage "--dir must not be empty"
[[ "$days" =~ ^[1-9][0-9]{0,5}$ ]] || bad_usage "--days wants a positive number of days, not '$days'"
for n in "${names[@]}"; do
    # A hostname (letters, digits, '-', '.', a leading '*.' wildcard) or an
    # IP literal.
    if [[ ! "$n" =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ && ! "$n" =~ ^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$ ]]; then
        bad_usage "--name '$n' is not a DNS name or IP address"
    fi
done

files=(ca.crt ca.key server.crt server.key server-fullchain.crt client.crt client.key)

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if ((force == 0)); then
    for f in "${files[@]}"; do
        if [[ -e "$dir/$f" || -L "$dir/$f" ]]; then
            printf 'gen-certs.sh: %s already exists; not overwriting it (use --force)\n' "$dir/$f" >&2
            exit 1
        fi
    done
fi

# Everything is made in a staging directory next to the destination, then
# moved into place, so a failure leaves no half-made set behind.
stage="$(mktemp -d "$dir/.gen-certs.XXXXXX")"
PKI_WORK="$stage/work"
mkdir "$PKI_WORK"
trap 'rm -rf "$stage"' EXIT

cn="${names[0]:-localhost}"
san="$(pki_san localhost 127.0.0.1 ::1)"
for n in "${names[@]}"; do
    case ",$san," in
        *",DNS:$n,"* | *",IP:$n,"*) ;; # already there
        *) san+=",$(pki_san "$n")" ;;
    esac
done

pki_ca "$stage" ca "secsock local CA" "$days" "$alg"
pki_leaf "$stage" server "$stage/ca" server "$cn" "$days" "$alg" "$san"
pki_leaf "$stage" client "$stage/ca" client "secsock client" "$days" "$alg" ""
cat "$stage/server.crt" "$stage/ca.crt" >"$stage/server-fullchain.crt"
chmod 644 "$stage/server-fullchain.crt"

for f in "${files[@]}"; do
    mv -f "$stage/$f" "$dir/$f"
done

keytype="ECDSA P-256"
[[ "$alg" == rsa ]] && keytype="RSA-2048"
printf 'gen-certs.sh: wrote %s (%s, SHA-256, %s days):\n' "$dir" "$keytype" "$days"
printf '  ca.crt ca.key                 local CA\n'
printf '  server.crt server.key         CN=%s, SAN %s\n' "$cn" "$san"
printf '  server-fullchain.crt          server.crt + ca.crt\n'
printf '  client.crt client.key         CN=secsock client (clientAuth)\n'
fp="$(pki_fingerprint "$dir/server.crt")"
printf 'server.crt SHA-256 fingerprint: %s\n' "$fp"
printf '  (to pin it instead of trusting ca.crt: tcp-client --tls --pin sha256:%s ...)\n' "$fp"
