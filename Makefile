# pys2i: see README.md. Every target works on a fresh Debian 12 machine once
# .ci/install-deps has run (make deps).
SHELL := /bin/bash
GO ?= go
# containers/image without cgo: openpgp instead of gpgme, no btrfs.
export GOFLAGS ?= -tags=containers_image_openpgp,exclude_graphdriver_btrfs
export PYS2I_WORLD ?= $(HOME)/.cache/pys2i/world
TESTFLAGS ?=
# Tests marked t.Parallel (most integration tests: own sandboxes, ports and
# image names) run this many at a time; 3 on 2 cores keeps both busy while
# some wait on servers and podman.
TESTPARALLEL ?= 3
BIN := bin

.PHONY: demo test unit deps world pin world-env world-up world-down lint tools bin images cluster-test

# The main job: pys2i build of the sample app on the pys2i minimal image, run it.
demo: images
	scripts/demo

deps:
	bash .ci/install-deps

tools:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/world ./test/cmd/world

# The in-image binary: static, stripped, without containers/image.
bin:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/s2i-scripts ./cmd/s2i-scripts
	@ls -l $(BIN)/s2i-scripts | awk '{printf "s2i-scripts: %.1f MB\n", $$5/1048576}'

# The test world (base images, package index, podman store): cached by recipe.
world: tools
	$(BIN)/world build

# The pys2i builder images (Containerfile) from the world's bases, offline,
# for every Python line: localhost/pys2i/python-311-{full,minimal,runtime}
# and python-313-...; the first line's are also python-{full,minimal,runtime}.
# The world's golang image builds the binary with this machine's module cache.
# python-NNN-runtime is the minimal variant on the world's runtime base
# (python-minimal + apache2-bin and the line's libpython): a --runtime-image
# for mod_wsgi apps. pys2i is the tool image of the cluster definitions
# (Containerfile.pys2i: the static pys2i, copied into a pod's volume).
IMAGES_PREFIX ?= localhost/pys2i
images: world
	@set -e; eval "$$($(BIN)/world env)"; first=; \
	for line in $$PYS2I_TEST_LINES; do \
	  tag=$${line/./}; \
	  for v in full minimal runtime; do \
	    case $$v in full) var=FULL;; minimal) var=MIN;; runtime) var=RUNTIME;; esac; \
	    base=PYS2I_TEST_$${tag}_$${var}_IMAGE; names="-t $(IMAGES_PREFIX)/python-$$tag-$$v:latest"; \
	    [ -n "$$first" ] || names="$$names -t $(IMAGES_PREFIX)/python-$$v:latest"; \
	    podman build -q --network host --build-arg GO_IMAGE=$$PYS2I_TEST_GO_IMAGE \
	      --build-arg BASE_IMAGE=$${!base} --build-arg PYTHON_VERSION=$$line --build-arg VARIANT=$${v/runtime/minimal} \
	      -v "$$($(GO) env GOMODCACHE):/go/pkg/mod" -v "$$($(GO) env GOCACHE):/root/.cache/go-build" \
	      $$names . >/dev/null; \
	    echo "built $${names//-t /}"; \
	  done; first=$$line; \
	done; \
	podman build -q --network host -f Containerfile.pys2i --build-arg GO_IMAGE=$$PYS2I_TEST_GO_IMAGE \
	  --build-arg BASE_IMAGE=$$PYS2I_TEST_MIN_IMAGE \
	  -v "$$($(GO) env GOMODCACHE):/go/pkg/mod" -v "$$($(GO) env GOCACHE):/root/.cache/go-build" \
	  -t $(IMAGES_PREFIX)/pys2i:latest . >/dev/null; \
	echo "built $(IMAGES_PREFIX)/pys2i:latest"

# Re-resolve test/world/pyindex/pins.txt into lock.json with the host's pip
# (network); the next `make world` builds the index of the new lock.
pin: tools
	$(BIN)/world pin

world-env: tools
	@$(BIN)/world env

world-up: tools
	$(BIN)/world up

world-down: tools
	@$(BIN)/world down

# Unit and integration tests. Integration tests fail (never skip) without
# the world; scripts/check-test-log fails the run on any skipped test.
test: world images
	set -o pipefail; $(GO) test -v -count=1 -timeout 40m -parallel $(TESTPARALLEL) $(TESTFLAGS) ./... 2>&1 | tee $(BIN)/test.log | scripts/test-summary
	set -o pipefail; cd cluster && $(GO) test -v -count=1 $(CLUSTER_TESTFLAGS) ./... 2>&1 | tee -a $(CURDIR)/$(BIN)/test.log | $(CURDIR)/scripts/test-summary
	scripts/check-test-log $(BIN)/test.log

# The cluster definitions' own checks alone (cluster/ is a module of its own:
# Tekton's, Shipwright's and Kubernetes' Go types stay out of pys2i's).
CLUSTER_TESTFLAGS ?=
cluster-test:
	cd cluster && $(GO) vet ./... && $(GO) test -count=1 $(CLUSTER_TESTFLAGS) ./...

unit:
	$(GO) test -count=1 $(TESTFLAGS) ./imagebuild/layer/... ./imagebuild/sandbox/... ./test/world/...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd cluster && $(GO) vet ./...
