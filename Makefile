# edgebill. `make test` and `make demo` do their own set-up (make deps).

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/edgebill/edgebill/internal/version.Version=$(VERSION)
FUZZTIME  ?= 30s
BENCHTIME ?= 1s
CMDS      := $(shell $(GO) list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./... 2>/dev/null)


.PHONY: all build cross deps bench-compare bench-system demo soak test test-short vet fmt fuzz bench clean

all: build cross

## build: every binary into bin/, version stamped
build:
	@mkdir -p bin
	@for c in $(CMDS); do \
		echo "build $$c"; \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ $$c || exit 1; \
	done

## cross: gatewayd for the CPUs gateways use (amd64, arm64, arm, mipsle softfloat) into bin/cross/
cross:
	GO=$(GO) VERSION=$(VERSION) gateway/crossbuild.sh bin/cross

## deps: install the Debian packages tests and demo need (idempotent)
deps:
	@scripts/deps.sh

## test: the whole suite: unit, fuzz seeds, real Postgres, FreeRADIUS, netns
test: deps vet
	$(GO) test -count=1 -timeout 20m ./...

## test-short: the pure tests only (no root, no servers)
test-short:
	$(GO) test -short ./...

## vet: go vet and gofmt
vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(find . -name '*.go' -not -path './bin/*')

## fuzz: every fuzz target for FUZZTIME (default 30s) each
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || \
			{ echo "again: a short run can end in 'context deadline exceeded' (Go's fuzzer); a crasher fails twice"; \
			  $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; } || exit 1; \
		done; \
	done

## bench: every benchmark with allocations (compare runs with benchstat)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## bench-compare: side-by-side relay benchmark (root): table in bench-compare.txt
bench-compare: deps build
	scripts/bench-compare.sh $(BENCH_FLAGS)

## demo: the whole system on this machine (root), until Ctrl-C; DEMO_FLAGS="--duration 5m --subscribers 60 --keep"
demo: deps build
	bin/edgebill-lab --bin bin $(DEMO_FLAGS)

## soak: thousands of sessions through the whole chain for several minutes (root; not part of test); figures in soak.txt
soak: deps
	EDGEBILL_SOAK=1 EDGEBILL_SOAK_OUT=$(CURDIR)/soak.txt $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 60m ./lab/e2e

## bench-system: side-by-side session setup, bill ingest, reconciliation of 1M sessions (root): table in bench-system.txt
bench-system: deps
	scripts/bench-system.sh $(BENCH_SYSTEM_FLAGS)

clean:
	rm -rf bin
