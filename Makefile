# dirbridge. `make demo` runs the main job against a local emulator;
# `make test` runs every check CI runs.

GO       ?= go
BIN      ?= bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

.PHONY: all build test vet fmt-check demo clean bench-ldap

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

## bench-ldap: 100k users in a private slapd, dirbridge's read against ldapsearch's
bench-ldap:
	sources/ldap/bench/run.sh

clean:
	rm -rf $(BIN)
