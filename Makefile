# Thin wrapper around CMake. `make run` and `make test` are the two commands the README promises.
BUILD      ?= build
ASAN_BUILD ?= build/asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
LISTEN     ?= 127.0.0.1:8080
DATA_DIR   ?= ./var

PREFIX     ?= /usr/local

.PHONY: all deps build asan run test test-deps unit install fuzz fuzz-build clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIAMD_TESTS=OFF

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DIAMD_SANITIZE=ON -DIAMD_TESTS=ON \
	  -DIAMD_FUZZ_SMOKE_DIR=$(abspath $(FUZZ_BUILD))

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

run: build
	./$(BUILD)/iamd --listen $(LISTEN) --data-dir $(DATA_DIR)

# Node dependencies of the test suites, installed once before ctest runs the suites in
# parallel (two suites share tests/api/node_modules).
test-deps:
	@for dir in tests/api tests/e2e; do \
	  stamp=$$dir/node_modules/.package-lock.json; \
	  if [ ! -f $$stamp ] || [ $$dir/package-lock.json -nt $$stamp ]; then \
	    (cd $$dir && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	  fi; \
	done

# Every test runs against the sanitizer build; the fuzz targets (clang, build/fuzz) are built
# first so that ctest's fuzz/* tests can run each for a few seconds (cmake/fuzz.cmake).
test: asan fuzz-build test-deps
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j 2

unit: asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -R '^unit/'

# Installs iamd and iamctl, the iamctl man page and its bash completion.
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)
	install -D -m 0644 docs/iamctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/iamctl.1
	install -D -m 0644 scripts/iamctl-completion.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/iamctl

FUZZ_BUILD   ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_OUT     ?= $(FUZZ_BUILD)/fuzz-out

$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIAMD_FUZZ=ON -DIAMD_TESTS=OFF

fuzz-build: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) --target fuzzers -j $(JOBS)

# Every libFuzzer target for FUZZ_SECONDS each; new inputs go to FUZZ_OUT, never the repo.
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_OUT=$(FUZZ_OUT) scripts/fuzz-smoke.sh $(FUZZ_BUILD)

clean:
	rm -rf $(BUILD)
