# dirbridge. `make demo` runs the main job against a local emulator;
# `make test` runs every check CI runs.

GO       ?= go
BIN      ?= bin
PREFIX   ?= /usr/local
DESTDIR  ?=
UNITDIR  ?= /etc/systemd/system
CONFDIR  ?= /etc/dirbridge
UNITS    := dirbridge.service dirbridge-dry-run.service dirbridge-dry-run.timer
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

.PHONY: all build test vet fmt-check demo clean bench bench-ldap install uninstall

all: build

## build: the dirbridge and bwemu (Bitwarden emulator) binaries, into ./bin
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/dirbridge ./cmd/dirbridge
	$(GO) build -trimpath -o $(BIN)/bwemu ./cmd/bwemu

## test: formatting, vet, and every test (real slapd, Samba AD, SCIM server and emulator)
test: fmt-check vet
	$(GO) test -count=1 -timeout 40m ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## demo: emulated organization + sample directory: dry-run, sync, dry-run again
demo: build
	./cmd/dirbridge/demo/demo.sh $(BIN)

## bench: planning at a million users, then dirbridge end to end (first sync under the
## cloud's limits, no-op and churn syncs of 100k LDAP users) against their targets
bench:
	cmd/dirbridge/bench/run.sh

## bench-ldap: 100k users in a private slapd, dirbridge's read against ldapsearch's
bench-ldap:
	sources/ldap/bench/run.sh

## install: the binary, the systemd units, and a configuration to edit unless one exists
install: build
	install -D -m 0755 $(BIN)/dirbridge $(DESTDIR)$(PREFIX)/bin/dirbridge
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	for u in $(UNITS); do \
		sed 's#/usr/local/bin/dirbridge#$(PREFIX)/bin/dirbridge#g' systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	test -e $(DESTDIR)$(CONFDIR)/config.yaml || install -m 0644 config.example.yaml $(DESTDIR)$(CONFDIR)/config.yaml
	@echo "Next: put the organization's API key secret in $(CONFDIR)/bw-client-secret (mode 0600),"
	@echo "edit $(CONFDIR)/config.yaml, then: systemctl daemon-reload && systemctl enable --now dirbridge"

## uninstall: remove the binary and the units (the configuration and /var/lib/dirbridge stay)
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/dirbridge $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))

clean:
	rm -rf $(BIN)
