# XairrosX: `make run` boots the node image in QEMU, `make test` runs every
# test, `make bench` prints the benchmark tables. Each installs what it needs
# first (scripts/deps-*.sh: QEMU from Debian, npm packages, Go modules).

GO      ?= go
MACHINE ?= q35
MEM     ?= 256M

.PHONY: all deps build test vet run bench clean

all: build

deps:
	@for s in scripts/deps-*.sh; do \
		[ -f "$$s" ] || continue; \
		echo "== $$s"; bash "$$s" || exit 1; \
	done
	$(GO) mod download

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...

test: deps vet
	$(GO) test -count=1 -timeout 60m ./...

# Boots the default node image: the kernel's boot log, then a shell on the
# serial console (type `help`; `halt` powers off).
run: deps
	$(GO) run ./cmd/xairrosx run -machine $(MACHINE) -mem $(MEM) ./images/node

bench: deps
	@for s in scripts/bench-*.sh; do \
		[ -f "$$s" ] || continue; \
		echo "== $$s"; bash "$$s" || exit 1; \
	done

clean:
	$(GO) clean -testcache
