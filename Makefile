# Comity — top-level entry points. See README.md.
#   make demo   install dependencies, build, run the main job
#   make test   install dependencies, build, run every test (unit, conformance, sanitizers, fuzz)
SHELL := /bin/bash
.DEFAULT_GOAL := build

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 20

DEB_PACKAGES := build-essential cmake ninja-build pkg-config ccache git ca-certificates \
  clang-14 libclang-rt-14-dev clang-format-14 \
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
  libssl-dev libsodium-dev libsqlite3-dev sqlite3 libpq-dev postgresql \
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libicu-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  golang-go golang-golang-x-mod-dev jq curl procps

# Only `make bench` needs these: Node.js runs the Cedar peer of the screening benchmark (its npm
# packages are pinned in bench/cedar/package-lock.json and installed there on first use).
BENCH_PACKAGES := nodejs npm

CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

.PHONY: deps build test unit-test asan-test format-check fuzz-smoke fuzz demo bench clean format

# Installs every Debian package the build, the tests and the tools need. Idempotent: apt-get
# runs only when something is missing.
deps:
	@missing=$$(for p in $(DEB_PACKAGES) $(EXTRA_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing:" $$missing; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

build:
	cmake -S . -B $(BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

unit-test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Tests again under AddressSanitizer + UndefinedBehaviorSanitizer (no benchmarks).
asan-test:
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DCOMITY_SANITIZE=ON -DCOMITY_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS) --timeout 1800

format-check:
	@files=$$(git ls-files '*.cc' '*.h'); \
	if [ -n "$$files" ]; then clang-format-14 --dry-run --Werror $$files; fi
	@echo "clang-format: clean"

format:
	clang-format-14 -i $$(git ls-files '*.cc' '*.h')

# Builds the libFuzzer targets with clang-14 and runs each for FUZZ_SECONDS over its corpus.
fuzz-build:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCOMITY_FUZZ=ON -DCOMITY_TESTS=OFF -DCOMITY_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz-smoke: fuzz-build
	scripts/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz: fuzz-build
	scripts/run-fuzzers.sh $(FUZZ_BUILD) $${FUZZ_LONG_SECONDS:-600}

test: deps
	$(MAKE) format-check
	$(MAKE) unit-test
	$(MAKE) asan-test
	$(MAKE) fuzz-smoke
	@echo "make test: all passed"

demo: deps build
	scripts/demo.sh $(BUILD)/bin/comity

bench:
	$(MAKE) deps EXTRA_PACKAGES="$(BENCH_PACKAGES)"
	$(MAKE) build
	scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
