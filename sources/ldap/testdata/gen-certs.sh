#!/usr/bin/env bash
# gen-certs.sh regenerates the committed test TLS material in testdata/tls:
#   ca.crt                    the test CA (20 years; its key is discarded)
#   server.crt / server.key   slapd's and Samba's certificate, SAN localhost, dc1.example.test, 127.0.0.1
#   client.crt / client.key   a client certificate for client_cert_file tests
#   other-ca.crt              an unrelated CA, for the "wrong CA" tests
# The keys are test-only secrets: never use them outside the test suite.
set -euo pipefail
cd "$(dirname "$0")/tls"
days=7305
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ca() { # name subject
	openssl req -x509 -newkey rsa:2048 -nodes -days "$days" -sha256 \
		-subj "$2" -keyout "$1.key" -out "$1.crt" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() { # name subject extensions
	openssl req -new -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$tmp/$1.csr" 2>/dev/null
	printf '%s\n' "$3" >"$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -CAserial "$tmp/ca.srl" \
		-days "$days" -sha256 -extfile "$tmp/$1.ext" -out "$1.crt" 2>/dev/null
}

ca ca "/CN=dirbridge test CA"
leaf server "/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:dc1.example.test,IP:127.0.0.1"
leaf client "/CN=cn=reader,dc=example,dc=com" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
ca other-ca "/CN=some other CA"
rm -f other-ca.key ca.key # the CA signs only here: keep no signing key around
chmod 0644 ./*.crt
chmod 0600 ./*.key
openssl verify -CAfile ca.crt server.crt client.crt
